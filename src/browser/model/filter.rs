//! The `/` filter of the Traces and Keys panes: which names pass.

/// Substring (case-insensitive), or a glob when the pattern has `*` or `?`.
#[derive(Debug, Clone)]
pub struct Matcher {
    pattern: Vec<char>,
    glob: bool,
}

impl Matcher {
    pub fn new(pattern: &str) -> Self {
        Self {
            pattern: pattern.to_lowercase().chars().collect(),
            glob: pattern.contains(['*', '?']),
        }
    }

    pub fn matches(&self, s: &str) -> bool {
        if self.pattern.is_empty() {
            return true;
        }
        let text: Vec<char> = s.to_lowercase().chars().collect();
        if self.glob {
            glob_match(&self.pattern, &text)
        } else {
            text.windows(self.pattern.len())
                .any(|w| w == self.pattern.as_slice())
        }
    }
}

/// `*` any run, `?` one character; whole-string match, iterative with one backtrack point.
fn glob_match(p: &[char], t: &[char]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matcher() {
        assert!(Matcher::new("ord").matches("trace-ORDER-1"));
        assert!(!Matcher::new("xyz").matches("order"));
        assert!(Matcher::new("tr*1").matches("trace-1"));
        assert!(!Matcher::new("tr*1").matches("trace-12"));
        assert!(Matcher::new("t?ace*").matches("trace-12"));
        assert!(Matcher::new("").matches("anything"));
    }
}
