//! Errors across the JNI boundary: every entry point returns through [`run`].

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use jni::objects::{GlobalRef, JClass, JObject, JThrowable, JValue};
use jni::JNIEnv;
use lightning::ldb_status;

/// Why a call failed.
pub enum Failure {
    /// The engine said no: its status and message.
    Ldb(lightning::safe::Error),
    /// A status of our own making (e.g. `CLOSED` for a released handle).
    Status(ldb_status, String),
    /// A JNI call failed; a Java exception may already be pending.
    Jni(jni::errors::Error),
}

impl From<lightning::safe::Error> for Failure {
    fn from(e: lightning::safe::Error) -> Failure {
        Failure::Ldb(e)
    }
}

impl From<jni::errors::Error> for Failure {
    fn from(e: jni::errors::Error) -> Failure {
        Failure::Jni(e)
    }
}

pub type Result<T> = std::result::Result<T, Failure>;

/// `CLOSED`, saying what is closed.
pub fn closed(what: &str) -> Failure {
    Failure::Status(ldb_status::LDB_CLOSED, format!("the {what} is closed"))
}

/// `INVALID_ARGUMENT` with `message`.
pub fn argument(message: impl Into<String>) -> Failure {
    Failure::Status(ldb_status::LDB_INVALID_ARGUMENT, message.into())
}

/// Runs `f`; an error becomes a pending Java exception and the call returns `fallback` (which
/// the JVM ignores, as an exception is pending). A panic becomes an `INTERNAL` exception.
pub fn run<'l, R>(
    env: &mut JNIEnv<'l>,
    fallback: R,
    f: impl FnOnce(&mut JNIEnv<'l>) -> Result<R>,
) -> R {
    let failure = match catch_unwind(AssertUnwindSafe(|| f(env))) {
        Ok(Ok(value)) => return value,
        Ok(Err(failure)) => failure,
        Err(panic) => Failure::Status(
            ldb_status::LDB_INTERNAL,
            format!("a panic in the JNI library: {}", panic_message(&*panic)),
        ),
    };
    // Throwing makes JNI calls only; a panic here (none is expected) is contained as well.
    let _ = catch_unwind(AssertUnwindSafe(|| throw(env, failure)));
    fallback
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

/// The class `io.lightningdb.LightningDbException`, looked up once.
static EXCEPTION_CLASS: OnceLock<GlobalRef> = OnceLock::new();

const EXCEPTION: &str = "io/lightningdb/LightningDbException";

fn throw(env: &mut JNIEnv<'_>, failure: Failure) {
    let (code, message) = match failure {
        Failure::Ldb(e) => (e.code(), e.message),
        Failure::Status(status, message) => (status as i32, message),
        Failure::Jni(jni::errors::Error::JavaException) => return, // already pending
        Failure::Jni(e) => {
            if env.exception_check().unwrap_or(false) {
                return; // the JVM's own exception (e.g. OutOfMemoryError) says more
            }
            (
                ldb_status::LDB_INTERNAL as i32,
                format!("JNI call failed: {e}"),
            )
        }
    };
    if env.exception_check().unwrap_or(false) {
        return;
    }
    if throw_coded(env, code, &message).is_err() && !env.exception_check().unwrap_or(true) {
        let _ = env.throw_new("java/lang/IllegalStateException", message);
    }
}

/// Throws `LightningDbException.create(code, message)`: the subclass for the code.
fn throw_coded(env: &mut JNIEnv<'_>, code: i32, message: &str) -> jni::errors::Result<()> {
    let class = match EXCEPTION_CLASS.get() {
        Some(class) => class,
        None => {
            let class = env.find_class(EXCEPTION)?;
            let global = env.new_global_ref(class)?;
            EXCEPTION_CLASS.get_or_init(|| global)
        }
    };
    // SAFETY: the global reference holds a `jclass` (from `find_class`), alive for the
    // program's life; the `JClass` made here borrows it and is never deleted.
    let class = unsafe { JClass::from_raw(class.as_obj().as_raw()) };
    let message = env.new_string(message)?;
    let exception = env
        .call_static_method(
            &class,
            "create",
            "(ILjava/lang/String;)Lio/lightningdb/LightningDbException;",
            &[JValue::Int(code), JValue::Object(&message)],
        )?
        .l()?;
    let exception = JThrowable::from(exception);
    let result = env.throw(&exception);
    let _ = env.delete_local_ref(JObject::from(exception));
    let _ = env.delete_local_ref(message);
    result
}
