//! What the TLS backend needs before reqwest builds a client.

/// `reqwest::Client::builder()`, once the TLS backend is ready for it.
///
/// With the `rustls-ring` feature, ring becomes the process's default
/// rustls crypto provider when none is installed yet: reqwest built with
/// `rustls-no-provider` takes the process's default, and panics when there
/// is none. A provider installed before, by the application or another
/// library, is kept.
pub(crate) fn http_client_builder() -> reqwest::ClientBuilder {
    #[cfg(feature = "rustls-ring")]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may install one first; that one is used then.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder()
}
