//! TLS configuration: root certificates, client identities, the danger switch.
//!
//! Root stores are expensive to build (the native store is read from disk and parsed), so the
//! default configuration is built once per process and shared by every session: creating a
//! `Session` with default TLS settings costs an `Arc` clone. A session that adds roots, an
//! identity or a minimum version gets its own configuration, built once when the session is built;
//! it still shares the built-in roots (its own roots are checked first, see `ExtraRoots`).

use std::fmt;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::build_error::BuildError;

/// A trusted root certificate (DER inside), from PEM or DER.
#[derive(Clone, Debug)]
pub struct Certificate {
    der: CertificateDer<'static>,
}

impl Certificate {
    /// The first certificate of a PEM document.
    pub fn from_pem(pem: &[u8]) -> Result<Certificate, BuildError> {
        Certificate::from_pem_bundle(pem)?
            .into_iter()
            .next()
            .ok_or_else(|| BuildError::msg("no certificate found in PEM input"))
    }

    /// Every certificate of a PEM bundle (for example a CA bundle file). An input with no
    /// certificate, or a malformed one, is an error.
    pub fn from_pem_bundle(pem: &[u8]) -> Result<Vec<Certificate>, BuildError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .map(|c| c.map(|der| Certificate { der }))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BuildError::from_source(PemError(e)))?;
        if certs.is_empty() {
            return Err(BuildError::msg("no certificate found in PEM input"));
        }
        Ok(certs)
    }

    /// A certificate in DER encoding.
    pub fn from_der(der: &[u8]) -> Result<Certificate, BuildError> {
        Ok(Certificate {
            der: CertificateDer::from(der.to_vec()),
        })
    }
}

/// A client certificate chain and private key, for mutual TLS.
#[derive(Clone)]
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the key.
        f.debug_struct("Identity")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// A PEM document holding the certificate chain and the private key (PKCS#8, PKCS#1 or SEC1),
    /// in any order.
    pub fn from_pem(pem: &[u8]) -> Result<Identity, BuildError> {
        let chain = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BuildError::from_source(PemError(e)))?;
        if chain.is_empty() {
            return Err(BuildError::msg("no certificate found in identity PEM"));
        }
        let key =
            PrivateKeyDer::from_pem_slice(pem).map_err(|e| BuildError::from_source(PemError(e)))?;
        Ok(Identity {
            chain,
            key: Arc::new(key),
        })
    }

    /// Separate PEM documents for the certificate chain and the key.
    pub fn from_pem_parts(cert_pem: &[u8], key_pem: &[u8]) -> Result<Identity, BuildError> {
        let mut joined = cert_pem.to_vec();
        joined.push(b'\n');
        joined.extend_from_slice(key_pem);
        Identity::from_pem(&joined)
    }
}

/// A TLS protocol version, for [`crate::SessionBuilder::min_tls_version`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.2
    Tls12,
    /// TLS 1.3
    Tls13,
}

#[derive(Debug)]
struct PemError(rustls::pki_types::pem::Error);
impl fmt::Display for PemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid PEM: {:?}", self.0)
    }
}
impl std::error::Error for PemError {}

/// What a session asks of TLS. The default value maps to the shared process-wide configuration.
#[derive(Clone, Debug, Default)]
pub(crate) struct TlsOptions {
    pub(crate) extra_roots: Vec<Certificate>,
    pub(crate) builtin_roots_off: bool,
    pub(crate) danger_accept_invalid_certs: bool,
    pub(crate) identity: Option<Identity>,
    pub(crate) min_version: Option<TlsVersion>,
    pub(crate) http1_only: bool,
}

impl TlsOptions {
    fn is_default(&self) -> bool {
        self.extra_roots.is_empty()
            && !self.builtin_roots_off
            && !self.danger_accept_invalid_certs
            && self.identity.is_none()
            && self.min_version.is_none()
            && !self.http1_only
    }

    /// The rustls configuration for these options (the shared one when nothing is customised).
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, BuildError> {
        if self.is_default() {
            return Ok(shared_default_config().clone());
        }
        let provider = provider();
        let versions: &[&rustls::SupportedProtocolVersion] = match self.min_version {
            Some(TlsVersion::Tls13) => &[&rustls::version::TLS13],
            _ => rustls::DEFAULT_VERSIONS,
        };
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .map_err(BuildError::from_source)?;
        let builder = if self.danger_accept_invalid_certs {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerifier(provider)))
        } else {
            let mut extra = RootCertStore::empty();
            for cert in &self.extra_roots {
                extra
                    .add(cert.der.clone())
                    .map_err(BuildError::from_source)?;
            }
            if self.builtin_roots_off {
                builder.with_root_certificates(extra)
            } else if extra.is_empty() {
                builder.with_webpki_verifier(builtin_verifier())
            } else {
                // Not a copy of the built-in store plus the extra roots (~120 KB and ~20 us per
                // session): the extra roots get a verifier of their own, and the shared built-in
                // one is asked when they do not know the issuer. `dangerous()` is only the
                // rustls name for "your own verifier"; both verifiers are rustls' WebPKI ones.
                let extra = WebPkiServerVerifier::builder_with_provider(Arc::new(extra), provider)
                    .build()
                    .map_err(BuildError::from_source)?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(ExtraRoots {
                        extra,
                        builtin: builtin_verifier(),
                    }))
            }
        };
        let mut config = match &self.identity {
            Some(id) => builder
                .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
                .map_err(BuildError::from_source)?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn(self.http1_only);
        Ok(Arc::new(config))
    }
}

fn alpn(http1_only: bool) -> Vec<Vec<u8>> {
    if http1_only || !cfg!(feature = "http2") {
        vec![b"http/1.1".to_vec()]
    } else {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    }
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// webpki roots + the platform's native roots, parsed once per process.
fn builtin_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            // Native roots are best effort: a machine without a system store still gets the
            // webpki roots; unparsable system certificates are skipped, as reqwest does.
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                let _ = roots.add(cert);
            }
            Arc::new(roots)
        })
        .clone()
}

/// The WebPKI verifier over [`builtin_roots`], built once per process.
fn builtin_verifier() -> Arc<WebPkiServerVerifier> {
    static VERIFIER: OnceLock<Arc<WebPkiServerVerifier>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            WebPkiServerVerifier::builder_with_provider(builtin_roots(), provider())
                .build()
                .expect("the built-in root store is not empty")
        })
        .clone()
}

/// Built-in roots plus a session's own: a chain is checked against the session's roots first,
/// then against the shared built-in roots; it is valid when either accepts it, as with one
/// merged store. The error reported is the session roots' unless they did not know the issuer.
#[derive(Debug)]
struct ExtraRoots {
    extra: Arc<WebPkiServerVerifier>,
    builtin: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ExtraRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let own = self.extra.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let Err(own_err) = own else {
            return own;
        };
        // As one merged store would: valid if a chain reaches a root of either store (a session
        // root may even share a built-in root's name, which makes the first say BadSignature).
        match self.builtin.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => Ok(verified),
            Err(builtin_err) => Err(match own_err {
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => {
                    builtin_err
                }
                other => other,
            }),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.builtin.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.builtin.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.builtin.supported_verify_schemes()
    }
}

/// The configuration for `https://` proxies made from `tls` (see `connect::proxy_tls`): for
/// the shared default configuration, one shared copy too, rather than ~360 bytes per session.
pub(crate) fn proxy_config(
    tls: &Arc<ClientConfig>,
    make: impl FnOnce(&ClientConfig) -> ClientConfig,
) -> Arc<ClientConfig> {
    static DEFAULT_PROXY: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if Arc::ptr_eq(tls, shared_default_config()) {
        return DEFAULT_PROXY.get_or_init(|| Arc::new(make(tls))).clone();
    }
    Arc::new(make(tls))
}

fn shared_default_config() -> &'static Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default TLS versions")
            .with_webpki_verifier(builtin_verifier())
            .with_no_client_auth();
        config.alpn_protocols = alpn(false);
        Arc::new(config)
    })
}

/// `danger_accept_invalid_certs`: accepts any server certificate and name, but still checks the
/// handshake signatures so the connection is at least consistent with the presented key.
#[derive(Debug)]
struct NoVerifier(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate for `name` with its own subject (CN = `cn`).
    fn self_signed(name: &str, cn: &str) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    fn verifier(roots: &[&CertificateDer<'static>]) -> Arc<WebPkiServerVerifier> {
        let mut store = RootCertStore::empty();
        for r in roots {
            store.add((*r).clone()).unwrap();
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider())
            .build()
            .unwrap()
    }

    #[test]
    fn valid_when_either_store_accepts_with_the_session_roots_error_first() {
        let own = self_signed("own.test", "Own CA");
        let builtin = self_signed("builtin.test", "Builtin CA");
        let stranger = self_signed("stranger.test", "Stranger CA");
        // Same subject as the built-in root, another key: the session store finds an issuer
        // by name and reports a bad signature; the built-in store must still be asked.
        let twin = self_signed("twin.test", "Builtin CA");
        let v = ExtraRoots {
            extra: verifier(&[&own, &twin]),
            // Stands in for the built-in store.
            builtin: verifier(&[&builtin]),
        };
        let check = |cert: &CertificateDer<'static>, name: &'static str| {
            v.verify_server_cert(
                cert,
                &[],
                &ServerName::try_from(name).unwrap(),
                &[],
                UnixTime::now(),
            )
        };
        assert!(check(&own, "own.test").is_ok(), "a session root");
        assert!(
            check(&twin, "twin.test").is_ok(),
            "a session root sharing a name"
        );
        assert!(check(&builtin, "builtin.test").is_ok(), "a built-in root");
        assert_eq!(
            check(&stranger, "stranger.test").unwrap_err(),
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        );
        // The session's root knows the issuer, the name is wrong: that error is reported.
        let err = check(&own, "other.test").unwrap_err();
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForNameContext { .. }
                        | rustls::CertificateError::NotValidForName
                )
            ),
            "{err:?}"
        );
    }
}
