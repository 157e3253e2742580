//! The entry point: one thread, like Lwt.

use std::future::Future;

/// Runs `application` to completion on a tokio current-thread runtime inside a
/// `tokio::task::LocalSet`, so that `!Send` devices and `tokio::task::spawn_local` work, and
/// returns its output. Timers and I/O are enabled.
///
/// This is `OS.Main.run` of Mirage's Unix platform.
///
/// # Panics
///
/// If the operating system refuses to create the runtime (no file descriptors left, say).
pub fn run<F: Future>(application: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot create the tokio runtime");
    tokio::task::LocalSet::new().block_on(&runtime, application)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn local_tasks_run_and_the_output_comes_back() {
        let shared = Rc::new(41);
        let result = run(async move {
            let task = tokio::task::spawn_local(async move { *shared + 1 });
            task.await.unwrap()
        });
        assert_eq!(result, 42);
    }
}
