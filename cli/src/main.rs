//! The `chime` command. The daemon and `chime next` arrive with their issues.

fn main() {
    eprintln!("chime: the daemon is not implemented yet; see README.md");
    std::process::exit(2);
}
