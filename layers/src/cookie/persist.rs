//! Saving and loading jars: JSON and curl's Netscape cookies.txt (feature `persist`).
//!
//! Files are parsed completely before the jar is touched, so a malformed or truncated file is an
//! error that leaves the jar as it was. Cookies in a well-formed file that break the jar's rules
//! (public-suffix domain, bad prefix, control characters, too big) are skipped, as are expired
//! ones. Writes are atomic: a temporary file in the target's directory, synced, then renamed
//! over the target (`tempfile::NamedTempFile::persist`).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::error::CookieError;
use super::jar::CookieJar;
use super::model::{Cookie, CookieLimits, SameSite};
use super::parse::{canonical_domain_attr, has_forbidden_ctl, is_public_suffix, MAX_AGE_CAP};

const JSON_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonFile {
    version: u32,
    cookies: Vec<JsonCookie>,
}

#[derive(Serialize, Deserialize)]
struct JsonCookie {
    name: String,
    value: String,
    domain: String,
    path: String,
    /// Unix seconds; absent for a session cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires: Option<u64>,
    #[serde(default)]
    secure: bool,
    #[serde(default)]
    http_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    same_site: Option<String>,
    #[serde(default)]
    host_only: bool,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created: Option<u64>,
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn from_unix(secs: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_secs(secs))
        .unwrap_or(UNIX_EPOCH)
}

/// Applies the jar's rules to a cookie read from a file; `None` when it must be skipped.
pub(crate) fn validate_loaded(
    mut c: Cookie,
    limits: &CookieLimits,
    now: SystemTime,
) -> Option<Cookie> {
    let name_ok = !c.name.contains(['=', ';', '\t'])
        && !has_forbidden_ctl(&c.name)
        && c.name.trim() == c.name;
    let value_ok = !c.value.contains(';') && !has_forbidden_ctl(&c.value);
    if !name_ok || !value_ok || (c.name.is_empty() && c.value.is_empty()) {
        return None;
    }
    if c.name.len() + c.value.len() > limits.max_cookie_size {
        return None;
    }
    if has_forbidden_ctl(&c.path) || !c.path.starts_with('/') || c.path.contains(';') {
        return None;
    }
    // The rules of a `Domain` attribute (one leading and one trailing dot dropped, IDNA,
    // IP literals host-only), and no public suffix for a domain cookie.
    let d = c.domain.strip_prefix('.').unwrap_or(&c.domain);
    let d = d.strip_suffix('.').unwrap_or(d);
    match canonical_domain_attr(d) {
        Ok((ip, true)) => {
            c.domain = ip;
            c.host_only = true;
        }
        Ok((domain, false)) => {
            c.domain = domain;
            if !c.host_only && is_public_suffix(&c.domain) {
                return None;
            }
        }
        Err(_) => return None,
    }
    let lower = c.name.to_ascii_lowercase();
    if lower.starts_with("__secure-") && !c.secure {
        return None;
    }
    if lower.starts_with("__host-") && !(c.secure && c.host_only && c.path == "/") {
        return None;
    }
    if c.name.is_empty() {
        let v = c.value.to_ascii_lowercase();
        if v.starts_with("__secure-") || v.starts_with("__host-") {
            return None;
        }
    }
    if c.is_expired_at(now) {
        return None;
    }
    c.expires = c.expires.map(|t| t.min(now + MAX_AGE_CAP));
    Some(c)
}

/// Writes `bytes` to `path` atomically (temp file in the same directory + rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn parse_json(
    text: &str,
    limits: &CookieLimits,
    now: SystemTime,
) -> Result<Vec<Cookie>, CookieError> {
    let file: JsonFile = serde_json::from_str(text).map_err(CookieError::Json)?;
    if file.version != JSON_VERSION {
        return Err(CookieError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("unsupported cookie file version {}", file.version),
        )));
    }
    Ok(file
        .cookies
        .into_iter()
        .filter_map(|j| {
            let c = Cookie {
                name: j.name,
                value: j.value,
                domain: j.domain,
                path: j.path,
                expires: j.expires.map(from_unix),
                secure: j.secure,
                http_only: j.http_only,
                same_site: j.same_site.as_deref().and_then(SameSite::parse),
                host_only: j.host_only,
                created: j.created.map_or(now, from_unix),
            };
            validate_loaded(c, limits, now)
        })
        .collect())
}

fn parse_bool(field: &str, line: usize, what: &str) -> Result<bool, CookieError> {
    if field.eq_ignore_ascii_case("TRUE") {
        Ok(true)
    } else if field.eq_ignore_ascii_case("FALSE") {
        Ok(false)
    } else {
        Err(CookieError::Netscape {
            line,
            reason: format!("{what} must be TRUE or FALSE, found {field:?}"),
        })
    }
}

/// Parses curl's cookies.txt: tab-separated domain, include-subdomains flag, path, secure,
/// expiry (Unix seconds, 0 = session), name, value; `#HttpOnly_` before the domain marks an
/// HttpOnly cookie; other `#` lines and blank lines are comments.
fn parse_netscape(
    text: &str,
    limits: &CookieLimits,
    now: SystemTime,
) -> Result<Vec<Cookie>, CookieError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let (line, http_only) = match line.strip_prefix("#HttpOnly_") {
            Some(rest) => (rest, true),
            None => (line, false),
        };
        if line.trim().is_empty() || (!http_only && line.starts_with('#')) {
            continue;
        }
        let fields: Vec<&str> = line.splitn(7, '\t').collect();
        if fields.len() < 6 {
            return Err(CookieError::Netscape {
                line: line_no,
                reason: format!("expected 7 tab-separated fields, found {}", fields.len()),
            });
        }
        let include_subdomains = parse_bool(fields[1], line_no, "the subdomain flag")?;
        let secure = parse_bool(fields[3], line_no, "the secure flag")?;
        let expires: u64 = fields[4]
            .trim()
            .parse()
            .map_err(|_| CookieError::Netscape {
                line: line_no,
                reason: format!("expiry must be Unix seconds, found {:?}", fields[4]),
            })?;
        let c = Cookie {
            name: fields[5].to_string(),
            value: fields.get(6).copied().unwrap_or("").to_string(),
            domain: fields[0].to_string(),
            path: fields[2].to_string(),
            expires: (expires != 0).then(|| from_unix(expires)),
            secure,
            http_only,
            same_site: None,
            host_only: !include_subdomains,
            created: now,
        };
        out.extend(validate_loaded(c, limits, now));
    }
    Ok(out)
}

impl CookieJar {
    /// Saves the jar as JSON to `path` (atomically). Session cookies are saved only when
    /// `include_session_cookies` is true.
    pub fn save_json(
        &self,
        path: impl AsRef<Path>,
        include_session_cookies: bool,
    ) -> std::io::Result<()> {
        let cookies = self
            .iter()
            .filter(|c| include_session_cookies || c.expires.is_some())
            .map(|c| JsonCookie {
                expires: c.expires.map(unix_secs),
                same_site: c.same_site.map(|s| s.as_str().to_string()),
                created: Some(unix_secs(c.created)),
                name: c.name,
                value: c.value,
                domain: c.domain,
                path: c.path,
                secure: c.secure,
                http_only: c.http_only,
                host_only: c.host_only,
            })
            .collect();
        let file = JsonFile {
            version: JSON_VERSION,
            cookies,
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
        write_atomic(path.as_ref(), &bytes)
    }

    /// A new jar with the cookies of a JSON file written by [`save_json`](Self::save_json).
    pub fn load_json(path: impl AsRef<Path>) -> Result<CookieJar, CookieError> {
        let jar = CookieJar::new();
        jar.load_json_into(path)?;
        Ok(jar)
    }

    /// Adds the cookies of a JSON file to this jar (replacing same domain/path/name). On any
    /// error the jar is left untouched.
    pub fn load_json_into(&self, path: impl AsRef<Path>) -> Result<(), CookieError> {
        let text = std::fs::read_to_string(path)?;
        let cookies = parse_json(&text, &self.limits(), SystemTime::now())?;
        self.insert_cookies(cookies);
        Ok(())
    }

    /// Saves the jar in curl's cookies.txt format to `path` (atomically), session cookies with
    /// expiry 0. Cookies whose name contains a tab cannot be written in this format and are left
    /// out.
    pub fn save_netscape(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let mut out = String::from(
            "# Netscape HTTP Cookie File\n# https://curl.se/docs/http-cookies.html\n\
             # This file was generated by tower-requests. Edit at your own risk.\n\n",
        );
        for c in self.iter() {
            if c.name.contains('\t') {
                continue;
            }
            if c.http_only {
                out.push_str("#HttpOnly_");
            }
            if !c.host_only {
                out.push('.');
            }
            let flag = |b: bool| if b { "TRUE" } else { "FALSE" };
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                c.domain,
                flag(!c.host_only),
                c.path,
                flag(c.secure),
                c.expires.map_or(0, unix_secs),
                c.name,
                c.value
            ));
        }
        write_atomic(path.as_ref(), out.as_bytes())
    }

    /// A new jar with the cookies of a curl cookies.txt file.
    pub fn load_netscape(path: impl AsRef<Path>) -> Result<CookieJar, CookieError> {
        let jar = CookieJar::new();
        jar.load_netscape_into(path)?;
        Ok(jar)
    }

    /// Adds the cookies of a curl cookies.txt file to this jar. On any error the jar is left
    /// untouched.
    pub fn load_netscape_into(&self, path: impl AsRef<Path>) -> Result<(), CookieError> {
        let text = std::fs::read_to_string(path)?;
        let cookies = parse_netscape(&text, &self.limits(), SystemTime::now())?;
        self.insert_cookies(cookies);
        Ok(())
    }
}

/// One of the jar's cookies as a `cookie_store` cookie (`None` for a name-less cookie, which
/// `cookie_store` cannot hold).
#[cfg(feature = "cookie-store")]
fn to_cookie_store(c: &Cookie, now: SystemTime) -> Option<cookie_store::Cookie<'static>> {
    if c.name.is_empty() {
        return None;
    }
    let host = if c.domain.contains(':') {
        format!("[{}]", c.domain)
    } else {
        c.domain.clone()
    };
    let url = url::Url::parse(&format!("https://{host}{}", c.path)).ok()?;
    let mut line = format!("{}={}; Path={}", c.name, c.value, c.path);
    if !c.host_only {
        line.push_str(&format!("; Domain={}", c.domain));
    }
    if let Some(t) = c.expires {
        let secs = t.duration_since(now).map_or(0, |d| d.as_secs().max(1));
        line.push_str(&format!("; Max-Age={secs}"));
    }
    if c.secure {
        line.push_str("; Secure");
    }
    if c.http_only {
        line.push_str("; HttpOnly");
    }
    if let Some(s) = c.same_site {
        line.push_str(&format!("; SameSite={s}"));
    }
    cookie_store::Cookie::parse(line, &url)
        .ok()
        .map(cookie_store::Cookie::into_owned)
}

#[cfg(feature = "cookie-store")]
fn invalid_data(e: impl std::fmt::Display) -> CookieError {
    CookieError::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("not a cookie_store JSON file: {e}"),
    ))
}

/// Import and export of the `cookie_store` crate's JSON files (features `persist` and
/// `cookie-store`), so a reqwest_cookie_store user moves to this jar in one call.
#[cfg(feature = "cookie-store")]
impl CookieJar {
    /// Adds the cookies of a `cookie_store` JSON file to this jar: the format of
    /// `cookie_store::serde::json::save` (0.22), or the older one-cookie-per-line format of
    /// `CookieStore::save_json`. Each cookie goes through the jar's own rules, as in
    /// [`load_json_into`](Self::load_json_into); on any error the jar is left untouched.
    pub fn import_cookie_store_json(&self, path: impl AsRef<Path>) -> Result<(), CookieError> {
        let text = std::fs::read_to_string(path)?;
        let store = match cookie_store::serde::json::load(text.as_bytes()) {
            Ok(store) => store,
            #[allow(deprecated)]
            Err(e) => cookie_store::CookieStore::load_json(text.as_bytes())
                .map_err(|_| invalid_data(e))?,
        };
        let now = SystemTime::now();
        let limits = self.limits();
        let cookies = store
            .iter_unexpired()
            .map(super::cookie_store_backend::from_cookie_store)
            .filter_map(|c| validate_loaded(c, &limits, now))
            .collect();
        self.insert_cookies(cookies);
        Ok(())
    }

    /// A new jar with the cookies of a `cookie_store` JSON file (see
    /// [`import_cookie_store_json`](Self::import_cookie_store_json)).
    pub fn load_cookie_store_json(path: impl AsRef<Path>) -> Result<CookieJar, CookieError> {
        let jar = CookieJar::new();
        jar.import_cookie_store_json(path)?;
        Ok(jar)
    }

    /// Saves the jar in the JSON format of `cookie_store::serde::json` (0.22), atomically.
    /// Session cookies are saved only when `include_session_cookies` is true; name-less cookies,
    /// which `cookie_store` cannot hold, are left out.
    pub fn export_cookie_store_json(
        &self,
        path: impl AsRef<Path>,
        include_session_cookies: bool,
    ) -> std::io::Result<()> {
        let now = SystemTime::now();
        let cookies = self
            .iter()
            .filter(|c| include_session_cookies || c.expires.is_some())
            .filter_map(|c| to_cookie_store(&c, now))
            .map(Ok::<_, std::convert::Infallible>);
        let store = match cookie_store::CookieStore::from_cookies(cookies, false) {
            Ok(store) => store,
            Err(never) => match never {},
        };
        let mut bytes = Vec::new();
        cookie_store::serde::json::save_incl_expired_and_nonpersistent(&store, &mut bytes)
            .map_err(std::io::Error::other)?;
        write_atomic(path.as_ref(), &bytes)
    }
}
