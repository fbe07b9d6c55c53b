use clap::Parser;
use smartlead_hub::cli::serve::{StoppedForRestart, EXIT_FOR_RESTART};
use smartlead_hub::cli::{is_closed_output, Cli};
use smartlead_hub::telemetry;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Err(err) = telemetry::init() {
        eprintln!("error: {err}");
        return std::process::ExitCode::from(2);
    }
    match cli.run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) if is_closed_output(err.as_ref()) => std::process::ExitCode::SUCCESS,
        Err(err) if err.is::<StoppedForRestart>() => {
            eprintln!("error: {err}");
            std::process::ExitCode::from(EXIT_FOR_RESTART)
        }
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            std::process::ExitCode::FAILURE
        }
    }
}
