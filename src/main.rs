//! The `mcptop` binary: parse arguments and hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use mcptop::cli::output::{errln, esc};

fn main() -> ExitCode {
    // clap's own messages repeat what was typed: printed through the same escaping as the rest.
    let cli = match mcptop::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let text = e.render().to_string();
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => mcptop::cli::output::out(&text),
                _ => mcptop::cli::output::err(&text),
            }
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    if cli.command.is_some() {
        // A command's output piped into `head` ends quietly when the reader goes, as other
        // command-line tools do, instead of panicking on a write to a closed pipe.
        // SAFETY: setting a signal's disposition to the default before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            errln(&format!("mcptop: cannot start: {}", esc(&e.to_string())));
            return ExitCode::from(1);
        }
    };
    let code = match runtime.block_on(mcptop::cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // One line, every control character escaped, secrets scrubbed: an error may quote
            // the config, a server or the user's own input.
            errln(&format!("mcptop: {}", esc(&format!("{e:#}"))));
            ExitCode::from(2)
        }
    };
    // Quitting while a backup runs stops it: its blocking task is not waited for (the next run
    // removes what it left).
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}
