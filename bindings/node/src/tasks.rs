//! The Promise twins: work that may block runs on the libuv thread pool, never on the event
//! loop. Arguments are copied before the task leaves the JavaScript thread.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use lightning::safe::{Db, Error as CallError};
use napi::bindgen_prelude::{Buffer, Either};
use napi::{Env, Status, Task};

use crate::errors::{internal, rejection, JsErr};
use crate::state::Handle;

/// What a `get` task yields.
pub type Get = Option<Vec<u8>>;

type Op<T> = Box<dyn FnOnce(&Db) -> Result<T, CallError> + Send>;

/// One call on the database, run on the pool; rejects with an `Error` carrying the code.
pub struct DbTask<T: Send + 'static> {
    handle: Arc<Handle>,
    op: Option<Op<T>>,
    error: Option<JsErr>,
}

impl<T: Send + 'static> DbTask<T> {
    pub fn new(
        handle: &Arc<Handle>,
        op: impl FnOnce(&Db) -> Result<T, CallError> + Send + 'static,
    ) -> DbTask<T> {
        DbTask {
            handle: Arc::clone(handle),
            op: Some(Box::new(op)),
            error: None,
        }
    }

    /// Runs the call (on a pool thread); a failure is kept for `reject`, which runs on the
    /// JavaScript thread and can make the error object.
    fn run(&mut self) -> napi::Result<T> {
        let (handle, op) = (&self.handle, self.op.take());
        let result = catch_unwind(AssertUnwindSafe(|| match op {
            Some(op) => handle.with(op),
            None => Err(internal("the task ran twice")),
        }))
        .unwrap_or_else(|_| Err(internal("a panic in Lightning DB's Node module")));
        result.map_err(|e| {
            let reason = e.reason.clone();
            self.error = Some(e);
            napi::Error::new(Status::GenericFailure, reason)
        })
    }

    fn fail(&mut self, env: Env, error: napi::Error) -> napi::Error {
        let error = self.error.take().unwrap_or_else(|| internal(&error.reason));
        rejection(env, error)
    }
}

impl Task for DbTask<()> {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<()> {
        self.run()
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> napi::Result<()> {
        Ok(())
    }

    fn reject(&mut self, env: Env, error: napi::Error) -> napi::Result<()> {
        Err(self.fail(env, error))
    }
}

impl Task for DbTask<Get> {
    type Output = Get;
    type JsValue = Either<Buffer, ()>;

    fn compute(&mut self) -> napi::Result<Get> {
        self.run()
    }

    fn resolve(&mut self, _env: Env, output: Get) -> napi::Result<Either<Buffer, ()>> {
        Ok(match output {
            Some(value) => Either::A(Buffer::from(value)),
            None => Either::B(()),
        })
    }

    fn reject(&mut self, env: Env, error: napi::Error) -> napi::Result<Either<Buffer, ()>> {
        Err(self.fail(env, error))
    }
}

/// A count of bytes (`compact`'s), as a JavaScript number: exact below 2^53 bytes.
impl Task for DbTask<u64> {
    type Output = u64;
    type JsValue = f64;

    fn compute(&mut self) -> napi::Result<u64> {
        self.run()
    }

    fn resolve(&mut self, _env: Env, output: u64) -> napi::Result<f64> {
        Ok(output as f64)
    }

    fn reject(&mut self, env: Env, error: napi::Error) -> napi::Result<f64> {
        Err(self.fail(env, error))
    }
}
