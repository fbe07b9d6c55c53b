/// Input quoted in an error message, cut to its first [`Echo::MAX_CHARS`] characters: enough
/// to recognise it, never a 5,000-digit id sent back whole.
pub struct Echo<'a>(pub &'a str);

impl Echo<'_> {
    pub const MAX_CHARS: usize = 64;
}

impl std::fmt::Display for Echo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut chars = self.0.char_indices();
        match chars.nth(Self::MAX_CHARS) {
            None => f.write_str(self.0),
            Some((cut, _)) => {
                let rest = self.0[cut..].chars().count();
                write!(f, "{}… ({rest} more characters)", &self.0[..cut])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Echo;

    #[test]
    fn long_input_is_cut_and_says_how_much_is_left_out() {
        assert_eq!(Echo("short").to_string(), "short");
        let long = "9".repeat(5000);
        let shown = Echo(&long).to_string();
        assert_eq!(shown, format!("{}… (4936 more characters)", "9".repeat(64)));
        let wide = "é".repeat(70);
        assert!(Echo(&wide).to_string().starts_with(&"é".repeat(64)));
    }
}
