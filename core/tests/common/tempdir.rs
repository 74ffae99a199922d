//! A test directory that is kept when the test fails, so that the database in it can be
//! examined.

use std::path::Path;
use std::thread;

use tempfile::TempDir;

/// A temporary directory: removed when the test passes, kept (and named on stderr) when it
/// fails.
pub struct KeepOnFailure {
    dir: Option<TempDir>,
    /// The test, as the message names it: "crash test: the database is kept in ...".
    test: &'static str,
}

impl KeepOnFailure {
    pub fn new(test: &'static str) -> KeepOnFailure {
        KeepOnFailure {
            dir: Some(tempfile::tempdir().unwrap()),
            test,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().unwrap().path()
    }
}

impl Drop for KeepOnFailure {
    fn drop(&mut self) {
        if thread::panicking() {
            if let Some(tmp) = self.dir.take() {
                eprintln!(
                    "{}: the database is kept in {}",
                    self.test,
                    tmp.keep().display()
                );
            }
        }
    }
}
