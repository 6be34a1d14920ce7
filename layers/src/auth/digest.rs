//! HTTP Digest (RFC 7616) client side.
//!
//! Written here rather than taken from a crate: the Rust digest-auth crates are small and
//! unmaintained, and what a client needs (parse challenges, hash, count nonces) is short; the
//! hashing itself comes from RustCrypto's `md-5` and `sha2`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use http::header::{HeaderValue, WWW_AUTHENTICATE};
use http::{HeaderMap, Method};
use md5::Md5;
use sha2::{Digest as _, Sha256};

use super::origin::Origin;

/// A parsed `WWW-Authenticate` challenge: scheme and auth-params (names lowercased).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawChallenge {
    pub(crate) scheme: String,
    pub(crate) params: Vec<(String, String)>,
}

impl RawChallenge {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/".contains(&b)
}

/// Parses the challenges of one `WWW-Authenticate` value (RFC 9110 §11.6.1), leniently: anything
/// it does not understand is skipped. Never panics.
pub(crate) fn parse_challenges(input: &[u8]) -> Vec<RawChallenge> {
    let mut out: Vec<RawChallenge> = Vec::new();
    let mut i = 0;
    let n = input.len();
    while i < n {
        // Separators.
        while i < n && (input[i] == b',' || input[i].is_ascii_whitespace()) {
            i += 1;
        }
        let start = i;
        while i < n && is_tchar(input[i]) {
            i += 1;
        }
        if i == start {
            // Not a token: skip the byte.
            i += 1;
            continue;
        }
        let name = String::from_utf8_lossy(&input[start..i]).to_ascii_lowercase();
        let mut j = i;
        while j < n && (input[j] == b' ' || input[j] == b'\t') {
            j += 1;
        }
        if j < n && input[j] == b'=' {
            // auth-param (or the `=` padding of a token68, which ends up ignored).
            j += 1;
            while j < n && (input[j] == b' ' || input[j] == b'\t') {
                j += 1;
            }
            let value = if j < n && input[j] == b'"' {
                j += 1;
                let mut v = Vec::new();
                while j < n && input[j] != b'"' {
                    if input[j] == b'\\' && j + 1 < n {
                        j += 1;
                    }
                    v.push(input[j]);
                    j += 1;
                }
                j += 1; // closing quote (or past the end)
                String::from_utf8_lossy(&v).into_owned()
            } else {
                let vs = j;
                while j < n && input[j] != b',' && !input[j].is_ascii_whitespace() {
                    j += 1;
                }
                String::from_utf8_lossy(&input[vs..j]).into_owned()
            };
            if let Some(last) = out.last_mut() {
                last.params.push((name, value));
            }
            i = j;
        } else {
            out.push(RawChallenge {
                scheme: name,
                params: Vec::new(),
            });
            i = j;
        }
    }
    out
}

/// Hash algorithms of RFC 7616 this client answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 => hex(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => hex(&Sha256::digest(data.as_bytes())),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A Digest challenge this client can answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub(crate) realm: String,
    pub(crate) nonce: String,
    pub(crate) opaque: Option<String>,
    pub(crate) algorithm: Algorithm,
    pub(crate) sess: bool,
    /// The `algorithm` token as the server spelled it (echoed back).
    pub(crate) algorithm_name: Option<String>,
    /// `qop=auth` offered (otherwise the RFC 2069 compatible form is used).
    pub(crate) qop_auth: bool,
    pub(crate) stale: bool,
}

impl Challenge {
    fn from_raw(raw: &RawChallenge) -> Option<Challenge> {
        if raw.scheme != "digest" {
            return None;
        }
        let nonce = raw.param("nonce")?.to_string();
        let realm = raw.param("realm").unwrap_or_default().to_string();
        let algorithm_name = raw.param("algorithm").map(str::to_string);
        let (algorithm, sess) = match algorithm_name.as_deref().map(str::to_ascii_uppercase) {
            None => (Algorithm::Md5, false),
            Some(a) => match a.as_str() {
                "MD5" => (Algorithm::Md5, false),
                "MD5-SESS" => (Algorithm::Md5, true),
                "SHA-256" => (Algorithm::Sha256, false),
                "SHA-256-SESS" => (Algorithm::Sha256, true),
                _ => return None,
            },
        };
        let qop_auth = match raw.param("qop") {
            None => false,
            Some(qop) => {
                if qop
                    .split(',')
                    .any(|q| q.trim().eq_ignore_ascii_case("auth"))
                {
                    true
                } else {
                    // Only auth-int (or unknown) offered: not answerable.
                    return None;
                }
            }
        };
        // -sess needs a cnonce, which only exists with qop.
        if sess && !qop_auth {
            return None;
        }
        Some(Challenge {
            realm,
            nonce,
            opaque: raw.param("opaque").map(str::to_string),
            algorithm,
            sess,
            algorithm_name,
            qop_auth,
            stale: raw
                .param("stale")
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The best challenge this client can answer among the `WWW-Authenticate` headers
    /// (SHA-256 preferred over MD5).
    pub(crate) fn select(headers: &HeaderMap) -> Option<Challenge> {
        headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .flat_map(|v| parse_challenges(v.as_bytes()))
            .filter_map(|raw| Challenge::from_raw(&raw))
            .max_by_key(|c| (c.algorithm == Algorithm::Sha256, !c.sess))
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The `Authorization` value answering `challenge` (RFC 7616 §3.4).
pub(crate) fn answer(
    challenge: &Challenge,
    username: &str,
    password: &str,
    method: &Method,
    uri: &str,
    nc: u32,
    cnonce: &str,
) -> Option<HeaderValue> {
    let alg = challenge.algorithm;
    let mut ha1 = alg.hash(&format!("{username}:{}:{password}", challenge.realm));
    if challenge.sess {
        ha1 = alg.hash(&format!("{ha1}:{}:{cnonce}", challenge.nonce));
    }
    let ha2 = alg.hash(&format!("{method}:{uri}"));
    let nc = format!("{nc:08x}");
    let response = if challenge.qop_auth {
        alg.hash(&format!(
            "{ha1}:{}:{nc}:{cnonce}:auth:{ha2}",
            challenge.nonce
        ))
    } else {
        alg.hash(&format!("{ha1}:{}:{ha2}", challenge.nonce))
    };
    let mut value = format!(
        "Digest username={}, realm={}, nonce={}, uri={}",
        quote(username),
        quote(&challenge.realm),
        quote(&challenge.nonce),
        quote(uri)
    );
    if let Some(name) = &challenge.algorithm_name {
        value.push_str(", algorithm=");
        value.push_str(name);
    }
    value.push_str(", response=\"");
    value.push_str(&response);
    value.push('"');
    if challenge.qop_auth {
        value.push_str(&format!(", qop=auth, nc={nc}, cnonce={}", quote(cnonce)));
    }
    if let Some(opaque) = &challenge.opaque {
        value.push_str(", opaque=");
        value.push_str(&quote(opaque));
    }
    let mut value = HeaderValue::from_bytes(value.as_bytes()).ok()?;
    value.set_sensitive(true);
    Some(value)
}

struct NonceState {
    challenge: Challenge,
    nc: u32,
}

/// Digest credentials plus the last challenge of each origin (answered preemptively afterwards,
/// counting `nc` per nonce).
pub(crate) struct Digest {
    username: String,
    password: String,
    state: Mutex<HashMap<Option<Origin>, NonceState>>,
}

impl Digest {
    pub(crate) fn new(username: String, password: String) -> Self {
        Digest {
            username,
            password,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// Adds an `Authorization` answering the origin's last challenge, if there is one.
    pub(crate) fn authorize(&self, key: &Option<Origin>, parts: &mut http::request::Parts) -> bool {
        let uri = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .unwrap_or("/")
            .to_string();
        let (challenge, nc) = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(entry) = state.get_mut(key) else {
                return false;
            };
            entry.nc = entry.nc.wrapping_add(1);
            (entry.challenge.clone(), entry.nc)
        };
        let cnonce = hex(&rand::random::<[u8; 16]>());
        match answer(
            &challenge,
            &self.username,
            &self.password,
            &parts.method,
            &uri,
            nc,
            &cnonce,
        ) {
            Some(value) => {
                parts.headers.insert(http::header::AUTHORIZATION, value);
                true
            }
            None => false,
        }
    }

    /// Records the challenge of a 401; returns whether there is one to answer.
    pub(crate) fn on_unauthorized(&self, key: &Option<Origin>, headers: &HeaderMap) -> bool {
        let Some(challenge) = Challenge::select(headers) else {
            return false;
        };
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.get_mut(key) {
            // Same nonce again (not stale): keep counting.
            Some(entry) if entry.challenge.nonce == challenge.nonce && !challenge.stale => {
                entry.challenge = challenge;
            }
            _ => {
                state.insert(key.clone(), NonceState { challenge, nc: 0 });
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multiple_challenges() {
        let v = br#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple", Digest realm="r", qop="auth,auth-int", nonce="abc", algorithm=SHA-256"#;
        let c = parse_challenges(v);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].scheme, "newauth");
        assert_eq!(c[0].param("title"), Some("Login to \"apps\""));
        assert_eq!(c[2].param("qop"), Some("auth,auth-int"));
        assert_eq!(c[2].param("algorithm"), Some("SHA-256"));
    }

    #[test]
    fn garbage_does_not_panic() {
        for v in [
            &b""[..],
            b"\"",
            b"Digest =",
            b"Digest a=\"\\",
            b",,,",
            b"\xff\xfe=\"",
            b"x y=z==",
        ] {
            let _ = parse_challenges(v);
        }
    }

    #[test]
    fn selects_sha256_over_md5() {
        let mut h = HeaderMap::new();
        h.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Digest realm="r", nonce="n1", qop="auth", algorithm=MD5"#),
        );
        h.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(
                r#"Digest realm="r", nonce="n2", qop="auth", algorithm=SHA-256"#,
            ),
        );
        h.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Digest realm="r", nonce="n3", qop="auth-int""#),
        );
        let c = Challenge::select(&h).unwrap();
        assert_eq!(c.nonce, "n2");
        assert_eq!(c.algorithm, Algorithm::Sha256);
    }

    /// RFC 7616 §3.9.1 example (MD5 and SHA-256).
    #[test]
    fn rfc7616_example() {
        let raw = |alg: &str| RawChallenge {
            scheme: "digest".into(),
            params: vec![
                ("realm".into(), "http-auth@example.org".into()),
                ("qop".into(), "auth, auth-int".into()),
                ("algorithm".into(), alg.into()),
                (
                    "nonce".into(),
                    "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v".into(),
                ),
                (
                    "opaque".into(),
                    "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS".into(),
                ),
            ],
        };
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let method = Method::GET;
        let md5 = Challenge::from_raw(&raw("MD5")).unwrap();
        let v = answer(
            &md5,
            "Mufasa",
            "Circle of Life",
            &method,
            "/dir/index.html",
            1,
            cnonce,
        )
        .unwrap();
        assert!(
            v.to_str()
                .unwrap()
                .contains("response=\"8ca523f5e9506fed4657c9700eebdbec\""),
            "{v:?}"
        );
        let sha = Challenge::from_raw(&raw("SHA-256")).unwrap();
        let v = answer(
            &sha,
            "Mufasa",
            "Circle of Life",
            &method,
            "/dir/index.html",
            1,
            cnonce,
        )
        .unwrap();
        let v = v.to_str().unwrap();
        assert!(
            v.contains(
                "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""
            ),
            "{v}"
        );
        assert!(
            v.contains("nc=00000001") && v.contains("qop=auth,") && v.contains("opaque=\"FQhe")
        );
    }
}
