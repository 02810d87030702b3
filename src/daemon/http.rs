//! The daemon's HTTP endpoint: `GET /healthz` (200 while it schedules, 503 once it is stopping)
//! and `GET /metrics` (Prometheus text). A minimal HTTP/1.1 server: one request a connection, a
//! bounded request head, nothing else served.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::metrics::Metrics;
use crate::{Error, Result};

/// Largest request head read; longer requests are refused.
const MAX_HEAD: usize = 8 * 1024;

/// Listen on `addr` and serve; returns the server task (abort it to stop).
pub async fn serve(addr: &str, metrics: Arc<Metrics>) -> Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(addr).await.map_err(|e| Error::Config {
        file: "[daemon] listen".into(),
        message: format!("cannot listen on `{addr}`: {e}"),
    })?;
    tracing::info!(addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "Serving /healthz and /metrics.");
    Ok(tokio::spawn(async move {
        loop {
            let socket = match listener.accept().await {
                Ok((socket, _)) => socket,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "Could not accept a connection.");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let _ =
                    tokio::time::timeout(Duration::from_secs(10), answer(socket, &metrics)).await;
            });
        }
    }))
}

async fn answer(mut socket: tokio::net::TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_HEAD {
            return respond(
                &mut socket,
                "431 Request Header Fields Too Large",
                "text/plain",
                "request head too large\n",
            )
            .await;
        }
    }
    let line = String::from_utf8_lossy(&head);
    let mut parts = line.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let path = target.split('?').next().unwrap_or_default();
    match (method, path) {
        ("GET", "/healthz") if metrics.stopping() => {
            respond(
                &mut socket,
                "503 Service Unavailable",
                "text/plain",
                "stopping\n",
            )
            .await
        }
        ("GET", "/healthz") => respond(&mut socket, "200 OK", "text/plain", "ok\n").await,
        ("GET", "/metrics") => {
            respond(
                &mut socket,
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                &metrics.render(),
            )
            .await
        }
        ("GET", _) => {
            respond(
                &mut socket,
                "404 Not Found",
                "text/plain",
                "not found: /healthz and /metrics are served\n",
            )
            .await
        }
        _ => {
            respond(
                &mut socket,
                "405 Method Not Allowed",
                "text/plain",
                "only GET\n",
            )
            .await
        }
    }
}

async fn respond(
    socket: &mut tokio::net::TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body.as_bytes()).await?;
    socket.shutdown().await
}
