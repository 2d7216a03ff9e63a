// The ripcord extension: the runbook language (file type, grammar, brackets, comments) is declared in
// package.json; this file starts `ripcord lsp` for runbook documents and stops it with the editor.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

export async function activate(_context: vscode.ExtensionContext): Promise<void> {
  const command = vscode.workspace.getConfiguration("ripcord").get<string>("path") || "ripcord";
  const serverOptions: ServerOptions = { command, args: ["lsp"], transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "runbook" },
      { scheme: "untitled", language: "runbook" },
    ],
  };
  client = new LanguageClient("ripcord", "ripcord", serverOptions, clientOptions);
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
