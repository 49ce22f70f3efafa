//! The connection loop: hyper's HTTP/1 server with the limits an exposed server needs (docs/server.md).
//! A connection cap (`--max-connections`: beyond it, new connections wait in the kernel's backlog
//! instead of exhausting file descriptors), hyper's header-read timeout (`--header-timeout`: a client
//! that sends its headers too slowly, or keeps an idle connection open without a request, is cut off),
//! and, in the router, a body timeout (`--body-timeout`). Ctrl-C stops accepting and lets the
//! requests in flight finish.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The connection limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for the open requests.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let builder = Arc::new(builder.http1_only());
    tokio::pin!(shutdown);
    loop {
        // A free slot first: at the cap, no connection is accepted (the kernel queues them).
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of file descriptors or a reset before accept: keep serving the others.
                Err(_) => continue,
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone().layer(axum::Extension(ConnectInfo(remote))));
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            // hyper times out headers once a request has begun and idle keep-alive connections after a
            // response, but not a new connection that never sends a byte: that wait is ours.
            let mut first = [0u8; 1];
            if !matches!(
                tokio::time::timeout(header_timeout, stream.peek(&mut first)).await,
                Ok(Ok(1))
            ) {
                return;
            }
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            // A connection that ends badly (reset, timeout) concerns that client only.
            let _ = watcher.watch(connection.into_owned()).await;
            drop(slot);
        });
    }
    graceful.shutdown().await;
    Ok(())
}
