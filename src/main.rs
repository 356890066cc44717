use std::process::ExitCode;

use clap::Parser;
use tidemark::cli::{self, Cli};

fn main() -> ExitCode {
    let args = Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line: the error and its causes, no backtrace.
            eprintln!("tidemark: {err:#}");
            ExitCode::FAILURE
        }
    }
}
