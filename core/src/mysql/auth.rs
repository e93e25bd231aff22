//! Password authentication: the scrambles of mysql_native_password and caching_sha2_password,
//! computed by a client and checked by a server. A server keeps only the double hashes.

use sha1::{Digest, Sha1};
use sha2::Sha256;

pub const NATIVE_PASSWORD: &str = "mysql_native_password";
pub const CACHING_SHA2_PASSWORD: &str = "caching_sha2_password";

/// A password in clear, as a client sends it and as binraft keeps its primary's: its `Debug`
/// never shows it, and it serializes as the bare string (`password = "..."` in TOML).
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// The password itself, for the scramble or the wire; never for a log.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Password {
    fn from(p: &str) -> Self {
        Password(p.to_string())
    }
}

impl From<String> for Password {
    fn from(p: String) -> Self {
        Password(p)
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// What a server stores for one user: the hashes each plugin checks against.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredPassword {
    /// SHA1(SHA1(password)), as `mysql.user.authentication_string` holds it (`*HEX`).
    pub native: [u8; 20],
    /// SHA256(SHA256(password)), caching_sha2_password's fast-path cache.
    pub sha2: [u8; 32],
    pub empty: bool,
}

impl std::fmt::Debug for StoredPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredPassword(<redacted>)")
    }
}

impl StoredPassword {
    pub fn from_plain(password: &str) -> Self {
        let p = password.as_bytes();
        StoredPassword { native: sha1(&[&sha1(&[p])]), sha2: sha256(&[&sha256(&[p])]), empty: p.is_empty() }
    }
}

fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn xor<const N: usize>(a: &[u8; N], b: &[u8; N]) -> [u8; N] {
    let mut out = [0u8; N];
    for i in 0..N {
        out[i] = a[i] ^ b[i];
    }
    out
}

/// Client side, mysql_native_password: SHA1(pw) XOR SHA1(scramble, SHA1(SHA1(pw))). Empty for
/// an empty password.
pub fn native_scramble(password: &str, scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let h1 = sha1(&[password.as_bytes()]);
    let h2 = sha1(&[&h1]);
    xor(&h1, &sha1(&[&scramble[..scramble.len().min(20)], &h2])).to_vec()
}

/// Server side, mysql_native_password: whether `response` proves the password behind `stored`.
pub fn native_check(stored: &StoredPassword, scramble: &[u8; 20], response: &[u8]) -> bool {
    if response.is_empty() {
        return stored.empty;
    }
    let Ok(token) = <[u8; 20]>::try_from(response) else { return false };
    let candidate = xor(&token, &sha1(&[scramble, &stored.native]));
    sha1(&[&candidate]) == stored.native
}

/// Client side, caching_sha2_password fast path:
/// SHA256(pw) XOR SHA256(SHA256(SHA256(pw)), scramble).
pub fn sha2_scramble(password: &str, scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let h1 = sha256(&[password.as_bytes()]);
    let h2 = sha256(&[&h1]);
    xor(&h1, &sha256(&[&h2, &scramble[..scramble.len().min(20)]])).to_vec()
}

/// Server side, caching_sha2_password fast path against the cached double hash.
pub fn sha2_check(stored: &StoredPassword, scramble: &[u8; 20], response: &[u8]) -> bool {
    if response.is_empty() {
        return stored.empty;
    }
    let Ok(token) = <[u8; 32]>::try_from(response) else { return false };
    let candidate = xor(&token, &sha256(&[&stored.sha2, scramble]));
    sha256(&[&candidate]) == stored.sha2
}

/// Server side, caching_sha2_password full path (a clear password sent over TLS, zero-ended).
pub fn sha2_check_clear(stored: &StoredPassword, clear: &[u8]) -> bool {
    let clear = clear.strip_suffix(&[0]).unwrap_or(clear);
    sha256(&[&sha256(&[clear])]) == stored.sha2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_redacted_in_debug_and_bare_in_serde() {
        let p = Password::from("s3cr3t-pw");
        let client = crate::mysql::client::ClientConfig { user: "repl".into(), password: p.clone(), max_packet: 1024, tls: false };
        assert!(!format!("{p:?} {client:?}").contains("s3cr3t-pw"), "{client:?}");
        assert_eq!(p.expose(), "s3cr3t-pw");
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"s3cr3t-pw\"");
        assert_eq!(serde_json::from_str::<Password>("\"s3cr3t-pw\"").unwrap(), p);
    }

    #[test]
    fn native_known_hash() {
        // MySQL's PASSWORD('password') is *2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19.
        let s = StoredPassword::from_plain("password");
        assert_eq!(crate::codec::hex(&s.native), "2470c0c06dee42fd1618bb99005adca2ec9d1e19");
    }

    #[test]
    fn scrambles_verify_and_wrong_passwords_fail() {
        let scramble = *b"abcdefghijklmnopqrst";
        let s = StoredPassword::from_plain("s3cret");
        assert!(native_check(&s, &scramble, &native_scramble("s3cret", &scramble)));
        assert!(!native_check(&s, &scramble, &native_scramble("S3cret", &scramble)));
        assert!(!native_check(&s, &scramble, b"short"));
        assert!(sha2_check(&s, &scramble, &sha2_scramble("s3cret", &scramble)));
        assert!(!sha2_check(&s, &scramble, &sha2_scramble("nope", &scramble)));
        assert!(sha2_check_clear(&s, b"s3cret\0"));
        let empty = StoredPassword::from_plain("");
        assert!(native_check(&empty, &scramble, b""));
        assert!(!native_check(&s, &scramble, b""));
    }
}
