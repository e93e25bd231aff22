//! The `binraft` command: `binraft inspect` reads binlog files and shows, checks or counts their
//! events.

mod inspect;

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
    /// Show the events of binlog files, one line each (like mysqlbinlog --verbose).
    Inspect(inspect::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Inspect(args) => inspect::run(&args),
    }
}
