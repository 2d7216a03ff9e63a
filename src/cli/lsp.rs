//! `ripcord lsp`: the language server over stdin and stdout (docs/editors.md). Started by an editor.

use clap::Args;

#[derive(Args, Debug)]
pub struct LspArgs {
    /// Accepted for editors that pass it; stdio is the only transport.
    #[arg(long)]
    pub stdio: bool,
}

pub fn run(_args: &LspArgs) -> u8 {
    match crate::lsp::serve_stdio() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cannot start the language server: {e}");
            1
        }
    }
}
