//! Proxies: explicit ([`Proxy::http`], [`Proxy::https`], [`Proxy::all`]) and from the
//! environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper or lower case).
//!
//! Rules, in order, for each request URL:
//! 1. the first explicit proxy whose scheme rule covers the URL decides: its `no_proxy` list may
//!    send the request direct, otherwise it goes through that proxy;
//! 2. otherwise, with `trust_env` (the default, like requests), the environment decides, read
//!    once when the session is built.
//!
//! Explicit configuration always beats the environment. The `NO_PROXY` syntax is curl's (`*`,
//! `example.com` = the domain and its subdomains, `.example.com`, IP addresses, CIDR blocks) plus
//! `host:port` entries as requests accepts them. Matching uses hyper-util's proxy matcher; only
//! the `host:port` entries, which it does not support, are matched here.
//!
//! Credentials in a proxy URL (`http://user:pa%40ss@proxy:3128`) are percent-decoded and sent to
//! the proxy only: as `Proxy-Authorization` on absolute-form requests to an http proxy, inside the
//! `CONNECT` request for tunnels, or in the SOCKS5 handshake. They never reach the target
//! (CVE-2023-32681).

use std::fmt;

use http::Uri;
use hyper_util::client::proxy::matcher::{Intercept, Matcher};

use crate::error::Error;

/// A proxy rule for a session.
///
/// [`Proxy::http`] covers `http://` URLs, [`Proxy::https`] `https://` URLs (through a
/// `CONNECT` tunnel), [`Proxy::all`] both; the proxy URL may be `http://`, `https://`, or with
/// the `socks` feature `socks5://` / `socks5h://`, with `user:password@` for proxy credentials.
/// Here a small forward proxy started in the example (hidden lines) answers with the request
/// line it received, so no request leaves the machine:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// # use axum::{extract::Request, Router};
/// # let proxy = Router::new().fallback(|req: Request| async move {
/// #     format!("proxied {} {}", req.method(), req.uri())
/// # });
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let proxy_url = format!("http://{}", listener.local_addr()?);
/// # tokio::spawn(async move { axum::serve(listener, proxy).await });
/// use tower_requests::{Proxy, Session};
///
/// // `proxy_url` is the test proxy's address, `http://127.0.0.1:<port>`.
/// let session = Session::builder()
///     .proxy(Proxy::http(&proxy_url)?.no_proxy("localhost, internal.example"))
///     .trust_env(false) // ignore HTTP_PROXY and friends: only the rule above
///     .build()?;
/// let text = session.get("http://example.com/hello").send().await?.text().await?;
/// assert_eq!(text, "proxied GET http://example.com/hello");
///
/// // Invalid proxy URLs are refused when the rule is made:
/// assert!(Proxy::all("ftp://proxy.example:21").unwrap_err().is_builder());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Proxy {
    scope: Scope,
    url: String,
    no_proxy: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Http,
    Https,
    All,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("scope", &self.scope)
            .field("url", &redact(&self.url))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// A proxy URL with any password replaced, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "<invalid proxy URL>".to_string(),
    }
}

impl Proxy {
    /// Send `http://` requests through this proxy.
    pub fn http(url: impl AsRef<str>) -> Result<Proxy, Error> {
        Proxy::new(Scope::Http, url.as_ref())
    }

    /// Send `https://` requests through this proxy (a `CONNECT` tunnel, or SOCKS).
    pub fn https(url: impl AsRef<str>) -> Result<Proxy, Error> {
        Proxy::new(Scope::Https, url.as_ref())
    }

    /// Send every request through this proxy.
    pub fn all(url: impl AsRef<str>) -> Result<Proxy, Error> {
        Proxy::new(Scope::All, url.as_ref())
    }

    /// Hosts that bypass this proxy, comma-separated, `NO_PROXY` syntax.
    pub fn no_proxy(mut self, list: impl Into<String>) -> Proxy {
        self.no_proxy = list.into();
        self
    }

    fn new(scope: Scope, raw: &str) -> Result<Proxy, Error> {
        let url = validate_proxy_url(raw)?;
        Ok(Proxy {
            scope,
            url,
            no_proxy: String::new(),
        })
    }
}

/// Check a proxy URL: http, https, socks5 or socks5h (with the `socks` feature), with a host.
/// A URL without a scheme is taken as `http://` (as curl and requests do).
fn validate_proxy_url(raw: &str) -> Result<String, Error> {
    let raw = raw.trim();
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("http://{raw}")
    };
    let url = url::Url::parse(&with_scheme)
        .map_err(|e| Error::builder_msg(format!("invalid proxy URL {}: {e}", redact(raw))))?;
    match url.scheme() {
        "http" | "https" => {}
        "socks5" | "socks5h" if cfg!(feature = "socks") => {}
        "socks5" | "socks5h" => {
            return Err(Error::builder_msg(
                "SOCKS proxies need the `socks` cargo feature of tower-requests",
            ))
        }
        other => {
            return Err(Error::builder_msg(format!(
                "unsupported proxy scheme {other:?} (http, https, socks5, socks5h)"
            )))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::builder_msg(format!(
            "proxy URL has no host: {}",
            redact(raw)
        )));
    }
    Uri::try_from(with_scheme.as_str())
        .map_err(|e| Error::builder_msg(format!("invalid proxy URL {}: {e}", redact(raw))))?;
    Ok(with_scheme)
}

/// The environment variables that configure proxies, captured once.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProxyEnv {
    http: Option<String>,
    https: Option<String>,
    all: Option<String>,
    no: Option<String>,
    cgi: bool,
}

impl ProxyEnv {
    /// Read the process environment (upper case first, then lower case, like curl).
    pub(crate) fn from_process() -> ProxyEnv {
        ProxyEnv::from_lookup(|name| std::env::var(name).ok())
    }

    /// From explicit `(name, value)` pairs instead of the process environment.
    pub(crate) fn from_pairs<I, K, V>(vars: I) -> ProxyEnv
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: Vec<(String, String)> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        ProxyEnv::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> ProxyEnv {
        let first = |names: [&str; 2]| {
            names
                .iter()
                .find_map(|n| get(n).filter(|v| !v.trim().is_empty()))
        };
        ProxyEnv {
            http: first(["HTTP_PROXY", "http_proxy"]),
            https: first(["HTTPS_PROXY", "https_proxy"]),
            all: first(["ALL_PROXY", "all_proxy"]),
            no: first(["NO_PROXY", "no_proxy"]),
            // httpoxy: under CGI, HTTP_PROXY can be set by a request header; curl and Go ignore
            // the environment's proxies there, and so do we.
            cgi: get("REQUEST_METHOD").is_some(),
        }
    }
}

/// One compiled rule: a hyper-util matcher plus the `host:port` bypass entries it lacks.
struct Rule {
    matcher: Matcher,
    bypass_ports: Vec<(String, u16)>,
    /// `NO_PROXY=*`: hyper-util applies `*` to domain names only, curl to every host (IPs too).
    bypass_all: bool,
}

impl Rule {
    fn new(http: &str, https: &str, all: &str, no: &str) -> Rule {
        let (ported, plain): (Vec<&str>, Vec<&str>) = no
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .partition(|e| host_port(e).is_some());
        let bypass_ports = ported
            .iter()
            .filter_map(|e| host_port(e))
            .map(|(h, p)| (h.trim_start_matches('.').to_ascii_lowercase(), p))
            .collect();
        let matcher = Matcher::builder()
            .http(http)
            .https(https)
            .all(all)
            .no(plain.join(","))
            .build();
        Rule {
            matcher,
            bypass_ports,
            bypass_all: plain.contains(&"*"),
        }
    }

    /// `None`: this rule does not cover the URL's scheme. `Some(None)`: bypass (direct).
    fn decide(&self, dst: &Uri, covers: bool) -> Option<Option<Intercept>> {
        if !covers {
            return None;
        }
        if self.bypass_all {
            return Some(None);
        }
        let host = dst.host()?.trim_start_matches('[').trim_end_matches(']');
        let port = dst.port_u16().unwrap_or(match dst.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        let bypass = self.bypass_ports.iter().any(|(h, p)| {
            *p == port
                && (host.eq_ignore_ascii_case(h)
                    || (host.len() > h.len()
                        && host[host.len() - h.len()..].eq_ignore_ascii_case(h)
                        && host.as_bytes()[host.len() - h.len() - 1] == b'.'))
        });
        if bypass {
            return Some(None);
        }
        Some(self.matcher.intercept(dst))
    }
}

/// `host:port` (not an IPv6 address, not a CIDR) → (host, port).
fn host_port(entry: &str) -> Option<(&str, u16)> {
    if entry.contains('/') {
        return None;
    }
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let (h, p) = rest.split_once("]:")?;
        (h, p)
    } else {
        let (h, p) = entry.rsplit_once(':')?;
        if h.contains(':') {
            return None; // a bare IPv6 address
        }
        (h, p)
    };
    Some((host, port.parse().ok()?))
}

/// Where a request goes: a session's proxy rules, compiled once when it is built.
#[derive(Default)]
pub(crate) struct ProxyRules {
    explicit: Vec<(Scope, Rule)>,
    env: Option<Rule>,
}

impl fmt::Debug for ProxyRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyRules")
            .field("explicit", &self.explicit.len())
            .field("env", &self.env.is_some())
            .finish()
    }
}

impl ProxyRules {
    pub(crate) fn new(proxies: &[Proxy], env: Option<&ProxyEnv>) -> ProxyRules {
        let explicit = proxies
            .iter()
            .map(|p| {
                let (http, https) = match p.scope {
                    Scope::Http => (p.url.as_str(), ""),
                    Scope::Https => ("", p.url.as_str()),
                    Scope::All => (p.url.as_str(), p.url.as_str()),
                };
                (p.scope, Rule::new(http, https, "", &p.no_proxy))
            })
            .collect();
        let env = env.map(|e| {
            // Invalid values in the environment are ignored (they are not ours to reject).
            let valid = |v: &Option<String>| {
                v.as_deref()
                    .and_then(|v| validate_proxy_url(v).ok())
                    .unwrap_or_default()
            };
            let http = if e.cgi { String::new() } else { valid(&e.http) };
            Rule::new(
                &http,
                &valid(&e.https),
                &valid(&e.all),
                e.no.as_deref().unwrap_or(""),
            )
        });
        ProxyRules { explicit, env }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.explicit.is_empty() && self.env.is_none()
    }

    /// The proxy for this destination, if any.
    pub(crate) fn intercept(&self, dst: &Uri) -> Option<Intercept> {
        let https = dst.scheme_str() == Some("https");
        for (scope, rule) in &self.explicit {
            let covers = match scope {
                Scope::All => true,
                Scope::Http => !https,
                Scope::Https => https,
            };
            if let Some(decision) = rule.decide(dst, covers) {
                return decision;
            }
        }
        self.env
            .as_ref()
            .and_then(|r| r.decide(dst, true).flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    fn via(rules: &ProxyRules, dst: &str) -> Option<String> {
        rules.intercept(&uri(dst)).map(|i| i.uri().to_string())
    }

    #[test]
    fn bad_proxy_urls_are_builder_errors() {
        for bad in [
            "ftp://proxy:21",
            "http://",
            "http://exa mple.com",
            "://x",
            "gopher://x",
        ] {
            let err = Proxy::all(bad).unwrap_err();
            assert!(err.is_builder(), "{bad}: {err:?}");
        }
        assert!(
            Proxy::http("proxy.local:3128").is_ok(),
            "scheme-less means http"
        );
    }

    #[test]
    fn password_never_in_debug() {
        let p = Proxy::all("http://user:hunter2@proxy:3128").unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[test]
    fn explicit_scopes() {
        let rules = ProxyRules::new(
            &[
                Proxy::http("http://p1:1").unwrap(),
                Proxy::https("http://p2:2").unwrap(),
            ],
            None,
        );
        assert_eq!(
            via(&rules, "http://a.com/").as_deref(),
            Some("http://p1:1/")
        );
        assert_eq!(
            via(&rules, "https://a.com/").as_deref(),
            Some("http://p2:2/")
        );
    }

    #[test]
    fn explicit_beats_env_and_env_fills_the_rest() {
        let env = ProxyEnv::from_pairs([
            ("HTTP_PROXY", "http://envhttp:1"),
            ("https_proxy", "http://envhttps:2"),
        ]);
        let rules = ProxyRules::new(&[Proxy::http("http://mine:9").unwrap()], Some(&env));
        assert_eq!(
            via(&rules, "http://a.com/").as_deref(),
            Some("http://mine:9/")
        );
        assert_eq!(
            via(&rules, "https://a.com/").as_deref(),
            Some("http://envhttps:2/")
        );
    }

    #[test]
    fn upper_case_env_wins_over_lower_case() {
        let env = ProxyEnv::from_pairs([
            ("http_proxy", "http://lower:1"),
            ("HTTP_PROXY", "http://upper:2"),
        ]);
        let rules = ProxyRules::new(&[], Some(&env));
        assert_eq!(
            via(&rules, "http://a.com/").as_deref(),
            Some("http://upper:2/")
        );
    }

    #[test]
    fn all_proxy_covers_both_schemes() {
        let env = ProxyEnv::from_pairs([("ALL_PROXY", "socks5h://s:1080")]);
        let rules = ProxyRules::new(&[], Some(&env));
        let expected = if cfg!(feature = "socks") {
            Some("socks5h://s:1080/".to_string())
        } else {
            None // not usable without the feature: ignored like any invalid env value
        };
        assert_eq!(via(&rules, "http://a.com/"), expected);
        assert_eq!(via(&rules, "https://a.com/"), expected);
    }

    #[test]
    fn no_proxy_matrix() {
        let env = ProxyEnv::from_pairs([
            ("ALL_PROXY", "http://p:3128"),
            (
                "NO_PROXY",
                "example.com, .internal.org,10.0.0.0/8,192.168.1.7,api.test:8443,[::1]:8080,::2",
            ),
        ]);
        let rules = ProxyRules::new(&[], Some(&env));
        let cases = [
            ("http://example.com/", false),
            ("http://www.example.com/", false),
            ("http://notexample.com/", true),
            ("http://internal.org/", false),
            ("http://a.internal.org/", false),
            ("http://10.1.2.3/", false),
            ("http://11.1.2.3/", true),
            ("http://192.168.1.7/", false),
            ("http://192.168.1.8/", true),
            ("https://api.test:8443/", false),
            ("https://api.test/", true),
            ("https://v1.api.test:8443/", false),
            ("http://[::1]:8080/", false),
            ("http://[::1]:8081/", true),
            ("http://[::2]/", false),
            ("http://other.com/", true),
        ];
        for (dst, proxied) in cases {
            assert_eq!(via(&rules, dst).is_some(), proxied, "{dst}");
        }
    }

    #[test]
    fn no_proxy_star_bypasses_everything() {
        let env = ProxyEnv::from_pairs([("ALL_PROXY", "http://p:3128"), ("no_proxy", "*")]);
        let rules = ProxyRules::new(&[], Some(&env));
        assert_eq!(via(&rules, "http://a.com/"), None);
        assert_eq!(via(&rules, "https://10.0.0.1/"), None);
    }

    #[test]
    fn explicit_no_proxy() {
        let rules = ProxyRules::new(
            &[Proxy::all("http://p:1")
                .unwrap()
                .no_proxy("localhost,127.0.0.1")],
            None,
        );
        assert_eq!(via(&rules, "http://localhost:8080/"), None);
        assert_eq!(via(&rules, "http://127.0.0.1/"), None);
        assert!(via(&rules, "http://a.com/").is_some());
    }

    #[test]
    fn invalid_env_values_are_ignored_and_cgi_ignores_http_proxy() {
        let env = ProxyEnv::from_pairs([("HTTP_PROXY", "ftp://nope"), ("HTTPS_PROXY", "::::")]);
        let rules = ProxyRules::new(&[], Some(&env));
        assert_eq!(via(&rules, "http://a.com/"), None);
        assert_eq!(via(&rules, "https://a.com/"), None);

        let env =
            ProxyEnv::from_pairs([("HTTP_PROXY", "http://evil:1"), ("REQUEST_METHOD", "GET")]);
        let rules = ProxyRules::new(&[], Some(&env));
        assert_eq!(via(&rules, "http://a.com/"), None, "httpoxy");
    }

    #[test]
    fn credentials_are_percent_decoded() {
        let rules = ProxyRules::new(&[Proxy::http("http://us%40er:p%3Ass@p:1").unwrap()], None);
        let proxy = rules.intercept(&uri("http://a.com/")).unwrap();
        // base64("us@er:p:ss")
        assert_eq!(proxy.basic_auth().unwrap(), "Basic dXNAZXI6cDpzcw==");
        assert!(
            rules.intercept(&uri("https://a.com/")).is_none(),
            "http-only proxy"
        );
    }
}
