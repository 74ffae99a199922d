//! The Python package `lightning_db`: Lightning DB for Python, built on the C ABI through its
//! safe wrapper (`lightning::safe`). See `lightning_db.pyi` for the API with types.

mod batch;
mod bulk_load;
mod convert;
mod database;
mod errors;
mod iter;
mod snapshot;
mod state;
mod txn;

use pyo3::prelude::*;

/// Lightning DB: an embedded, transactional key-value database.
#[pymodule]
fn lightning_db(m: &Bound<'_, PyModule>) -> PyResult<()> {
    state::install_fork_hook();
    m.add("__version__", lightning::safe::version())?;
    m.add_function(wrap_pyfunction!(database::open, m)?)?;
    m.add_class::<database::Database>()?;
    m.add_class::<batch::WriteBatch>()?;
    m.add_class::<snapshot::Snapshot>()?;
    m.add_class::<txn::Transaction>()?;
    m.add_class::<bulk_load::BulkLoad>()?;
    m.add_class::<iter::Items>()?;
    errors::add_to_module(m)?;
    Ok(())
}
