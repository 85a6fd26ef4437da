//! The accept loop: HTTP/1.1 connections with a deadline for request headers.
//!
//! `axum::serve` gives hyper no timer, so hyper's header read timeout never runs and a client
//! that trickles its headers a byte at a time (slow loris) holds a connection, and its task,
//! forever; the request timeout middleware cannot help because no request exists until the
//! headers are complete. Here every connection gets hyper's timer and a header deadline of
//! `request_timeout_ms`: headers not complete by then close the connection (an idle
//! keep-alive connection likewise). Bodies have their own limit ([`crate::limits::ApiJson`]).

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

/// Serves `app` on `listener` until `shutdown` completes, then lets the connections finish
/// their requests in progress. Each request carries the peer's [`ConnectInfo`].
pub async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: Duration,
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
            .header_read_timeout(header_timeout);
        let mut closing = close_receiver.clone();
        tokio::spawn(async move {
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, %peer, "connection ended");
                    }
                }
                _ = closing.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
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
