//! What of a statement may be shown or logged. A statement that may carry a password
//! (CHANGE MASTER / CHANGE REPLICATION SOURCE, anything that names PASSWORD or IDENTIFIED, in any
//! letter case, mistyped or not, even inside a comment) is rebuilt from its tokens with its string
//! literals, and whatever follows a PASSWORD word up to the next comma, as `'***'`, and without
//! its comments. Any other statement is shown as it is.
//!
//! In: the statement (and for [`near`], where it went wrong). Out: text that holds no secret.

use crate::primary::lex::{Kind, LexError, Lexer};
use std::borrow::Cow;

/// How much of the statement an error quotes from where it went wrong, as MariaDB does.
pub const NEAR_CHARS_MAX: usize = 80;

/// How much of a statement [`redact`] shows; a longer one ends with `...`.
pub const REDACTED_CHARS_MAX: usize = 1000;

const HIDDEN: &str = "'***'";

fn may_hold_secret(sql: &str) -> bool {
    let b = sql.as_bytes();
    ["change", "password", "identified"].iter().any(|w| b.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w.as_bytes())))
}

/// The statement rebuilt from its tokens with secrets hidden, as pieces: where each starts in
/// the statement, and what is shown of it. A hidden run of tokens is one `'***'` piece; where
/// lexing stopped, and the end, are pieces too, so that any place an error names starts one,
/// or is inside a hidden run. One token at a time: nothing is kept of what was shown.
struct Masked<'a> {
    lexer: Lexer<'a>,
    len: usize,
    /// After a PASSWORD word (and its `=` or BY): the next token starts a hidden value.
    hide_next: bool,
    /// Inside a hidden value, up to the next comma or semicolon.
    hiding: bool,
    ended: bool,
}

impl<'a> Masked<'a> {
    fn new(sql: &'a str) -> Masked<'a> {
        Masked { lexer: Lexer::new(sql), len: sql.len(), hide_next: false, hiding: false, ended: false }
    }
}

impl<'a> Iterator for Masked<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        loop {
            let t = match self.lexer.next() {
                Some(Ok(t)) => t,
                // What follows an unterminated quote is its content: hidden.
                Some(Err(e @ (LexError::UnterminatedString { .. } | LexError::UnterminatedName { .. }))) if !self.hiding => return Some((e.at(), HIDDEN)),
                Some(Err(e)) => return Some((e.at(), "")),
                None if self.ended => return None,
                None => {
                    self.ended = true;
                    return Some((self.len, ""));
                }
            };
            if matches!(t.kind, Kind::Punct(',' | ';')) {
                self.hiding = false;
            }
            if self.hiding {
                continue;
            }
            let names_secret = t.kind == Kind::Word && (t.text.to_ascii_lowercase().contains("password") || t.is_word("identified"));
            let shown = if names_secret {
                self.hide_next = true;
                t.text
            } else if self.hide_next && (t.kind == Kind::Punct('=') || t.is_word("by")) {
                t.text
            } else if self.hide_next {
                (self.hide_next, self.hiding) = (false, true);
                HIDDEN
            } else if matches!(t.kind, Kind::Str(_)) {
                HIDDEN
            } else {
                t.text
            };
            return Some((t.at, shown));
        }
    }
}

/// Appends `piece` after a space, keeping `out` to `max` characters (`chars` counts them);
/// false once it is full.
fn append(out: &mut String, chars: &mut usize, piece: &str, max: usize) -> bool {
    if piece.is_empty() {
        return *chars < max;
    }
    for c in (!out.is_empty()).then_some(' ').into_iter().chain(piece.chars()) {
        if *chars == max {
            return false;
        }
        out.push(c);
        *chars += 1;
    }
    *chars < max
}

/// `sql` as it may be logged: at most [`REDACTED_CHARS_MAX`] characters of it when it may hold
/// a secret.
pub fn redact(sql: &str) -> Cow<'_, str> {
    if !may_hold_secret(sql) {
        return Cow::Borrowed(sql);
    }
    let (mut out, mut chars) = (String::new(), 0);
    for (_, piece) in Masked::new(sql) {
        if !append(&mut out, &mut chars, piece, REDACTED_CHARS_MAX) {
            out.push_str("...");
            break;
        }
    }
    Cow::Owned(out)
}

/// What an error quotes of `sql` from byte `at` on (a token's start, where lexing stopped, or
/// the end): at most [`NEAR_CHARS_MAX`] characters of it as [`redact`] shows it.
pub fn near(sql: &str, at: usize) -> String {
    if !may_hold_secret(sql) {
        return sql.get(at..).unwrap_or("").chars().take(NEAR_CHARS_MAX).collect();
    }
    let (mut out, mut chars) = (String::new(), 0);
    for (from, piece) in Masked::new(sql) {
        if from <= at {
            // The piece that holds `at`, so far: start again from it.
            (out, chars) = (String::new(), 0);
        }
        if !append(&mut out, &mut chars, piece, NEAR_CHARS_MAX) && from > at {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden() {
        for (sql, shown) in [
            ("CHANGE MASTER TO MASTER_HOST='db1', MASTER_PASSWORD='pw'", "CHANGE MASTER TO MASTER_HOST = '***' , MASTER_PASSWORD = '***'"),
            ("change master to master_password=pw-x y, master_port=1", "change master to master_password = '***' , master_port = 1"),
            ("CHANGE MASTER TO MASTER_PASSWORD='pw", "CHANGE MASTER TO MASTER_PASSWORD = '***'"),
            ("CHANGE MASTER TO MASTER_HOST='h' /* pw", "CHANGE MASTER TO MASTER_HOST = '***'"),
            ("/* change */ SELECT 'pw'", "SELECT '***'"),
            ("SET PASSWORD = PASSWORD(\"pw\")", "SET PASSWORD = PASSWORD '***'"),
            ("CREATE USER u IDENTIFIED BY pw", "CREATE USER u IDENTIFIED BY '***'"),
            ("CHANGE MASTER TO MASTER_PASSWORD=`pw", "CHANGE MASTER TO MASTER_PASSWORD = '***'"),
        ] {
            assert_eq!(redact(sql), shown, "{sql}");
        }
        assert_eq!(redact("SELECT 'x'"), "SELECT 'x'");
        let long = format!("CHANGE MASTER TO MASTER_HOST='h', {}", "MASTER_PORT=1, ".repeat(1000));
        let shown = redact(&long);
        assert_eq!(shown.chars().count(), REDACTED_CHARS_MAX + 3);
        assert!(shown.starts_with("CHANGE MASTER TO MASTER_HOST = '***' , MASTER_PORT = 1 ,") && shown.ends_with("..."));
    }

    #[test]
    fn near_starts_at_the_token_and_hides_what_redact_hides() {
        let sql = "CHANGE MASTER TO MASTER_HOST='db1' MASTER_PASSWORD='pw'";
        assert_eq!(near(sql, sql.find("MASTER_PASSWORD").unwrap()), "MASTER_PASSWORD = '***'");
        let sql = "CHANGE MASTER TO MASTER_PASSWORD=pw-x";
        assert_eq!(near(sql, sql.find("pw-x").unwrap()), "'***'");
        assert_eq!(near(sql, sql.len()), "");
        assert_eq!(near("SELECT x FROM y", 7), "x FROM y");
        assert_eq!(near(&format!("SELECT {}", "x".repeat(200)), 7).len(), NEAR_CHARS_MAX);
    }
}
