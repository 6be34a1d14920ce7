//! Proxies: explicit ([`Proxy::http`], [`Proxy::https`], [`Proxy::all`]) and from the
//! environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper or lower case).
//!
//! Rules, in order, for each request URL:
//! 1. the first explicit proxy whose scheme rule covers the URL decides: its `no_proxy` list may
//!    send the request direct, otherwise it goes through that proxy;
//! 2. otherwise, with `trust_env` (the default, like requests), the environment decides, read
//!    once when the session is built.
//!
//! A proxy variable that is set but cannot be used (it does not parse, has no host, or names an
//! unsupported scheme) fails the build with an error that names the variable, as requests fails
//! on it: skipping it would send what its user meant for a proxy straight to the target (DNS
//! lookup included). Under CGI, where `HTTP_PROXY` can come from a request header (httpoxy),
//! that one variable is ignored instead. Error messages and `Debug` never show a proxy's
//! user name or password.
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

use std::borrow::Cow;
use std::fmt;

use http::Uri;
use hyper_util::client::proxy::matcher::{Intercept, Matcher};

use crate::build_error::BuildError;

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
/// let err = Proxy::all("ftp://proxy.example:21").unwrap_err(); // a `BuildError`
/// assert!(err.to_string().contains("unsupported proxy scheme"));
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

/// A proxy setting without its credentials, for messages (the redaction every URL in an error
/// goes through).
fn redact(url: &str) -> Cow<'_, str> {
    crate::layers::redact::userinfo(url)
}

impl Proxy {
    /// Send `http://` requests through this proxy.
    pub fn http(url: impl AsRef<str>) -> Result<Proxy, BuildError> {
        Proxy::new(Scope::Http, url.as_ref())
    }

    /// Send `https://` requests through this proxy (a `CONNECT` tunnel, or SOCKS).
    pub fn https(url: impl AsRef<str>) -> Result<Proxy, BuildError> {
        Proxy::new(Scope::Https, url.as_ref())
    }

    /// Send every request through this proxy.
    pub fn all(url: impl AsRef<str>) -> Result<Proxy, BuildError> {
        Proxy::new(Scope::All, url.as_ref())
    }

    /// Hosts that bypass this proxy, comma-separated, `NO_PROXY` syntax.
    pub fn no_proxy(mut self, list: impl Into<String>) -> Proxy {
        self.no_proxy = list.into();
        self
    }

    fn new(scope: Scope, raw: &str) -> Result<Proxy, BuildError> {
        let url = validate_proxy_url(raw)?;
        Ok(Proxy {
            scope,
            url,
            no_proxy: String::new(),
        })
    }
}

/// Check a proxy URL: http, https, socks5 or socks5h (with the `socks` feature), with a host.
/// A URL without a scheme is taken as `http://` (as curl and requests do). Returns the URL as
/// the URL parser serialises it: a raw `@` in the password is percent-encoded there, so the
/// matcher (which splits the authority at its first `@`) cannot take part of the password for
/// the host.
fn validate_proxy_url(raw: &str) -> Result<String, BuildError> {
    let raw = raw.trim();
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("http://{raw}")
    };
    let url = url::Url::parse(&with_scheme)
        .map_err(|e| BuildError::msg(format!("invalid proxy URL {:?}: {e}", redact(raw))))?;
    match url.scheme() {
        "http" | "https" => {}
        "socks5" | "socks5h" if cfg!(feature = "socks") => {}
        "socks5" | "socks5h" => {
            return Err(BuildError::msg(format!(
                "SOCKS proxies need the `socks` cargo feature of tower-requests: {:?}",
                redact(raw)
            )))
        }
        other => {
            return Err(BuildError::msg(format!(
                "unsupported proxy scheme {other:?} (http, https, socks5, socks5h): {:?}",
                redact(raw)
            )))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(BuildError::msg(format!(
            "proxy URL has no host: {:?}",
            redact(raw)
        )));
    }
    let normalized = url.to_string();
    Uri::try_from(normalized.as_str())
        .map_err(|e| BuildError::msg(format!("invalid proxy URL {:?}: {e}", redact(raw))))?;
    Ok(normalized)
}

/// The environment variables that configure proxies, captured once.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProxyEnv {
    /// Each with the name of the variable it came from.
    http: Option<(&'static str, String)>,
    https: Option<(&'static str, String)>,
    all: Option<(&'static str, String)>,
    no: Option<(&'static str, String)>,
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
        let first = |names: [&'static str; 2]| {
            names
                .into_iter()
                .find_map(|n| get(n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
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
    /// Compiles the rules. A proxy variable of the environment that is set but unusable is an
    /// error naming the variable (as requests fails on it): ignoring it would send the
    /// requests its user meant for a proxy straight to their targets.
    pub(crate) fn new(proxies: &[Proxy], env: Option<&ProxyEnv>) -> Result<ProxyRules, BuildError> {
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
        let env = match env {
            None => None,
            Some(e) => {
                let valid = |v: &Option<(&'static str, String)>| match v {
                    None => Ok(String::new()),
                    Some((name, value)) => validate_proxy_url(value).map_err(|err| {
                        BuildError::msg(format!(
                            "the {name} environment variable is not a usable proxy ({})",
                            err.message().unwrap_or("invalid")
                        ))
                    }),
                };
                // httpoxy: under CGI, HTTP_PROXY may come from a request header; it is ignored
                // (not checked either: a client must not fail on what a caller sent).
                let http = if e.cgi {
                    String::new()
                } else {
                    valid(&e.http)?
                };
                Some(Rule::new(
                    &http,
                    &valid(&e.https)?,
                    &valid(&e.all)?,
                    e.no.as_ref().map_or("", |(_, v)| v.as_str()),
                ))
            }
        };
        Ok(ProxyRules { explicit, env })
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
            assert!(crate::Error::from(err).is_builder(), "{bad}");
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
        )
        .unwrap();
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
        let rules = ProxyRules::new(&[Proxy::http("http://mine:9").unwrap()], Some(&env)).unwrap();
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
        let rules = ProxyRules::new(&[], Some(&env)).unwrap();
        assert_eq!(
            via(&rules, "http://a.com/").as_deref(),
            Some("http://upper:2/")
        );
    }

    #[test]
    fn all_proxy_covers_both_schemes() {
        let env = ProxyEnv::from_pairs([("ALL_PROXY", "socks5h://s:1080")]);
        let rules = ProxyRules::new(&[], Some(&env));
        if cfg!(feature = "socks") {
            let rules = rules.unwrap();
            assert_eq!(
                via(&rules, "http://a.com/").as_deref(),
                Some("socks5h://s:1080/")
            );
            assert_eq!(
                via(&rules, "https://a.com/").as_deref(),
                Some("socks5h://s:1080/")
            );
        } else {
            // Not usable without the feature: an error, never a direct connection.
            let err = rules.unwrap_err();
            assert!(err.to_string().contains("ALL_PROXY"), "{err}");
        }
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
        let rules = ProxyRules::new(&[], Some(&env)).unwrap();
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
        let rules = ProxyRules::new(&[], Some(&env)).unwrap();
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
        )
        .unwrap();
        assert_eq!(via(&rules, "http://localhost:8080/"), None);
        assert_eq!(via(&rules, "http://127.0.0.1/"), None);
        assert!(via(&rules, "http://a.com/").is_some());
    }

    #[test]
    fn invalid_env_values_fail_naming_the_variable_and_cgi_ignores_http_proxy() {
        for (name, value) in [
            ("HTTP_PROXY", "ftp://nope"),
            ("https_proxy", "::::"),
            ("all_proxy", "http://"),
            ("HTTP_PROXY", "u:s3cretpw@[bad"),
        ] {
            let env = ProxyEnv::from_pairs([(name, value)]);
            let err = ProxyRules::new(&[], Some(&env)).unwrap_err();
            let text = format!("{err:#} {err:?}");
            assert!(err.message().is_some_and(|m| m.contains(name)), "{text}");
            assert!(err.to_string().contains(name), "{text}");
            assert!(!text.contains("s3cretpw"), "{text}");
        }

        // Under CGI, HTTP_PROXY may come from a request header: ignored, valid or not.
        for value in ["http://evil:1", "u:pw@[bad"] {
            let env = ProxyEnv::from_pairs([("HTTP_PROXY", value), ("REQUEST_METHOD", "GET")]);
            let rules = ProxyRules::new(&[], Some(&env)).unwrap();
            assert_eq!(via(&rules, "http://a.com/"), None, "httpoxy");
        }
    }

    #[test]
    fn a_raw_at_in_the_password_stays_in_the_password() {
        let rules = ProxyRules::new(&[Proxy::http("http://u:p@ss@p:1").unwrap()], None).unwrap();
        let proxy = rules.intercept(&uri("http://a.com/")).unwrap();
        assert_eq!(proxy.uri().to_string(), "http://p:1/");
        // base64("u:p@ss")
        assert_eq!(proxy.basic_auth().unwrap(), "Basic dTpwQHNz");
    }

    #[test]
    fn credentials_are_percent_decoded() {
        let rules =
            ProxyRules::new(&[Proxy::http("http://us%40er:p%3Ass@p:1").unwrap()], None).unwrap();
        let proxy = rules.intercept(&uri("http://a.com/")).unwrap();
        // base64("us@er:p:ss")
        assert_eq!(proxy.basic_auth().unwrap(), "Basic dXNAZXI6cDpzcw==");
        assert!(
            rules.intercept(&uri("https://a.com/")).is_none(),
            "http-only proxy"
        );
    }
}
