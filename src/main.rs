//! The `perfgate` binary: parses the command line, runs the library, maps the outcome to the
//! exit code (0 success or a passing check, 1 a failing check, 2 an error).

use clap::Parser;

fn main() {
    let cli = perfgate::cli::Cli::parse();
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let env = |k: &str| std::env::var(k).ok();
    let code = match perfgate::cli::run(cli, &cwd, &env) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("perfgate: error: {}", perfgate::render::escape::terminal_text(&e.to_string()));
            e.exit_code()
        }
    };
    std::process::exit(code);
}
