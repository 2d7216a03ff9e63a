//! The `ripcord` binary: everything is in the library; see `ripcord::cli`.

fn main() -> std::process::ExitCode {
    ripcord::cli::run()
}
