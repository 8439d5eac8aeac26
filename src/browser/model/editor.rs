//! The in-place editor of one value.

use ratatui_textarea::TextArea;

use crate::browser::theme;

/// The in-place editor of one value.
pub struct Editor {
    /// The key being edited (full Redis key) and how it is shown (`trace:key`).
    pub full_key: String,
    pub label: String,
    pub area: TextArea<'static>,
    /// The text when editing started; leaving with other text asks first.
    pub original: String,
    /// The bytes the save compares against; `None` creates the key (it must not exist).
    pub expected: Option<Vec<u8>>,
    pub creating: bool,
    /// Why the last save did not happen (bad JSON, a failure).
    pub error: Option<String>,
    /// Something to know before saving (the value changed in Redis).
    pub notice: Option<String>,
    /// The save in flight.
    pub saving: Option<u64>,
}

impl Editor {
    pub fn new(
        full_key: String,
        label: String,
        text: &str,
        expected: Option<Vec<u8>>,
        creating: bool,
    ) -> Self {
        let mut ed = Self {
            full_key,
            label,
            area: TextArea::default(),
            original: text.to_string(),
            expected,
            creating,
            error: None,
            notice: None,
            saving: None,
        };
        ed.set_text(text);
        ed
    }

    /// Replaces the text (after `$EDITOR`), cursor at the top.
    pub fn set_text(&mut self, text: &str) {
        let mut area = TextArea::new(text.lines().map(str::to_string).collect());
        area.set_line_number_style(theme::dim());
        area.set_cursor_line_style(ratatui::style::Style::new());
        area.set_tab_length(2);
        self.area = area;
    }

    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    /// The text differs from what was loaded.
    pub fn dirty(&self) -> bool {
        self.text().trim_end() != self.original.trim_end()
    }
}
