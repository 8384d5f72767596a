//! The worker tasks of the tests, shared by the worker binary and the tests
//! (which need the same names on the scheduler side).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chime_executor_process::{WorkerContext, WorkerTasks};
use serde_json::Value;

fn arg_str<'a>(args: &'a Value, key: &str) -> &'a str {
    args.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn arg_u64(args: &Value, key: &str) -> u64 {
    args.get(key).and_then(Value::as_u64).unwrap_or_default()
}

/// Appends `line` to the file at `path`.
fn append(path: &str, line: &str) -> Result<(), String> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("open {path}: {e}"))?;
    writeln!(file, "{line}").map_err(|e| e.to_string())
}

pub fn worker_tasks() -> WorkerTasks {
    let tasks = WorkerTasks::new();
    let register = |name: &str, f: fn(WorkerContext, Value) -> Result<(), String>| {
        tasks.register(name, f).expect("valid name");
    };
    // Succeeds; with {"log": path} appends "job_id pid" to the file.
    register("ok", |ctx, args| {
        let log = arg_str(&args, "log");
        if !log.is_empty() {
            append(log, &format!("{} {}", ctx.job_id, std::process::id()))?;
        }
        println!("printing to stdout does not disturb the protocol");
        Ok(())
    });
    register("fail", |_ctx, args| {
        Err(format!("failed: {}", arg_str(&args, "why")))
    });
    register("panic", |ctx, _| {
        panic!("worker task panicked in job {}", ctx.job_id)
    });
    register("abort", |_ctx, _| std::process::abort());
    register("segv", |_ctx, _| {
        // Rust's own SIGSEGV handler (stack-overflow detection) would let a
        // raised signal return; restore the default action first.
        // SAFETY: plain libc calls on this process's own signal disposition.
        unsafe {
            libc::signal(libc::SIGSEGV, libc::SIG_DFL);
            libc::raise(libc::SIGSEGV);
        }
        Ok(())
    });
    register("exit", |_ctx, args| {
        std::process::exit(arg_u64(&args, "code") as i32)
    });
    // Never returns, never sleeps.
    register("spin", |_ctx, _| {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    });
    // Starts a grandchild (`sleep 60`, same process group), writes its pid
    // to {"pidfile": path}, then waits forever.
    register("grandchild", |_ctx, args| {
        let child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .map_err(|e| e.to_string())?;
        std::fs::write(arg_str(&args, "pidfile"), child.id().to_string())
            .map_err(|e| e.to_string())?;
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    // Counts runs going on at once in a shared-memory counter file
    // {"counter": path}: [current, max] as two u64. Each run waits until
    // {"bound": n} runs were in at once (at most 3 s), then holds a moment.
    register("concurrency", |_ctx, args| {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(arg_str(&args, "counter"))
            .map_err(|e| e.to_string())?;
        let bound = arg_u64(&args, "bound");
        use std::os::fd::AsRawFd;
        // SAFETY: maps 16 bytes of a file the test created with that size;
        // u64 atomics are valid for any bit pattern and the mapping is
        // page-aligned; it is unmapped before returning.
        unsafe {
            let ptr = libc::mmap(
                std::ptr::null_mut(),
                16,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            );
            if ptr == libc::MAP_FAILED {
                return Err(std::io::Error::last_os_error().to_string());
            }
            let cells = &*(ptr as *const [AtomicU64; 2]);
            let now = cells[0].fetch_add(1, Ordering::SeqCst) + 1;
            cells[1].fetch_max(now, Ordering::SeqCst);
            let deadline = Instant::now() + Duration::from_secs(3);
            while cells[1].load(Ordering::SeqCst) < bound && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(20));
            cells[0].fetch_sub(1, Ordering::SeqCst);
            libc::munmap(ptr, 16);
        }
        Ok(())
    });
    tasks
        .register_async("async_ok", |ctx: WorkerContext, _: Value| async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            if ctx.scheduled_run_times.is_empty() {
                Err("no fire times")
            } else {
                Ok(())
            }
        })
        .expect("valid name");
    tasks
}
