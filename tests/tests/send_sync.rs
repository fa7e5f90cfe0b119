//! The public types can move between threads and be shared by tasks: a
//! client lives in an `Arc` or a static, errors cross `tokio::spawn` and
//! convert into `Box<dyn Error + Send + Sync>`, a token provider is shared
//! by every clone of a client. These are checked when this file compiles:
//! a type that stops being `Send` or `Sync` fails the build of the tests.

use std::sync::Arc;

use webex_calling::{
    ApiError, Client, ClientBuilder, Error, InvalidInput, RateLimiter, RetryPolicy, TokenFuture,
    TokenProvider, TokenRequest, Violation,
};

const fn assert_send_sync<T: Send + Sync + ?Sized>() {}

const fn assert_send<T: Send + ?Sized>() {}

const fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}

const _: () = {
    assert_send_sync::<Client>();
    assert_send_sync::<ClientBuilder>();
    assert_send_sync::<Error>();
    assert_send_sync::<ApiError>();
    assert_send_sync::<InvalidInput>();
    assert_send_sync::<Violation>();
    assert_send_sync::<RateLimiter>();
    assert_send_sync::<RetryPolicy>();
    assert_send_sync::<TokenRequest>();
    assert_send_sync::<dyn TokenProvider>();
    assert_send_sync::<Box<dyn TokenProvider>>();
    assert_send_sync::<Arc<dyn TokenProvider>>();
    assert_send::<TokenFuture<'static>>();
    assert_error::<Error>();
};

/// A closure is a provider, and boxes into the trait object the client
/// keeps; the trait object is usable (object safe).
#[test]
fn a_closure_provider_boxes_into_a_shareable_trait_object() {
    let provider: Box<dyn TokenProvider> = Box::new(|request: TokenRequest| async move {
        Ok::<_, std::convert::Infallible>(if request.is_refresh() {
            "refreshed"
        } else {
            "cached"
        })
    });
    let shared: Arc<dyn TokenProvider> = Arc::from(provider);
    let on_another_thread = Arc::clone(&shared);
    let token = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(on_another_thread.token(TokenRequest::refresh("refused")))
    })
    .join()
    .unwrap();
    assert_eq!(token.unwrap(), "refreshed");
}

/// An error converts into the boxed error most applications return.
#[test]
fn an_error_converts_into_a_boxed_send_sync_error() {
    let error = Client::builder().build().unwrap_err();
    let text = error.to_string();
    let boxed: Box<dyn std::error::Error + Send + Sync + 'static> = Box::new(error);
    assert_eq!(boxed.to_string(), text);
    assert!(boxed.downcast_ref::<Error>().is_some());
}
