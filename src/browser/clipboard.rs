//! Copy to the system clipboard with the OSC 52 escape sequence, which works over SSH and in
//! tmux (with `set-clipboard on`) without any clipboard daemon.

use base64::Engine;

/// The escape sequence that asks the terminal to put `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{encoded}\x07")
}

/// Terminals cap OSC 52 payloads (xterm: 100 000 bytes); beyond that the copy would be lost.
pub const MAX_COPY_BYTES: usize = 74_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_payload() {
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }
}
