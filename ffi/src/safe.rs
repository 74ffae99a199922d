//! A safe Rust wrapper over the C ABI, for the language bindings (filled in next).
