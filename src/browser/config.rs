//! The `[browser]` table of the config file (beside `[keys]` and `[profiles]`): settings of
//! the browser that a flag can also give.
//!
//! ```toml
//! [browser]
//! mouse = false   # leave the mouse to the terminal (text selection); as --no-mouse
//! ```

use std::path::Path;

/// What the `[browser]` table sets; `None` where it says nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BrowserConfig {
    pub mouse: Option<bool>,
}

/// Reads the `[browser]` table of a parsed config file, refusing what it does not know.
pub fn parse(value: &toml::Value, source: &str) -> Result<BrowserConfig, String> {
    let Some(table) = value.as_table() else {
        return Err(format!(
            "config file {source}: `browser` must be a table ([browser])"
        ));
    };
    let mut config = BrowserConfig::default();
    for (name, v) in table {
        match name.as_str() {
            "mouse" => {
                config.mouse = Some(v.as_bool().ok_or_else(|| {
                    format!(
                        "config file {source}: [browser] mouse: expected true or false, not {v}"
                    )
                })?)
            }
            _ => {
                return Err(format!(
                    "config file {source}: [browser] {name}: unknown setting (known: mouse)"
                ));
            }
        }
    }
    Ok(config)
}

/// The `[browser]` table of the config file at `path` (none: the defaults).
pub fn load(path: Option<&Path>) -> anyhow::Result<BrowserConfig> {
    let Some(path) = path else {
        return Ok(BrowserConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the config file {}: {e}", path.display()))?;
    let source = path.display().to_string();
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("config file {source}: {e}"))?;
    match table.get("browser") {
        Some(v) => parse(v, &source).map_err(|e| anyhow::anyhow!("{e}")),
        None => Ok(BrowserConfig::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<BrowserConfig, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        parse(&table["browser"], "c.toml")
    }

    #[test]
    fn mouse_is_read_and_mistakes_are_named() {
        assert_eq!(
            parsed("[browser]\nmouse = false").unwrap().mouse,
            Some(false)
        );
        assert_eq!(parsed("[browser]\n").unwrap().mouse, None);
        let e = parsed("[browser]\nmouse = \"no\"").unwrap_err();
        assert!(
            e.contains("c.toml") && e.contains("mouse: expected true or false"),
            "{e}"
        );
        let e = parsed("[browser]\nmice = false").unwrap_err();
        assert!(e.contains("mice: unknown setting"), "{e}");
    }
}
