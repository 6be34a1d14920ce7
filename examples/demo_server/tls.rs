//! A fresh self-signed certificate for 127.0.0.1 and localhost, and a rustls server
//! configuration for it (ring provider, ALPN h2 + http/1.1). The demo server's; the tests'
//! servers (`tests/support`) and the loopback bench include this file too.
#![allow(dead_code)]

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A server configuration and the certificate it presents.
pub struct SelfSigned {
    /// ALPN h2 + http/1.1.
    pub config: rustls::ServerConfig,
    /// The certificate, for a client's root store.
    pub cert: CertificateDer<'static>,
    /// The same certificate as PEM (`Certificate::from_pem`).
    pub cert_pem: String,
}

/// A new certificate (a new key each call) and its server configuration.
pub fn self_signed() -> SelfSigned {
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("self-signed certificate");
    let cert = ck.cert.der().clone();
    let mut config = rustls::ServerConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.clone()],
            PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into()),
        )
        .expect("server certificate");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    SelfSigned {
        config,
        cert,
        cert_pem: ck.cert.pem(),
    }
}

/// The ring crypto provider.
pub fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
