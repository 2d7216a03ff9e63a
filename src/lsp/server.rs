//! The protocol side: open documents, debounced analysis on blocking threads, and one handler per LSP
//! request, each a thin adapter over the feature files (`hover`, `complete`, `edits`, `symbols`).
//!
//! Changes are debounced by coalescing: a document has at most one analysis in flight. A change that finds
//! none starts one at once (so a lone edit is analysed without delay); changes that arrive while one runs
//! are merged, and the newest text is analysed when it ends. Only the diagnostics of the current version are
//! published.
//!
//! INVARIANT: the task that serves stdio never compiles: every analysis runs under `spawn_blocking`, and a
//! request waits for it without holding a lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::analysis::Analysis;
use super::{complete, edits, engine, hover, symbols};

/// The command a code lens runs: the whole simulation timeline.
const SIMULATE_COMMAND: &str = "ripcord.simulate";

struct Document {
    version: i32,
    text: Arc<String>,
    analysis: Option<Arc<Analysis>>,
    /// An analysis for publishing is running (see the module's note on debouncing).
    analysing: bool,
}

pub struct Backend {
    client: Client,
    documents: Arc<Mutex<HashMap<Uri, Document>>>,
}

impl Backend {
    pub fn new(client: Client) -> Backend {
        Backend { client, documents: Arc::new(Mutex::new(HashMap::new())) }
    }

    fn store(&self, uri: &Uri, version: i32, text: String) {
        if let Ok(mut docs) = self.documents.lock() {
            let (analysis, analysing) = docs.remove(uri).map_or((None, false), |d| (d.analysis, d.analysing));
            docs.insert(uri.clone(), Document { version, text: Arc::new(text), analysis, analysing });
        }
    }

    /// Makes sure the document's newest version gets analysed and its diagnostics published.
    fn schedule(&self, uri: Uri) {
        match self.documents.lock() {
            Ok(mut docs) => match docs.get_mut(&uri) {
                Some(d) if !d.analysing => d.analysing = true,
                _ => return,
            },
            Err(_) => return,
        }
        let client = self.client.clone();
        let documents = Arc::clone(&self.documents);
        tokio::spawn(async move {
            loop {
                let Some((version, text)) =
                    documents.lock().ok().and_then(|d| d.get(&uri).map(|d| (d.version, Arc::clone(&d.text))))
                else {
                    return;
                };
                let path = uri.to_file_path().map(|p| p.into_owned());
                let work = move || Analysis::new(text.as_ref().clone(), version, path.as_deref());
                let analysis = tokio::task::spawn_blocking(work).await.ok().map(Arc::new);
                let current = {
                    let Ok(mut docs) = documents.lock() else { return };
                    let Some(d) = docs.get_mut(&uri) else { return };
                    if let Some(a) = &analysis
                        && d.analysis.as_ref().is_none_or(|old| old.version < version)
                    {
                        d.analysis = Some(Arc::clone(a));
                    }
                    if d.version == version || analysis.is_none() {
                        d.analysing = false;
                    }
                    d.version
                };
                let Some(analysis) = analysis else { return };
                if current != version {
                    continue;
                }
                if let Some(e) = &analysis.config_error {
                    client.log_message(MessageType::WARNING, format!("lint configuration not used: {e}")).await;
                }
                client.publish_diagnostics(uri.clone(), analysis.diagnostics(&uri), Some(version)).await;
                // The syntax tree and index, ready for the requests that follow an edit.
                let _ = tokio::task::spawn_blocking(move || analysis.index().occurrences.len()).await;
                return;
            }
        });
    }

    /// The current version's analysis, with its syntax tree, index and plan built (on a blocking thread).
    async fn analysis(&self, uri: &Uri) -> Result<Arc<Analysis>> {
        let a =
            analysed(&self.documents, uri).await.ok_or_else(|| Error::invalid_params("the document is not open"))?;
        let worker = Arc::clone(&a);
        tokio::task::spawn_blocking(move || worker.prepare()).await.map_err(|_| Error::internal_error())?;
        Ok(a)
    }
}

/// The analysis of the document's current version: the stored one, or a new one computed on a blocking
/// thread. `None` when the document is not open.
async fn analysed(documents: &Mutex<HashMap<Uri, Document>>, uri: &Uri) -> Option<Arc<Analysis>> {
    let (version, text, done) = {
        let docs = documents.lock().ok()?;
        let d = docs.get(uri)?;
        (d.version, Arc::clone(&d.text), d.analysis.clone().filter(|a| a.version == d.version))
    };
    if let Some(done) = done {
        return Some(done);
    }
    let path = uri.to_file_path().map(|p| p.into_owned());
    let analysis = tokio::task::spawn_blocking(move || Analysis::new(text.as_ref().clone(), version, path.as_deref()))
        .await
        .ok()
        .map(Arc::new)?;
    if let Ok(mut docs) = documents.lock()
        && let Some(d) = docs.get_mut(uri)
        && d.analysis.as_ref().is_none_or(|a| a.version < version)
    {
        d.analysis = Some(Arc::clone(&analysis));
    }
    Some(analysis)
}

/// Applies one change to the text: a whole new text, or a range replaced.
fn apply_change(text: &mut String, change: TextDocumentContentChangeEvent) {
    match change.range {
        None => *text = change.text,
        Some(range) => {
            let lines = super::lines::Lines::new(text);
            let at = |p: Position| lines.offset(text, super::lines::Pos { line: p.line, character: p.character });
            let (start, end) = (at(range.start), at(range.end));
            if start <= end {
                text.replace_range(start..end, &change.text);
            }
        }
    }
}

fn location(uri: &Uri, a: &Analysis, start: usize, end: usize) -> Location {
    Location { uri: uri.clone(), range: a.range(start, end) }
}

fn too_big(a: &Analysis) -> bool {
    a.text.len() > engine::MAX_DOCUMENT_BYTES
}

impl LanguageServer for Backend {
    async fn initialize(&self, _: InitializeParams) -> Result<InitializeResult> {
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "ripcord".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                completion_provider: Some(CompletionOptions::default()),
                document_formatting_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
                    SemanticTokensOptions {
                        legend: symbols::legend(),
                        full: Some(SemanticTokensFullOptions::Bool(true)),
                        range: None,
                        work_done_progress_options: Default::default(),
                    },
                )),
                code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                    code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                    ..CodeActionOptions::default()
                })),
                code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![SIMULATE_COMMAND.to_string()],
                    ..ExecuteCommandOptions::default()
                }),
                ..ServerCapabilities::default()
            },
            ..InitializeResult::default()
        })
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        self.store(&doc.uri, doc.version, doc.text);
        self.schedule(doc.uri);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let version = params.text_document.version;
        let mut text = match self.documents.lock() {
            Ok(docs) => docs.get(&uri).map(|d| d.text.as_ref().clone()).unwrap_or_default(),
            Err(_) => return,
        };
        for change in params.content_changes {
            apply_change(&mut text, change);
        }
        self.store(&uri, version, text);
        self.schedule(uri);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        if let Ok(mut docs) = self.documents.lock() {
            docs.remove(&uri);
        }
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        let a = self.analysis(&p.text_document.uri).await?;
        let offset = a.offset(p.position);
        Ok(hover::hover(&a, offset).map(|(markdown, s, e)| Hover {
            contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: markdown }),
            range: Some(a.range(s, e)),
        }))
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        let a = self.analysis(&p.text_document.uri).await?;
        let offset = a.offset(p.position);
        let Some(o) = a.index().at(offset) else { return Ok(None) };
        Ok(a.index()
            .definition(o.kind, &o.name)
            .map(|d| GotoDefinitionResponse::Scalar(location(&p.text_document.uri, &a, d.start, d.end))))
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let a = self.analysis(&p.text_document.uri).await?;
        let offset = a.offset(p.position);
        let Some(o) = a.index().at(offset) else { return Ok(None) };
        let include = params.context.include_declaration;
        let found: Vec<Location> = a
            .index()
            .all(o.kind, &o.name)
            .into_iter()
            .filter(|x| include || !x.is_definition)
            .map(|x| location(&p.text_document.uri, &a, x.start, x.end))
            .collect();
        Ok(Some(found))
    }

    async fn prepare_rename(&self, params: TextDocumentPositionParams) -> Result<Option<PrepareRenameResponse>> {
        let a = self.analysis(&params.text_document.uri).await?;
        let offset = a.offset(params.position);
        match edits::renamable(&a, offset) {
            Ok(o) => Ok(Some(PrepareRenameResponse::Range(a.range(o.start, o.end)))),
            Err(e) => Err(Error::invalid_params(e)),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let a = self.analysis(&p.text_document.uri).await?;
        let offset = a.offset(p.position);
        let found = edits::rename(&a, offset, &params.new_name).map_err(Error::invalid_params)?;
        let text_edits =
            found.into_iter().map(|e| TextEdit { range: a.range(e.start, e.end), new_text: e.new_text }).collect();
        Ok(Some(WorkspaceEdit {
            changes: Some(HashMap::from([(p.text_document.uri, text_edits)])),
            ..WorkspaceEdit::default()
        }))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        let a = self.analysis(&p.text_document.uri).await?;
        if too_big(&a) {
            return Ok(None);
        }
        let offset = a.offset(p.position);
        Ok(Some(CompletionResponse::Array(complete::complete(&a, offset))))
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let a = self.analysis(&params.text_document.uri).await?;
        let text = a.text.clone();
        let formatted = tokio::task::spawn_blocking(move || engine::format(&text)).await.ok().flatten();
        Ok(formatted.map(|new_text| {
            if new_text == a.text { Vec::new() } else { vec![TextEdit { range: a.range(0, a.text.len()), new_text }] }
        }))
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        let a = self.analysis(&params.text_document.uri).await?;
        Ok(Some(DocumentSymbolResponse::Nested(symbols::outline(&a))))
    }

    async fn semantic_tokens_full(&self, params: SemanticTokensParams) -> Result<Option<SemanticTokensResult>> {
        let a = self.analysis(&params.text_document.uri).await?;
        if too_big(&a) {
            return Ok(None);
        }
        Ok(Some(SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data: symbols::semantic_tokens(&a) })))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        let a = self.analysis(&uri).await?;
        let (start, end) = (a.offset(params.range.start), a.offset(params.range.end));
        let mut actions = Vec::new();
        // One diagnostic per problem, in the same order.
        let diagnostics = a.diagnostics(&uri);
        for (p, diagnostic) in a.problems.iter().zip(&diagnostics).filter(|(p, _)| p.start <= end && start <= p.end) {
            for fix in edits::fixes(&a, p) {
                let edit = TextEdit { range: a.range(fix.edit.start, fix.edit.end), new_text: fix.edit.new_text };
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: fix.title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic.clone()]),
                    edit: Some(WorkspaceEdit {
                        changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                        ..WorkspaceEdit::default()
                    }),
                    is_preferred: Some(fix.preferred),
                    ..CodeAction::default()
                }));
            }
        }
        Ok(Some(actions))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let uri = params.text_document.uri;
        let a = self.analysis(&uri).await?;
        let worker = Arc::clone(&a);
        let (lenses, _) = tokio::task::spawn_blocking(move || edits::lenses(&worker)).await.unwrap_or_default();
        let arg = serde_json::to_value(&uri).ok().map(|v| vec![v]);
        Ok(Some(
            lenses
                .into_iter()
                .map(|l| CodeLens {
                    range: a.range(l.start, l.end),
                    command: Some(Command {
                        title: l.title,
                        command: SIMULATE_COMMAND.to_string(),
                        arguments: arg.clone(),
                    }),
                    data: None,
                })
                .collect(),
        ))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        if params.command != SIMULATE_COMMAND {
            return Err(Error::invalid_params(format!("unknown command `{}`", params.command)));
        }
        let uri: Uri = params
            .arguments
            .first()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .ok_or_else(|| Error::invalid_params("`ripcord.simulate` takes the document's URI"))?;
        let a = self.analysis(&uri).await?;
        let (_, firings) = tokio::task::spawn_blocking(move || edits::lenses(&a)).await.unwrap_or_default();
        let timeline = firings
            .map(|f| f.timeline)
            .unwrap_or_else(|| "no simulation: no series file beside the runbook, or errors".to_string());
        self.client.show_message(MessageType::INFO, timeline.clone()).await;
        Ok(Some(LSPAny::String(timeline)))
    }
}
