//! The accept loop: HTTP/1.1 connections with a deadline for request headers, and every
//! request head checked before hyper parses it.
//!
//! `axum::serve` gives hyper no timer, so hyper's header read timeout never runs and a client
//! that trickles its headers a byte at a time (slow loris) holds a connection, and its task,
//! forever; the request timeout middleware cannot help because no request exists until the
//! headers are complete. Here every connection gets hyper's timer and a header deadline of
//! `request_timeout_ms`: headers not complete by then close the connection (an idle
//! keep-alive connection likewise). Bodies have their own limit ([`crate::limits::ApiJson`]).
//!
//! ## Errors below the application are problem documents too
//! hyper answers a request head it cannot parse (a target over 64 KiB, too many or too large
//! header fields, a raw non-ASCII byte in the path, a bad or doubled `Content-Length`, an
//! unknown HTTP version, a TLS handshake on this plain-HTTP port) with an empty body and no
//! content type, and has no hook to change that answer. Two places could: the write side
//! (recognise hyper's own answer among the bytes it writes and replace it) or the read side
//! (check each head before hyper sees it). The write side would have to find the boundaries
//! of the answers in the written bytes and tell hyper's answer from the application's by
//! their shape, which depends on hyper's internals; the read side needs only the request
//! framing that HTTP/1.1 defines. So each connection's stream is a
//! [`GuardedStream`](crate::request_head): it holds every request head back
//! until `httparse` (the parser hyper uses) and our checks pass it, with lower limits than
//! hyper's (`request_head::TARGET_BYTES_MAX`, `HEAD_BYTES_MAX`, `HEADER_FIELDS_MAX`), counts
//! the body that follows by its `Content-Length` or chunked framing to find the next head,
//! and refuses a bad head with the right status (400, 413, 414, 431, 501, 505) and a problem
//! document, written after the answers to the requests before it, then closes the
//! connection. Good requests are untouched: keep-alive and pipelining work as before.
//!
//! A refused head reaches hyper as the end of the stream. hyper runs with `half_close`, so
//! the end of the stream lets it finish the answer in progress instead of dropping it; a
//! client that shuts its sending side after a request now gets its answer too. If hyper
//! still refuses a head the guard passed, that is a gap in the guard and is logged as a
//! warning.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt as _;

use crate::request_head::GuardedStream;

/// How connections are served.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionOptions {
    /// Request headers must be complete within this.
    pub header_timeout: Duration,
    /// `body_bytes_max`, named in the answer to a length that does not fit in 64 bits.
    pub body_bytes_max: u64,
    /// Whether a refused request head is logged (the access log is on).
    pub log_refusals: bool,
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the connections finish
/// their requests in progress. Each request carries the peer's [`ConnectInfo`].
pub async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: Router,
    options: ConnectionOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (close_sender, close_receiver) = tokio::sync::watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or a connection reset before accept: keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            app.clone().oneshot(request)
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(options.header_timeout)
            .half_close(true);
        let mut stream = GuardedStream::new(stream, options.body_bytes_max);
        if options.log_refusals {
            stream = stream.log_refusals(peer);
        }
        let mut closing = close_receiver.clone();
        tokio::spawn(async move {
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = closing.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                if error.is_parse() || error.is_parse_too_large() {
                    tracing::warn!(%error, %peer, "hyper refused a request head the guard passed");
                } else {
                    tracing::debug!(%error, %peer, "connection ended");
                }
            }
            drop(closing);
        });
    }
    drop(listener);
    drop(close_receiver);
    let _ = close_sender.send(());
    close_sender.closed().await;
    Ok(())
}
