fn main() -> std::process::ExitCode {
    diary::cli::main()
}
