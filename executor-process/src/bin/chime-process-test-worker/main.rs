//! The worker program of chime-executor-process's integration tests: the
//! pool starts it as a worker; started normally it prints a line and exits
//! (which is what a program that forgot `worker_main` looks like).

mod tasks;

fn main() {
    chime_executor_process::worker_main(&tasks::worker_tasks());
    println!("not started as a worker");
}
