//! The `mcptop` binary: parse arguments and hand over to the library.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = mcptop::cli::Cli::parse();
    match mcptop::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mcptop: {e:#}");
            ExitCode::from(2)
        }
    }
}
