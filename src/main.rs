//! The `ehlo` binary: hands the arguments to [`ehlo::run`] and exits with its code.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(ehlo::run(std::env::args_os()))
}
