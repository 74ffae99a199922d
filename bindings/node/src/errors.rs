//! Errors as JavaScript sees them: an `Error` with `code` set to `LDB_` + the status's name and
//! the engine's message.

use lightning::safe::Error as CallError;
use napi::{Env, JsError};

/// An error for JavaScript; its status string becomes the `code` property.
pub type JsErr = napi::Error<String>;

/// The result of a call that may throw.
pub type Result<T, E = JsErr> = std::result::Result<T, E>;

/// The JavaScript error for a failed call. The code is the C ABI's name for the status, so every
/// status it has (`LDB_WRONG_KEY` for a wrong or missing key or passphrase, ...) comes through as
/// is, with the engine's message (which never holds a secret option's value).
pub fn to_js(error: CallError) -> JsErr {
    napi::Error::new(format!("LDB_{}", error.name()), error.message)
}

/// `LDB_CLOSED`, saying `what` is closed.
pub fn closed(what: &str) -> JsErr {
    napi::Error::new("LDB_CLOSED".to_string(), format!("the {what} is closed"))
}

/// `LDB_INVALID_ARGUMENT` with `message`.
pub fn invalid_argument(message: &str) -> JsErr {
    napi::Error::new("LDB_INVALID_ARGUMENT".to_string(), message.to_string())
}

/// `LDB_INTERNAL` for a bug caught at the boundary (a panic).
pub fn internal(message: &str) -> JsErr {
    napi::Error::new("LDB_INTERNAL".to_string(), message.to_string())
}

/// Turns `error` into a rejection that keeps its code: the error object is made here (on the
/// JavaScript thread) and handed back as is, so the promise rejects with it.
pub fn rejection(env: Env, error: JsErr) -> napi::Error {
    napi::Error::from(JsError::from(error).into_unknown(env))
}
