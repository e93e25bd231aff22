//! SQL tokens as MySQL and MariaDB read them, for the statements binraft parses by grammar
//! (the admin statements) and for rendering any statement safely in a log.
//!
//! In: statement text. Out: tokens with their place in the text, and where lexing stopped if it
//! could not go on (an unterminated string, quoted name or comment). Never panics, on any input.
//!
//! What counts as whitespace and comments is the servers': ASCII whitespace (vertical tab too),
//! `# ...` and `-- ...` to the end of the line (`--` then whitespace or the end), `/* ... */`.
//! The text of a version comment (`/*!50700 ... */`, MariaDB's `/*M!100100 ... */`) is read as
//! code, whatever its version: binraft takes it to be new enough.

/// One token. `text` is the token as written (quotes and all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    /// Byte offset of the token in the statement.
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A keyword or an unquoted name: ASCII letters, digits, `_`, `$`, and any non-ASCII
    /// character.
    Word,
    /// A `` `name` ``, unquoted.
    QuotedName(String),
    /// A `'...'` or `"..."` string, with its escapes and doubled quotes resolved.
    Str(String),
    /// Digits, with a fraction or not: `3306`, `2.5`.
    Number,
    /// Any other character: `=`, `,`, `;`, `(`, ...
    Punct(char),
}

/// Where and why lexing stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexError {
    UnterminatedString { at: usize },
    UnterminatedName { at: usize },
    UnterminatedComment { at: usize },
}

impl LexError {
    pub fn at(&self) -> usize {
        match *self {
            LexError::UnterminatedString { at } | LexError::UnterminatedName { at } | LexError::UnterminatedComment { at } => at,
        }
    }
}

/// A statement's tokens, up to the end or up to a [`LexError`], collected (see [`Lexer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexed<'a> {
    pub tokens: Vec<Token<'a>>,
    pub error: Option<LexError>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Splits `sql` into tokens, all at once.
pub fn lex(sql: &str) -> Lexed<'_> {
    let mut tokens = Vec::new();
    for t in Lexer::new(sql) {
        match t {
            Ok(t) => tokens.push(t),
            Err(e) => return Lexed { tokens, error: Some(e) },
        }
    }
    Lexed { tokens, error: None }
}

/// The tokens of a statement one by one, so that a reader that stops early (at the first
/// words, or at an error) lexes no further. After an error it yields nothing more.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    sql: &'a str,
    i: usize,
    /// Inside a version comment: its `*/` ends it.
    in_version_comment: bool,
    done: bool,
}

impl<'a> Lexer<'a> {
    pub fn new(sql: &'a str) -> Lexer<'a> {
        Lexer { sql, i: 0, in_version_comment: false, done: false }
    }

    fn token(&mut self, kind: Kind, start: usize, end: usize) -> Option<Result<Token<'a>, LexError>> {
        self.i = end;
        Some(Ok(Token { kind, text: &self.sql[start..end], at: start }))
    }

    fn fail(&mut self, e: LexError) -> Option<Result<Token<'a>, LexError>> {
        self.done = true;
        Some(Err(e))
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Result<Token<'a>, LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (sql, b) = (self.sql, self.sql.as_bytes());
        while !self.done && self.i < b.len() {
            let i = self.i;
            let c = b[i];
            let next = b.get(i + 1).copied();
            if is_space(c) {
                self.i += 1;
            } else if c == b'#' || (c == b'-' && next == Some(b'-') && b.get(i + 2).is_none_or(|&d| is_space(d) || d.is_ascii_control())) {
                self.i = b[i..].iter().position(|&d| d == b'\n').map_or(b.len(), |n| i + n + 1);
            } else if c == b'*' && next == Some(b'/') && self.in_version_comment {
                self.in_version_comment = false;
                self.i += 2;
            } else if c == b'/' && next == Some(b'*') {
                let version = match (b.get(i + 2), b.get(i + 3)) {
                    (Some(b'!'), _) => Some(i + 3),
                    (Some(b'M'), Some(b'!')) => Some(i + 4),
                    _ => None,
                };
                if let Some(mut j) = version.filter(|_| !self.in_version_comment) {
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    self.in_version_comment = true;
                    self.i = j;
                } else {
                    match sql[i + 2..].find("*/") {
                        Some(n) => self.i += 2 + n + 2,
                        None => return self.fail(LexError::UnterminatedComment { at: i }),
                    }
                }
            } else if c == b'\'' || c == b'"' {
                return match string(sql, i) {
                    Some((value, end)) => self.token(Kind::Str(value), i, end),
                    None => self.fail(LexError::UnterminatedString { at: i }),
                };
            } else if c == b'`' {
                return match quoted_name(sql, i) {
                    Some((name, end)) => self.token(Kind::QuotedName(name), i, end),
                    None => self.fail(LexError::UnterminatedName { at: i }),
                };
            } else if is_word(c) {
                let mut j = i;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j > i && b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                }
                // Digits followed by letters are a name (`1st`), as in MySQL.
                let number = j > i && (j == b.len() || !is_word(b[j]));
                if !number {
                    while j < b.len() && is_word(b[j]) {
                        j += 1;
                    }
                }
                return self.token(if number { Kind::Number } else { Kind::Word }, i, j);
            } else {
                // An ASCII character (a non-ASCII one is part of a word).
                return self.token(Kind::Punct(char::from(c)), i, i + 1);
            }
        }
        if self.in_version_comment && !self.done {
            return self.fail(LexError::UnterminatedComment { at: b.len() });
        }
        None
    }
}

/// The string starting with the quote at `start`: its value, and the offset after it.
fn string(sql: &str, start: usize) -> Option<(String, usize)> {
    let quote = sql.as_bytes()[start];
    let mut value = String::new();
    let mut chars = sql[start + 1..].char_indices();
    while let Some((n, c)) = chars.next() {
        match c {
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    '0' => value.push('\0'),
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    'r' => value.push('\r'),
                    'b' => value.push('\u{8}'),
                    'Z' => value.push('\u{1a}'),
                    // Kept escaped, for LIKE patterns.
                    '%' | '_' => {
                        value.push('\\');
                        value.push(e);
                    }
                    e => value.push(e),
                }
            }
            c if c == char::from(quote) => {
                let end = start + 1 + n + 1;
                if sql.as_bytes().get(end) == Some(&quote) {
                    value.push(c);
                    chars.next();
                } else {
                    return Some((value, end));
                }
            }
            c => value.push(c),
        }
    }
    None
}

/// The `` `name` `` starting at `start`: the name (``` `` ``` is one backtick), and the offset
/// after it.
fn quoted_name(sql: &str, start: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut rest = &sql[start + 1..];
    loop {
        let n = rest.find('`')?;
        name.push_str(&rest[..n]);
        if rest[n + 1..].starts_with('`') {
            name.push('`');
            rest = &rest[n + 2..];
        } else {
            let end = sql.len() - rest.len() + n + 1;
            return Some((name, end));
        }
    }
}

impl Token<'_> {
    /// The word `w` in any letter case.
    pub fn is_word(&self, w: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(Kind, &str)> {
        let l = lex(sql);
        assert_eq!(l.error, None, "{sql}");
        l.tokens.into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn tokens_comments_and_strings() {
        use Kind::*;
        assert_eq!(
            kinds("/* c */ a\t-- c\n= 'x''y\\'z' # c\n, \"q\" 2.5 /*!50700 b */ /*M!100100 c*/ 1st `n``m`;"),
            [
                (Word, "a"),
                (Punct('='), "="),
                (Str("x'y'z".into()), "'x''y\\'z'"),
                (Punct(','), ","),
                (Str("q".into()), "\"q\""),
                (Number, "2.5"),
                (Word, "b"),
                (Word, "c"),
                (Word, "1st"),
                (QuotedName("n`m".into()), "`n``m`"),
                (Punct(';'), ";"),
            ]
        );
        // `--` without a space after it is two minus signs.
        assert_eq!(kinds("1--2"), [(Number, "1"), (Punct('-'), "-"), (Punct('-'), "-"), (Number, "2")]);
        assert_eq!(kinds("a--"), [(Word, "a")]);
        assert_eq!(kinds("1.x"), [(Number, "1"), (Punct('.'), "."), (Word, "x")]);
        assert_eq!(kinds("'\\n\\%'"), [(Str("\n\\%".into()), "'\\n\\%'")]);
        assert_eq!(kinds("é=1"), [(Word, "é"), (Punct('='), "="), (Number, "1")]);
    }

    #[test]
    fn unterminated_things_stop_lexing_where_they_start() {
        assert_eq!(lex("a 'b").error, Some(LexError::UnterminatedString { at: 2 }));
        assert_eq!(lex("a 'b\\'").error, Some(LexError::UnterminatedString { at: 2 }));
        assert_eq!(lex("a /* b").error, Some(LexError::UnterminatedComment { at: 2 }));
        assert_eq!(lex("a /*! b").error, Some(LexError::UnterminatedComment { at: 7 }));
        assert_eq!(lex("`a").error, Some(LexError::UnterminatedName { at: 0 }));
        assert_eq!(lex("a 'b").tokens.len(), 1);
    }

    #[test]
    fn any_bytes_lex_without_panicking() {
        // Every string of up to 4 characters from a set of the lexer's special ones.
        let alphabet = ["'", "\"", "`", "\\", "/", "*", "!", "M", "-", "#", "\n", " ", "1", ".", "a", "é"];
        let mut inputs = vec![String::new()];
        for _ in 0..4 {
            inputs = inputs.iter().flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}"))).collect();
            for s in &inputs {
                let l = lex(s);
                for t in &l.tokens {
                    assert_eq!(&s[t.at..t.at + t.text.len()], t.text);
                }
            }
        }
    }
}
