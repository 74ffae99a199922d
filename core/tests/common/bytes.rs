//! Short, readable forms of byte strings, so that a failure with 200 KB values or a batch of a
//! thousand keys stays readable.

/// How many bytes of a longer byte string are shown.
const SHOWN: usize = 16;

/// `bytes` in quotes, escaped as ASCII, cut after 16 bytes with its length:
/// `"ab\xff"`, `"aaaaaaaaaaaaaaaa…"(4096 bytes)`.
pub fn show(bytes: &[u8]) -> String {
    if bytes.len() > SHOWN {
        format!(
            "\"{}…\"({} bytes)",
            bytes[..SHOWN].escape_ascii(),
            bytes.len()
        )
    } else {
        format!("\"{}\"", bytes.escape_ascii())
    }
}

/// [`show`] for a value that may be absent: `none` if it is.
pub fn show_opt(value: Option<&[u8]>) -> String {
    value.map_or_else(|| "none".to_string(), show)
}
