//! `ripcord lsp`: a language server over stdio for editors. Diagnostics (the codes, spans and help of `check`
//! and `lint`), hover, go to definition, references, rename, completion, formatting (`fmt`), the outline,
//! semantic tokens, quick fixes, and a code lens that simulates each trigger against a series file beside
//! the runbook. docs/editors.md sets it up in VS Code, Neovim and Helix.
//!
//! The library is reached only through `engine`; the protocol (tower-lsp-server) only in `server`. The
//! feature files in between are plain functions of an [`analysis::Analysis`], tested without a client.

pub mod analysis;
mod complete;
mod edits;
pub mod engine;
mod hover;
mod index;
mod lex;
mod lines;
mod server;
mod symbols;
#[cfg(test)]
mod tests;

use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{LspService, Server};

/// Serves the language server protocol over `input` and `output` until the client says `exit` or closes
/// the input.
pub async fn serve_io<I, O>(input: I, output: O)
where
    I: AsyncRead + Unpin,
    O: AsyncWrite,
{
    let (service, socket) = LspService::new(server::Backend::new);
    Server::new(input, output, socket).serve(service).await;
}

/// Serves over stdin and stdout on a runtime of its own; returns when the client exits.
pub fn serve_stdio() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve_io(tokio::io::stdin(), tokio::io::stdout()));
    Ok(())
}
