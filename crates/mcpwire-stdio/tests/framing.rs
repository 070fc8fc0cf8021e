//! The newline-delimited framing, over scripted readers and in-memory pipes: partial and
//! split lines, limits, invalid input, line endings, end of input, writing, and two engines
//! talking through it.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use mcpwire_jsonrpc::{
    ErrorCode, ErrorObject, ErrorResponse, Message, Notification, Request, RequestId,
};
use mcpwire_rpc::{Config, Handler, Peer, RequestContext, RequestOptions};
use mcpwire_stdio::{Limits, StdioReceiver, StdioTransport};
use mcpwire_transport::{Inbound, MessageReceiver, MessageSender, SendOptions, Transport};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, DuplexStream, ReadBuf};

/// A reader that hands out the given chunks, one read each (or less when the caller's buffer
/// is smaller), then an error if one is scripted, then end of input.
struct ScriptedReader {
    chunks: VecDeque<io::Result<Vec<u8>>>,
}

impl ScriptedReader {
    fn new<C: AsRef<[u8]>>(chunks: impl IntoIterator<Item = C>) -> Self {
        ScriptedReader {
            chunks: chunks
                .into_iter()
                .map(|chunk| Ok(chunk.as_ref().to_vec()))
                .filter(|chunk| chunk.as_ref().is_ok_and(|bytes| !bytes.is_empty()))
                .collect(),
        }
    }

    fn bytewise(input: &[u8]) -> Self {
        Self::new(input.chunks(1))
    }

    fn failing_after(chunk: &[u8]) -> Self {
        let mut reader = Self::new([chunk]);
        reader
            .chunks
            .push_back(Err(io::Error::other("the device is on fire")));
        reader
    }
}

impl AsyncRead for ScriptedReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let Some(front) = self.chunks.front_mut() else {
            return Poll::Ready(Ok(()));
        };
        let bytes = match front {
            Ok(bytes) => bytes,
            Err(_) => {
                let error = self.chunks.pop_front().expect("front exists");
                return Poll::Ready(error.map(|_| ()));
            }
        };
        let count = bytes.len().min(buffer.remaining());
        buffer.put_slice(&bytes[..count]);
        bytes.drain(..count);
        if bytes.is_empty() {
            self.chunks.pop_front();
        }
        Poll::Ready(Ok(()))
    }
}

fn limits(max_line_bytes: usize) -> Limits {
    Limits {
        max_line_bytes,
        ..Limits::default()
    }
}

fn notification(method: &str) -> Message {
    Message::from(Notification::new(method, None))
}

fn line(method: &str) -> String {
    format!("{}\n", notification(method))
}

/// A notification whose compact JSON is exactly `length` bytes long.
fn notification_of_length(length: usize) -> Vec<u8> {
    let empty = r#"{"jsonrpc":"2.0","method":"pad","params":{"p":""}}"#;
    assert!(length >= empty.len());
    let padding = "x".repeat(length - empty.len());
    let text = format!(r#"{{"jsonrpc":"2.0","method":"pad","params":{{"p":"{padding}"}}}}"#);
    assert_eq!(text.len(), length);
    text.into_bytes()
}

async fn next_message<R: MessageReceiver>(receiver: &mut R) -> Message {
    match receiver.receive().await {
        Some(Ok(Inbound::Message(message))) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

async fn next_invalid<R: MessageReceiver>(receiver: &mut R) -> mcpwire_jsonrpc::ParseError {
    match receiver.receive().await {
        Some(Ok(Inbound::Invalid(error))) => error,
        other => panic!("expected an invalid line, got {other:?}"),
    }
}

async fn expect_end<R: MessageReceiver>(receiver: &mut R) {
    let end = receiver.receive().await;
    assert!(end.is_none(), "expected the end of input, got {end:?}");
}

fn method_of(message: &Message) -> &str {
    message.method().expect("a notification has a method")
}

#[tokio::test]
async fn a_message_split_byte_by_byte_arrives_whole() {
    let input = format!("{}{}", line("first"), line("second"));
    let mut receiver = StdioReceiver::new(ScriptedReader::bytewise(input.as_bytes()));
    assert_eq!(next_message(&mut receiver).await, notification("first"));
    assert_eq!(next_message(&mut receiver).await, notification("second"));
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn lines_split_across_reads_are_joined() {
    let chunks = [
        r#"{"jsonrpc":"#,
        r#""2.0","method":"a"}"#,
        "\n{\"jsonrpc\":\"2.0\",",
        "\"method\":\"b\"}\n{\"jsonrpc\":\"2.0\",\"method\":\"c\"}",
        "\n",
    ];
    let mut receiver = StdioReceiver::new(ScriptedReader::new(chunks));
    for method in ["a", "b", "c"] {
        assert_eq!(method_of(&next_message(&mut receiver).await), method);
    }
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn many_messages_in_one_read_arrive_in_order() {
    let input: String = (0..200).map(|index| line(&format!("m{index}"))).collect();
    let mut receiver = StdioReceiver::new(ScriptedReader::new([input]));
    for index in 0..200 {
        assert_eq!(
            method_of(&next_message(&mut receiver).await),
            format!("m{index}")
        );
    }
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn a_line_exactly_at_the_limit_is_accepted() {
    let exact = notification_of_length(256);
    for ending in [&b"\n"[..], b"\r\n"] {
        for chunk_bytes in [1, 7, 4096] {
            let mut input = exact.clone();
            input.extend_from_slice(ending);
            let chunks: Vec<&[u8]> = input.chunks(chunk_bytes).collect();
            let mut receiver = StdioReceiver::with_limits(ScriptedReader::new(chunks), limits(256));
            assert_eq!(
                method_of(&next_message(&mut receiver).await),
                "pad",
                "ending {ending:?}, chunks of {chunk_bytes}"
            );
            expect_end(&mut receiver).await;
        }
    }
}

#[tokio::test]
async fn a_line_over_the_limit_is_a_parse_error_and_the_next_line_is_read() {
    for length in [257, 258, 10_000] {
        for chunk_bytes in [1, 100, 65_536] {
            let mut input = notification_of_length(length);
            input.push(b'\n');
            input.extend_from_slice(line("after").as_bytes());
            let chunks: Vec<&[u8]> = input.chunks(chunk_bytes).collect();
            let mut receiver = StdioReceiver::with_limits(ScriptedReader::new(chunks), limits(256));
            let error = next_invalid(&mut receiver).await;
            assert_eq!(error.code(), ErrorCode::PARSE_ERROR);
            assert_eq!(error.id(), None);
            assert!(error.is_too_large(), "{error}");
            assert!(error.to_string().contains("limit of 256 bytes"), "{error}");
            assert_eq!(method_of(&next_message(&mut receiver).await), "after");
            expect_end(&mut receiver).await;
        }
    }
}

#[tokio::test]
async fn the_parser_size_limit_applies_when_it_is_stricter() {
    let mut limits = Limits::default();
    limits.parse.max_size = 100;
    let input = format!(
        "{}\n{}",
        String::from_utf8(notification_of_length(101)).expect("ascii"),
        line("after")
    );
    let mut receiver = StdioReceiver::with_limits(ScriptedReader::new([input]), limits);
    assert!(next_invalid(&mut receiver).await.is_too_large());
    assert_eq!(method_of(&next_message(&mut receiver).await), "after");
}

#[tokio::test]
async fn a_fifty_mebibyte_line_is_skipped_with_bounded_memory() {
    const TOTAL: usize = 50 * 1024 * 1024;
    let (mut far_end, near_end) = tokio::io::duplex(64 * 1024);
    let writer = tokio::spawn(async move {
        let block = vec![b'a'; 64 * 1024];
        for _ in 0..TOTAL / block.len() {
            far_end.write_all(&block).await.expect("the receiver reads");
        }
        far_end
            .write_all(format!("\n{}", line("after")).as_bytes())
            .await
            .expect("the receiver reads");
    });
    let mut receiver = StdioReceiver::new(near_end);
    let error = next_invalid(&mut receiver).await;
    assert!(error.is_too_large());
    assert_eq!(method_of(&next_message(&mut receiver).await), "after");
    writer.await.expect("the writer finishes");
    let bound = 2 * Limits::DEFAULT_MAX_LINE_BYTES;
    assert!(
        receiver.buffer_capacity() < bound,
        "{} bytes held after a 50 MiB line, the bound is {bound}",
        receiver.buffer_capacity()
    );
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn invalid_utf8_is_a_parse_error() {
    let mut input = br#"{"jsonrpc":"2.0","method":"caf"#.to_vec();
    input.extend_from_slice(b"\xe9\"}\n");
    input.extend_from_slice(line("after").as_bytes());
    let mut receiver = StdioReceiver::new(ScriptedReader::new([input]));
    let error = next_invalid(&mut receiver).await;
    assert_eq!(error.code(), ErrorCode::PARSE_ERROR);
    assert!(error.to_string().contains("utf-8"), "{error}");
    assert_eq!(method_of(&next_message(&mut receiver).await), "after");
}

#[tokio::test]
async fn lines_that_break_the_envelope_rules_keep_their_code_and_id() {
    let input = concat!(
        "this is not json\n",
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"\"}\n",
        "{\"jsonrpc\":\"2.0\",\"method\":\"after\"}\n",
    );
    let mut receiver = StdioReceiver::new(ScriptedReader::new([input]));
    assert_eq!(
        next_invalid(&mut receiver).await.code(),
        ErrorCode::PARSE_ERROR
    );
    let error = next_invalid(&mut receiver).await;
    assert_eq!(error.code(), ErrorCode::INVALID_REQUEST);
    assert_eq!(error.id(), Some(&RequestId::from(5)));
    assert_eq!(method_of(&next_message(&mut receiver).await), "after");
}

#[tokio::test]
async fn crlf_endings_and_blank_lines_are_accepted() {
    let input = concat!(
        "\n",
        "{\"jsonrpc\":\"2.0\",\"method\":\"a\"}\r\n",
        "\r\n",
        "   \t \n",
        "{\"jsonrpc\":\"2.0\",\"method\":\"b\"}\n",
        "\n\n",
    );
    let mut receiver = StdioReceiver::new(ScriptedReader::bytewise(input.as_bytes()));
    assert_eq!(method_of(&next_message(&mut receiver).await), "a");
    assert_eq!(method_of(&next_message(&mut receiver).await), "b");
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn a_peer_closing_mid_message_ends_the_receiver() {
    let input = format!("{}{}", line("whole"), r#"{"jsonrpc":"2.0","meth"#);
    let mut receiver = StdioReceiver::new(ScriptedReader::new([input]));
    assert_eq!(method_of(&next_message(&mut receiver).await), "whole");
    let error = next_invalid(&mut receiver).await;
    assert_eq!(error.code(), ErrorCode::PARSE_ERROR);
    expect_end(&mut receiver).await;
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn a_last_message_without_newline_is_delivered() {
    let input = notification("last").to_string();
    let mut receiver = StdioReceiver::new(ScriptedReader::bytewise(input.as_bytes()));
    assert_eq!(method_of(&next_message(&mut receiver).await), "last");
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn the_input_ending_inside_an_overlong_line_ends_the_receiver() {
    let input = "y".repeat(1000);
    let mut receiver = StdioReceiver::with_limits(ScriptedReader::new([input]), limits(100));
    assert!(next_invalid(&mut receiver).await.is_too_large());
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn a_read_error_is_reported_once_then_the_receiver_ends() {
    let reader = ScriptedReader::failing_after(line("before").as_bytes());
    let mut receiver = StdioReceiver::new(reader);
    assert_eq!(method_of(&next_message(&mut receiver).await), "before");
    match receiver.receive().await {
        Some(Err(error)) => assert!(error.is_io(), "{error:?}"),
        other => panic!("expected the read error, got {other:?}"),
    }
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn batches_are_refused_by_default_and_split_when_allowed() {
    let batch = concat!(
        "[{\"jsonrpc\":\"2.0\",\"method\":\"a\"},",
        "{\"jsonrpc\":\"2.0\",\"id\":1},",
        "{\"jsonrpc\":\"2.0\",\"method\":\"b\"}]\n"
    );
    let mut refusing = StdioReceiver::new(ScriptedReader::new([batch]));
    assert!(next_invalid(&mut refusing).await.is_batch_rejected());

    let mut limits = Limits::default();
    limits.parse.allow_batch = true;
    let mut receiver = StdioReceiver::with_limits(ScriptedReader::new([batch]), limits);
    assert_eq!(method_of(&next_message(&mut receiver).await), "a");
    assert_eq!(
        next_invalid(&mut receiver).await.code(),
        ErrorCode::INVALID_REQUEST
    );
    assert_eq!(method_of(&next_message(&mut receiver).await), "b");
    expect_end(&mut receiver).await;
}

/// Polls a future once and drops it, returning its output if it was ready.
async fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|context| match future.as_mut().poll(context) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

#[tokio::test]
async fn receive_is_cancel_safe() {
    let (mut far_end, near_end) = tokio::io::duplex(1024);
    let mut receiver = StdioReceiver::new(near_end);
    let text = line("resumed");
    let (head, tail) = text.split_at(10);
    far_end.write_all(head.as_bytes()).await.expect("room");
    assert!(
        poll_once(receiver.receive()).await.is_none(),
        "half a line is not a message yet"
    );
    far_end.write_all(tail.as_bytes()).await.expect("room");
    assert_eq!(method_of(&next_message(&mut receiver).await), "resumed");
}

/// The stdio framing over one end of an in-memory pipe.
type PipeTransport =
    StdioTransport<tokio::io::ReadHalf<DuplexStream>, tokio::io::WriteHalf<DuplexStream>>;

/// A connected pair of stdio transports over in-memory pipes.
fn framed_pair(capacity: usize) -> (PipeTransport, PipeTransport) {
    let (left, right) = tokio::io::duplex(capacity);
    let (left_read, left_write) = tokio::io::split(left);
    let (right_read, right_write) = tokio::io::split(right);
    (
        StdioTransport::new(left_read, left_write),
        StdioTransport::new(right_read, right_write),
    )
}

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_owned()).expect("valid JSON")
}

#[tokio::test]
async fn each_message_is_written_as_exactly_one_line() {
    let (writer_end, mut reader_end) = tokio::io::duplex(64 * 1024);
    let (mut sender, _) = StdioTransport::new(tokio::io::empty(), writer_end).split();
    let messages = [
        Message::from(Request::new(RequestId::from(1), "ping", None)),
        Message::from(Notification::new(
            "text",
            Some(raw(r#"{"s":"line\nbreak\r and \u2028 escapes"}"#)),
        )),
        // Raw params built from pretty-printed text carry line breaks as whitespace.
        Message::from(Notification::new(
            "pretty",
            Some(raw("{\n  \"a\": [\r\n    1,\n    2\n  ]\n}")),
        )),
        Message::from(Notification::new(
            "separators",
            Some(raw("{\"s\":\"a\u{2028}b\u{2029}c\"}")),
        )),
        Message::from(ErrorResponse::new(
            Some(RequestId::from("x")),
            ErrorObject::internal_error("oops"),
        )),
    ];
    for message in messages.clone() {
        sender
            .send(message, SendOptions::default())
            .await
            .expect("the pipe has room");
    }
    sender.close().await.expect("closes");

    let mut output = Vec::new();
    reader_end
        .read_to_end(&mut output)
        .await
        .expect("reads all");
    assert_eq!(output.last(), Some(&b'\n'));
    assert!(!output.contains(&b'\r'));
    assert!(
        !output
            .windows(3)
            .any(|window| matches!(window, [0xE2, 0x80, 0xA8 | 0xA9]))
    );
    let lines: Vec<&[u8]> = output[..output.len() - 1]
        .split(|&byte| byte == b'\n')
        .collect();
    assert_eq!(lines.len(), messages.len());
    for (line, message) in lines.iter().zip(&messages) {
        let written: Value = serde_json::from_slice(line).expect("each line is JSON");
        let expected: Value = serde_json::from_slice(&message.to_vec()).expect("JSON");
        assert_eq!(written, expected);
        Message::parse(line).expect("each line is a valid message");
    }
}

#[tokio::test]
async fn closing_ends_the_peer_receiver_and_refuses_more_sends() {
    let (left, right) = framed_pair(1024);
    let (mut sender, _) = left.split();
    let (_, mut receiver) = right.split();
    sender
        .send(notification("before"), SendOptions::default())
        .await
        .expect("sends");
    sender.close().await.expect("closes");
    sender.close().await.expect("closing twice is harmless");
    let refused = sender
        .send(notification("after"), SendOptions::default())
        .await
        .expect_err("closed");
    assert!(refused.is_closed());
    assert_eq!(method_of(&next_message(&mut receiver).await), "before");
    expect_end(&mut receiver).await;
}

#[tokio::test]
async fn writing_to_a_pipe_nobody_reads_fails_as_closed() {
    let (writer_end, reader_end) = tokio::io::duplex(1024);
    drop(reader_end);
    let (mut sender, _) = StdioTransport::new(tokio::io::empty(), writer_end).split();
    let error = sender
        .send(notification("lost"), SendOptions::default())
        .await
        .expect_err("nobody reads");
    assert!(error.is_closed(), "{error:?}");
}

/// Answers `echo` with its params, `fail` with an error, and counts notifications.
struct Echo {
    notifications: tokio::sync::mpsc::UnboundedSender<String>,
}

impl Handler for Echo {
    async fn request(
        &self,
        params: Option<Box<RawValue>>,
        context: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        match context.method() {
            "echo" => Ok(params.unwrap_or_else(|| raw("null"))),
            other => Err(ErrorObject::method_not_found(other)),
        }
    }

    async fn notification(&self, notification: Notification, _peer: &Peer) {
        let _ = self.notifications.send(notification.method);
    }
}

fn echo() -> (Echo, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (notifications, received) = tokio::sync::mpsc::unbounded_channel();
    (Echo { notifications }, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_peers_talk_over_framed_pipes() {
    let (left, right) = framed_pair(4096);
    let (client_handler, _) = echo();
    let (server_handler, mut server_notifications) = echo();
    let client = Peer::start(left, client_handler, Config::default());
    let server = Peer::start(right, server_handler, Config::default());

    let mut calls = tokio::task::JoinSet::new();
    for index in 0..20 {
        let client = client.clone();
        calls.spawn(async move {
            let params = raw(&json!({"index": index, "text": "a\nb"}).to_string());
            let result = client
                .request_raw("echo", Some(params), RequestOptions::default())
                .await
                .expect("echo answers");
            let result: Value = serde_json::from_str(result.get()).expect("JSON");
            assert_eq!(result, json!({"index": index, "text": "a\nb"}));
        });
    }
    for _ in 0..20 {
        calls
            .join_next()
            .await
            .expect("a call is left")
            .expect("the call succeeds");
    }
    let error = client
        .request_raw("missing", None, RequestOptions::default())
        .await
        .expect_err("no such method");
    assert_eq!(
        error.remote().map(|remote| remote.code),
        Some(ErrorCode::METHOD_NOT_FOUND)
    );
    client
        .notify_raw("hello", None, SendOptions::default())
        .await
        .expect("sends");
    assert_eq!(server_notifications.recv().await.as_deref(), Some("hello"));

    // Closing one side closes the pipe, which ends the other side too.
    client.close().await;
    tokio::time::timeout(Duration::from_secs(5), server.closed())
        .await
        .expect("the server sees the end of input");
}

#[tokio::test]
async fn an_engine_answers_an_overlong_line_with_a_parse_error() {
    let (engine_end, mut test_end) = tokio::io::duplex(64 * 1024);
    let (engine_read, engine_write) = tokio::io::split(engine_end);
    let transport = StdioTransport::with_limits(engine_read, engine_write, limits(1024));
    let (handler, _) = echo();
    let _peer = Peer::start(transport, handler, Config::default());

    let mut input = "z".repeat(5000).into_bytes();
    input.push(b'\n');
    input.extend_from_slice(br#"{"jsonrpc":"2.0","id":9,"method":"echo","params":{"ok":true}}"#);
    input.push(b'\n');
    test_end.write_all(&input).await.expect("room");

    let mut reader = tokio::io::BufReader::new(test_end);
    let mut first = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut reader, &mut first)
        .await
        .expect("reads");
    let first: Value = serde_json::from_str(&first).expect("JSON");
    assert_eq!(first["id"], Value::Null);
    assert_eq!(first["error"]["code"], json!(-32700));
    let mut second = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut reader, &mut second)
        .await
        .expect("reads");
    assert_eq!(
        serde_json::from_str::<Value>(&second).expect("JSON"),
        json!({"jsonrpc": "2.0", "id": 9, "result": {"ok": true}})
    );
}
