//! The `ehlo` binary: hands the arguments to [`ehlo::run`] and exits with its code (unless
//! they make it a `--pipe` command's launcher: [`ehlo::pipe_launcher`]).

fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    ehlo::pipe_launcher(&args);
    std::process::ExitCode::from(ehlo::run(args))
}
