//! The runtime thread of a blocking session: a current-thread tokio runtime on a thread of its
//! own, sent work over a channel; each call waits for its answer on a oneshot channel.

use std::future::Future;
use std::pin::Pin;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use crate::error::Error;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The thread and the way to it. Dropping it (with the last handle of the session, its
/// request builders and responses) closes the channel, which ends the thread, and joins it.
pub(crate) struct Runtime {
    tx: Option<mpsc::UnboundedSender<Task>>,
    thread: Option<JoinHandle<()>>,
}

impl Runtime {
    /// A new runtime thread; `build` runs inside the runtime's context (on this thread) first,
    /// so that what it makes may find a runtime.
    pub(crate) fn start<T>(
        build: impl FnOnce() -> Result<T, Error>,
    ) -> Result<(Runtime, T), Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::builder_msg(format!("cannot start the blocking runtime: {e}")))?;
        let built = {
            let _enter = rt.enter();
            build()
        };
        let built = match built {
            Ok(built) => built,
            Err(e) => {
                // Not a plain drop: that blocks, which panics inside an async context.
                rt.shutdown_background();
                return Err(e);
            }
        };
        let (tx, mut rx) = mpsc::unbounded_channel::<Task>();
        let thread = std::thread::Builder::new()
            .name("tower-requests-blocking".into())
            .spawn(move || {
                rt.block_on(async move {
                    while let Some(task) = rx.recv().await {
                        tokio::spawn(task);
                    }
                });
                // Dropping `rt` here cancels what is left (nothing waits for it any more).
            })
            .map_err(|e| Error::builder_msg(format!("cannot start the blocking runtime: {e}")))?;
        let runtime = Runtime {
            tx: Some(tx),
            thread: Some(thread),
        };
        Ok((runtime, built))
    }

    /// Run `fut` on the runtime thread and wait for its output.
    pub(crate) fn block_on<F, T>(&self, fut: F) -> Result<T, Error>
    where
        F: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        refuse_inside_runtime()?;
        let (done, answer) = oneshot::channel();
        self.spawn(async move {
            let _ = done.send(fut.await);
        })?;
        // A closed channel: the task was dropped without answering (it panicked, or the
        // runtime thread is gone).
        answer.blocking_recv().map_err(|_| gone())?
    }

    /// Start `fut` on the runtime thread without waiting for it.
    pub(crate) fn spawn(
        &self,
        fut: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let tx = self.tx.as_ref().ok_or_else(gone)?;
        tx.send(Box::pin(fut)).map_err(|_| gone())
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take() {
            // The last handle may be dropped by a task on the runtime thread itself: it ends
            // on its own then.
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// The error for a call made from an async context: blocking there would stall the
/// runtime's thread (and deadlock a current-thread runtime serving the request).
pub(crate) fn refuse_inside_runtime() -> Result<(), Error> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::builder_msg(
            "tower_requests::blocking was called from inside a tokio runtime, where waiting \
             would block the runtime's thread: use the async Session there, or call the \
             blocking one from a thread the runtime does not own (std::thread::spawn)",
        ));
    }
    Ok(())
}

fn gone() -> Error {
    Error::with_message(
        crate::error::Kind::Request,
        "the blocking session's runtime thread stopped before answering (a panic in the stack?)",
    )
}
