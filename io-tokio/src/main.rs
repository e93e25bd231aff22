//! The `binraft` command: `run` serves a store on a MySQL port, `import` seeds a store from
//! existing binlog files, `inspect` shows, checks or counts the events of binlog files.

mod import;
mod inspect;

use binraft::{config, server};

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "binraft", version, about = "A distributed MySQL/MariaDB binlog server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the store to replicas and CDC clients on a MySQL port.
    Run(Box<config::Args>),
    /// Seed a store from existing binlog files.
    Import(import::Args),
    /// Show the events of binlog files, one line each (like mysqlbinlog --verbose).
    Inspect(inspect::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => {
            use std::io::IsTerminal;
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .init();
            let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("binraft: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match rt.block_on(server::run(*args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("binraft run: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Import(args) => match import::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("binraft import: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Inspect(args) => inspect::run(&args),
    }
}
