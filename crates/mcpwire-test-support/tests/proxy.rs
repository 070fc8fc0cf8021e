//! The fault proxy against a plain TCP server: it forwards both ways, resets at the byte it
//! was told, holds a stalled server back, and splits writes into single bytes.

#![cfg(feature = "proxy")]

use std::net::SocketAddr;
use std::time::Duration;

use mcpwire_test_support::proxy::FaultProxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const STEP: Duration = Duration::from_secs(10);

/// A server that writes `payload` to every connection after reading one byte, then reads
/// until the client closes, reporting on `ended` how each connection ended.
async fn server(payload: Vec<u8>) -> (SocketAddr, mpsc::UnboundedReceiver<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (ended_sender, ended) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let payload = payload.clone();
            let ended = ended_sender.clone();
            tokio::spawn(async move {
                let mut byte = [0u8; 1];
                let outcome = async {
                    socket.read_exact(&mut byte).await?;
                    socket.write_all(&payload).await?;
                    let mut rest = Vec::new();
                    socket.read_to_end(&mut rest).await?;
                    Ok(())
                }
                .await;
                let _ = ended.send(outcome);
            });
        }
    });
    (address, ended)
}

/// Reads until the end or an error; returns the bytes and whether it ended with an error.
async fn read_all(stream: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout(STEP, stream.read(&mut buffer))
            .await
            .expect("the stream ends in time")
        {
            Ok(0) => return (received, false),
            Ok(count) => received.extend_from_slice(&buffer[..count]),
            Err(_) => return (received, true),
        }
    }
}

#[tokio::test]
async fn bytes_pass_both_ways_and_a_reset_comes_exactly_after_its_bytes() {
    let payload: Vec<u8> = (0..100_000u32).map(|index| (index % 251) as u8).collect();
    let (upstream, mut ended) = server(payload.clone()).await;
    let proxy = FaultProxy::start(upstream).await.unwrap();

    let mut clean = TcpStream::connect(proxy.address()).await.unwrap();
    clean.write_all(b"go").await.unwrap();
    clean.shutdown().await.unwrap();
    let (received, failed) = read_all(&mut clean).await;
    assert_eq!(received, payload);
    assert!(!failed);
    assert!(ended.recv().await.unwrap().is_ok());
    assert_eq!(proxy.bytes_down(), payload.len() as u64);

    proxy.reset_after(12_345);
    assert!(proxy.reset_pending());
    let mut broken = TcpStream::connect(proxy.address()).await.unwrap();
    broken.write_all(b"g").await.unwrap();
    let (received, failed) = read_all(&mut broken).await;
    assert_eq!(received, payload[..12_345]);
    assert!(failed, "the client sees a reset, not an end of stream");
    let server_end = tokio::time::timeout(STEP, ended.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(server_end.is_err(), "the server sees the reset too");
    assert!(!proxy.reset_pending());
    assert_eq!(proxy.resets(), 1);
    assert_eq!(proxy.accepted(), 2);
}

#[tokio::test]
async fn a_stall_holds_the_server_back_until_released() {
    let payload = vec![7u8; 4 * 1024 * 1024];
    let (upstream, _ended) = server(payload.clone()).await;
    let proxy = FaultProxy::builder(upstream)
        .upstream_receive_buffer(4096)
        .start()
        .await
        .unwrap();
    proxy.stall();
    let mut client = TcpStream::connect(proxy.address()).await.unwrap();
    client.write_all(b"g").await.unwrap();
    let mut buffer = [0u8; 1024];
    let nothing = tokio::time::timeout(Duration::from_millis(200), client.read(&mut buffer)).await;
    assert!(nothing.is_err(), "nothing passes a stall");
    proxy.release();
    client.shutdown().await.unwrap();
    let (received, failed) = read_all(&mut client).await;
    assert!(!failed);
    assert_eq!(received.len(), payload.len());
}

#[tokio::test]
async fn one_byte_writes_deliver_everything_and_reset_all_breaks_open_connections() {
    let payload = b"hello, one byte at a time".to_vec();
    let (upstream, mut ended) = server(payload.clone()).await;
    let proxy = FaultProxy::builder(upstream)
        .one_byte_writes(true)
        .start()
        .await
        .unwrap();
    let mut client = TcpStream::connect(proxy.address()).await.unwrap();
    client.write_all(b"g").await.unwrap();
    let mut received = vec![0u8; payload.len()];
    tokio::time::timeout(STEP, client.read_exact(&mut received))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received, payload);

    assert_eq!(proxy.open(), 1);
    assert_eq!(proxy.reset_all(), 1);
    let (rest, failed) = read_all(&mut client).await;
    assert!(rest.is_empty());
    assert!(failed, "the client sees a reset");
    assert!(ended.recv().await.unwrap().is_err(), "so does the server");
}
