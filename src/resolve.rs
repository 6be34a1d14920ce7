//! Name resolution under the connector: the system resolver (hyper-util's `GaiResolver`,
//! `getaddrinfo` on tokio's blocking pool) with per-host overrides on top, as curl's `--resolve`
//! and reqwest's `resolve` give them. Written here because hyper-util has no resolver with
//! overrides and reqwest's is private; it is a map lookup in front of `GaiResolver`.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::client::legacy::connect::HttpConnector;
use tower::Service;

use crate::build_error::BuildError;
use crate::BoxError;

/// The TCP connector of every client: hyper-util's, over [`Resolver`].
pub(crate) type TcpConnector = HttpConnector<Resolver>;

/// Host name (lowercase, IDNA-encoded as a URL holds it) to the addresses it resolves to;
/// `None` (no allocation, for the many clients that have no override) when there are none.
#[derive(Clone, Debug, Default)]
pub(crate) struct Overrides(Option<Arc<HashMap<String, Vec<SocketAddr>>>>);

impl Overrides {
    /// The overrides given to a builder, checked: each host must be a domain name (an IP
    /// address is never looked up, so an override for one could never apply) and have at least
    /// one address. A later entry for the same host replaces an earlier one.
    pub(crate) fn new(entries: &[(String, Vec<SocketAddr>)]) -> Result<Overrides, BuildError> {
        let mut map = HashMap::with_capacity(entries.len());
        for (host, addrs) in entries {
            let key = override_key(host)?;
            if addrs.is_empty() {
                return Err(BuildError::msg(format!(
                    "resolve({host:?}): no address given"
                )));
            }
            map.insert(key, addrs.clone());
        }
        Ok(Overrides((!map.is_empty()).then(|| Arc::new(map))))
    }

    /// The addresses given for `host`, if any.
    pub(crate) fn get(&self, host: &str) -> Option<&[SocketAddr]> {
        let map = self.0.as_deref()?;
        let host = host.strip_suffix('.').unwrap_or(host);
        match map.get(host) {
            Some(addrs) => Some(addrs),
            None if host.bytes().any(|b| b.is_ascii_uppercase()) => {
                map.get(&host.to_ascii_lowercase()).map(Vec::as_slice)
            }
            None => None,
        }
    }
}

/// The form of `host` that URLs hold: lowercase, IDNA-encoded, without a trailing dot.
fn override_key(host: &str) -> Result<String, BuildError> {
    let bad = |why: &str| BuildError::msg(format!("resolve({host:?}): {why}"));
    if host.is_empty() {
        return Err(bad("the host name is empty"));
    }
    match url::Host::parse(host) {
        Ok(url::Host::Domain(domain)) => {
            let domain = domain.strip_suffix('.').unwrap_or(&domain);
            if domain.is_empty() || domain.contains(':') {
                return Err(bad("not a host name (give the name only, without a port)"));
            }
            Ok(domain.to_string())
        }
        Ok(_) => Err(bad(
            "an IP address is never looked up; overrides apply to host names",
        )),
        Err(e) => Err(bad(&format!("not a valid host name: {e}"))),
    }
}

/// The system resolver, with the overrides answered first.
#[derive(Clone)]
pub(crate) struct Resolver {
    gai: GaiResolver,
    overrides: Overrides,
}

impl Resolver {
    pub(crate) fn new(overrides: Overrides) -> Resolver {
        Resolver {
            gai: GaiResolver::new(),
            overrides,
        }
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field(
                "overrides",
                &self.overrides.0.as_ref().map_or(0, |m| m.len()),
            )
            .finish()
    }
}

type Addrs = std::vec::IntoIter<SocketAddr>;

impl Service<Name> for Resolver {
    type Response = Addrs;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Addrs, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // GaiResolver is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        if let Some(addrs) = self.overrides.get(name.as_str()) {
            let addrs = addrs.to_vec();
            return Box::pin(async move { Ok(addrs.into_iter()) });
        }
        let lookup = self.gai.call(name);
        Box::pin(async move { Ok(lookup.await?.collect::<Vec<_>>().into_iter()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_hosts_urls_hold_and_bad_hosts_are_refused() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let o = Overrides::new(&[("API.Example.TEST.".into(), vec![addr])]).unwrap();
        assert_eq!(o.get("api.example.test"), Some(&[addr][..]));
        assert_eq!(o.get("Api.example.test."), Some(&[addr][..]));
        assert_eq!(o.get("example.test"), None);
        let idn = Overrides::new(&[("bücher.test".into(), vec![addr])]).unwrap();
        assert!(idn.get("xn--bcher-kva.test").is_some());

        for bad in ["", "127.0.0.1", "[::1]", "a b", "host:80", "."] {
            let err = Overrides::new(&[(bad.into(), vec![addr])]).unwrap_err();
            assert!(err.to_string().contains("resolve("), "{bad:?}: {err:?}");
        }
        let err = Overrides::new(&[("a.test".into(), vec![])]).unwrap_err();
        assert!(crate::Error::from(err).is_builder());
    }
}
