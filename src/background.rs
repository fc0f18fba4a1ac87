//! The main runtime, for what outlives one HTTP worker: work a request
//! starts and does not wait for (mail sent after the response, a backup
//! asked for on the admin page), the main database pool that such work
//! uses ([`crate::db::runtime`]), and the connections that all workers
//! share (to Stripe and the OAuth providers).
//!
//! Each HTTP worker has a runtime of its own, and at a graceful stop each
//! one ends as soon as its own requests are answered: a task or connection
//! made on it would die with it, half done, under a request another worker
//! is still answering. The main runtime lives until the stop is complete,
//! and the stop waits for the work started on it ([`Background::finish`]),
//! for a bounded time.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::task::JoinSet;

/// Where background work runs, and what of it is still running.
#[derive(Clone, Debug)]
pub struct Background {
    runtime: Option<tokio::runtime::Handle>,
    tasks: Arc<Mutex<JoinSet<()>>>,
}

impl Background {
    /// Work goes to the runtime this is called on (the main one).
    pub fn current() -> Self {
        Self {
            runtime: tokio::runtime::Handle::try_current().ok(),
            tasks: Arc::default(),
        }
    }

    /// Starts `work`; [`Background::finish`] waits for it.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        // Finished tasks are forgotten here, so the set holds only what runs.
        while tasks.try_join_next().is_some() {}
        match &self.runtime {
            Some(runtime) => {
                tasks.spawn_on(work, runtime);
            }
            None => {
                tasks.spawn(work);
            }
        }
    }

    /// Runs `work` on the main runtime and waits for its result; the work
    /// goes on even if the request waiting for it is dropped. `None` when
    /// the main runtime is shutting down.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        match &self.runtime {
            Some(runtime) => runtime.spawn(work).await.ok(),
            None => Some(work.await),
        }
    }

    /// How many tasks are still running.
    pub fn running(&self) -> usize {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        while tasks.try_join_next().is_some() {}
        tasks.len()
    }

    /// Waits up to `limit` for the work started so far, then stops what is
    /// left; returns how many tasks were stopped unfinished.
    pub async fn finish(&self, limit: Duration) -> usize {
        let mut tasks =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        let waited =
            tokio::time::timeout(limit, async { while tasks.join_next().await.is_some() {} }).await;
        if waited.is_ok() {
            return 0;
        }
        let left = tasks.len();
        tasks.shutdown().await;
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finish_waits_for_running_work_and_stops_what_outlasts_the_limit() {
        let background = Background::current();
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for pause in [10, 50] {
            let done = done.clone();
            background.spawn(async move {
                tokio::time::sleep(Duration::from_millis(pause)).await;
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        assert_eq!(background.running(), 2);
        assert_eq!(background.finish(Duration::from_secs(5)).await, 0);
        assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 2);

        let late = done.clone();
        background.spawn(async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            late.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        assert_eq!(background.finish(Duration::from_millis(50)).await, 1);
        assert_eq!(background.running(), 0);
        assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[test]
    fn run_does_its_work_on_the_main_runtime_from_another_one() {
        let main = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("main-runtime")
            .enable_all()
            .build()
            .unwrap();
        let background = main.block_on(async { Background::current() });
        let worker = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let ran_on = worker
            .block_on(background.run(async { std::thread::current().name().map(str::to_owned) }));
        assert_eq!(ran_on, Some(Some("main-runtime".to_owned())));
        drop(worker);
        main.shutdown_background();
    }
}
