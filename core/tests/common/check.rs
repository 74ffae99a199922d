//! Checks inside a proptest case: a failed check returns a [`TestCaseError`] that says what went
//! wrong, so that proptest shrinks the case, instead of panicking.

use proptest::test_runner::TestCaseError;

/// What a check inside a proptest case returns.
pub type Outcome = Result<(), TestCaseError>;

/// Fails the case with the formatted message unless the condition holds.
// A test that includes `common` without checking proptest cases leaves the macro and its export
// unused; `dead_code` does not cover macros.
#[allow(unused_macros)]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(::proptest::test_runner::TestCaseError::fail(format!($($fmt)+)));
        }
    };
}
#[allow(unused_imports)]
pub(crate) use ensure;

/// Turns an engine error into a test failure that says what was being done.
pub trait Ctx<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, TestCaseError>;
}

impl<T> Ctx<T> for lightning_db::Result<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, TestCaseError> {
        self.map_err(|e| TestCaseError::fail(format!("{}: {e}", what())))
    }
}
