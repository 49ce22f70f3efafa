//! Slow and idle clients against the real connection loop (`serve::run`) on a loopback socket: a
//! half-sent request, an idle connection and a trickling body are cut off; at the connection cap new
//! clients wait instead of failing. Timeouts are short here; every assertion waits for an outcome with a
//! generous bound, so a busy machine only makes the test slower, never wrong.

mod common;

use cart_server::serve::{self, Limits};
use cart_server::{router, AppState, Config};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PATIENCE: Duration = Duration::from_secs(20);

struct Running {
    addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start(max_connections: usize, header_timeout: Duration) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    let config = Config {
        db: common::test_database(dir.path()),
        static_dir: www,
        pkg_dir: dir.path().join("pkg"),
        body_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let app = router(AppState::new(config).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let limits = Limits {
        max_connections,
        header_timeout,
    };
    tokio::spawn(serve::run(listener, app, limits, async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        _dir: dir,
        stop: Some(stop),
    }
}

/// Reads until the server closes the connection; what it sent before closing.
async fn until_closed(stream: &mut TcpStream, what: &str) -> String {
    let mut all = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut all)).await;
    assert!(read.is_ok(), "the server kept the {what} connection open");
    String::from_utf8_lossy(&all).into_owned()
}

#[tokio::test]
async fn half_sent_headers_and_idle_connections_are_cut_off() {
    let server = start(16, Duration::from_millis(300)).await;
    let mut half = TcpStream::connect(server.addr).await.unwrap();
    half.write_all(b"GET /api/v1/catalog HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    let answered = until_closed(&mut half, "half-sent").await;
    assert!(!answered.contains("200 OK"), "{answered}");
    until_closed(&mut idle, "idle").await;
    // The server still serves everyone else.
    let mut fresh = TcpStream::connect(server.addr).await.unwrap();
    fresh
        .write_all(b"GET /api/v1/catalog HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(until_closed(&mut fresh, "fresh").await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_trickling_body_gets_408() {
    let server = start(16, Duration::from_secs(30)).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(
        b"POST /api/v1/carts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"curr",
    )
    .await
    .unwrap();
    let answer = until_closed(&mut slow, "slow body").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");
}

#[tokio::test]
async fn at_the_cap_new_clients_wait_for_a_free_slot() {
    let server = start(2, Duration::from_secs(60)).await;
    let first = TcpStream::connect(server.addr).await.unwrap();
    let _second = TcpStream::connect(server.addr).await.unwrap();
    // Both slots are taken by idle connections: a third client is queued, not answered, not refused.
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    third
        .write_all(b"GET /api/v1/catalog HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut byte)).await;
    assert!(early.is_err(), "answered while every slot was taken");
    drop(first);
    let mut rest = Vec::new();
    tokio::time::timeout(PATIENCE, third.read_to_end(&mut rest))
        .await
        .expect("answered once a slot was free")
        .unwrap();
    assert!(String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 200"));
}
