//! The engine's guarantees, shown over the in-memory transport: correlation, errors,
//! ordering, cancellation, timeouts, bounds and shutdown.

use std::time::Duration;

use mcpwire_jsonrpc::method::RequestMethod;
use mcpwire_jsonrpc::{ErrorCode, ErrorObject, Message, Notification, Request, RequestId};
use mcpwire_rpc::{BUSY, Cancellation, Config, Handler, Peer, RequestContext, RequestOptions};
use mcpwire_transport::{
    Inbound, MemoryReceiver, MemorySender, MessageReceiver, MessageSender, SendOptions, Transport,
    duplex,
};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::mpsc;

fn raw(value: Value) -> Box<RawValue> {
    RawValue::from_string(value.to_string()).expect("valid JSON")
}

/// The test protocol's cancellation: `$/cancel` with `{"id": …}`.
struct TestCancellation;

impl Cancellation for TestCancellation {
    fn cancelled_request(&self, notification: &Notification) -> Option<RequestId> {
        if notification.method != "$/cancel" {
            return None;
        }
        let params: Value = serde_json::from_str(notification.params.as_ref()?.get()).ok()?;
        serde_json::from_value(params.get("id")?.clone()).ok()
    }

    fn cancel_notification(&self, id: &RequestId, reason: &str) -> Notification {
        Notification::new("$/cancel", Some(raw(json!({"id": id, "reason": reason}))))
    }
}

fn config() -> Config {
    Config::default().cancellation(TestCancellation)
}

/// What the test handler reports to the test.
#[derive(Debug, PartialEq)]
enum Event {
    Started(String),
    Cancelled(RequestId),
    Notified(String),
}

/// A handler whose behaviour is chosen by the method name.
#[derive(Clone)]
struct TestHandler {
    events: mpsc::UnboundedSender<Event>,
}

impl Handler for TestHandler {
    async fn request(
        &self,
        params: Option<Box<RawValue>>,
        context: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let _ = self
            .events
            .send(Event::Started(context.method().to_owned()));
        match context.method() {
            "echo" => Ok(params.unwrap_or_else(|| raw(Value::Null))),
            "fail" => Err(ErrorObject::invalid_params("no such thing")),
            "progress" => {
                for step in 0..3 {
                    context
                        .notify_raw("progress", Some(raw(json!({"step": step}))))
                        .await
                        .expect("notify");
                }
                Ok(raw(json!("done")))
            }
            "block" => {
                context.cancellation().cancelled().await;
                let _ = self.events.send(Event::Cancelled(context.id().clone()));
                Ok(raw(json!("cancelled, but answering anyway")))
            }
            "ask" => context
                .request_raw("echo", Some(raw(json!({"asked": true}))))
                .await
                .map_err(|error| ErrorObject::internal_error(error.to_string())),
            "panic" => panic!("a handler bug"),
            other => Err(ErrorObject::method_not_found(other)),
        }
    }

    async fn notification(&self, notification: Notification, _peer: &Peer) {
        let _ = self.events.send(Event::Notified(notification.method));
    }
}

fn handler() -> (TestHandler, mpsc::UnboundedReceiver<Event>) {
    let (events, receiver) = mpsc::unbounded_channel();
    (TestHandler { events }, receiver)
}

/// Two engines connected in memory.
fn pair() -> (
    Peer,
    mpsc::UnboundedReceiver<Event>,
    Peer,
    mpsc::UnboundedReceiver<Event>,
) {
    let (left, right) = duplex(64);
    let (client_handler, client_events) = handler();
    let (server_handler, server_events) = handler();
    let client = Peer::start(left, client_handler, config());
    let server = Peer::start(right, server_handler, config());
    (client, client_events, server, server_events)
}

/// An engine on one side and raw message access on the other.
fn engine_and_wire(
    config: Config,
) -> (
    Peer,
    mpsc::UnboundedReceiver<Event>,
    MemorySender,
    MemoryReceiver,
) {
    let (left, right) = duplex(64);
    let (server_handler, server_events) = handler();
    let server = Peer::start(right, server_handler, config);
    let (sender, receiver) = left.split();
    (server, server_events, sender, receiver)
}

async fn send(sender: &mut MemorySender, message: Message) {
    sender
        .send(message, SendOptions::default())
        .await
        .expect("send");
}

async fn next_message(receiver: &mut MemoryReceiver) -> Message {
    let received = tokio::time::timeout(Duration::from_secs(5), receiver.receive())
        .await
        .expect("a message in time");
    match received {
        Some(Ok(Inbound::Message(message))) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

async fn wait_until(mut condition: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if condition() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition not reached");
}

struct Echo;

impl RequestMethod for Echo {
    const METHOD: &'static str = "echo";
    type Params = Value;
    type Result = Value;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_correlated_with_their_responses() {
    let (client, _, _server, _) = pair();
    let mut calls = Vec::new();
    for index in 0..20 {
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            client.request::<Echo>(&json!({"index": index})).await
        }));
    }
    for (index, call) in calls.into_iter().enumerate() {
        assert_eq!(
            call.await.expect("task").expect("result"),
            json!({"index": index})
        );
    }
    assert_eq!(client.pending_requests(), 0);
}

#[tokio::test]
async fn an_error_response_reaches_the_caller_as_data() {
    let (client, _, _server, _) = pair();
    let error = client
        .request_raw("fail", None, RequestOptions::default())
        .await
        .expect_err("fails");
    assert!(error.is_remote());
    let remote = error.remote().expect("error object");
    assert_eq!(remote.code, ErrorCode::INVALID_PARAMS);
    assert!(remote.message.contains("no such thing"));
    let error = client
        .request_raw("nope", None, RequestOptions::default())
        .await
        .expect_err("fails");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::METHOD_NOT_FOUND
    );
}

#[tokio::test]
async fn a_result_of_the_wrong_shape_is_a_decode_error() {
    struct Numbers;
    impl RequestMethod for Numbers {
        const METHOD: &'static str = "echo";
        type Params = Value;
        type Result = Vec<u32>;
    }
    let (client, _, _server, _) = pair();
    let error = client
        .request::<Numbers>(&json!({"not": "numbers"}))
        .await
        .expect_err("wrong shape");
    assert!(error.is_decode(), "{error:?}");
}

#[tokio::test]
async fn notifications_a_handler_emits_arrive_before_its_result() {
    let (client, mut client_events, _server, _) = pair();
    let result = client
        .request_raw("progress", None, RequestOptions::default())
        .await
        .expect("result");
    assert_eq!(result.get(), "\"done\"");
    // The client handled all three notifications before the response completed the request.
    for _ in 0..3 {
        assert_eq!(
            client_events
                .try_recv()
                .expect("notified before the result"),
            Event::Notified("progress".to_owned())
        );
    }
}

#[tokio::test]
async fn a_handler_can_ask_the_peer_while_serving_a_request() {
    let (client, mut client_events, _server, _) = pair();
    let result = client
        .request_raw("ask", None, RequestOptions::default())
        .await
        .expect("result");
    assert_eq!(
        serde_json::from_str::<Value>(result.get()).expect("json"),
        json!({"asked": true})
    );
    assert_eq!(
        client_events.recv().await,
        Some(Event::Started("echo".to_owned()))
    );
}

#[tokio::test]
async fn dropping_a_request_future_cancels_it_on_the_wire() {
    let (client, _, server, mut server_events) = pair();
    let call = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .request_raw("block", None, RequestOptions::default())
                .await
        })
    };
    assert_eq!(
        server_events.recv().await,
        Some(Event::Started("block".to_owned()))
    );
    call.abort();
    assert!(call.await.expect_err("aborted").is_cancelled());
    // The server handler's token fired, and the request is gone on both sides.
    assert!(matches!(
        server_events.recv().await,
        Some(Event::Cancelled(_))
    ));
    wait_until(|| server.requests_in_flight() == 0).await;
    assert_eq!(client.pending_requests(), 0);
}

#[tokio::test]
async fn a_cancelled_request_gets_no_response() {
    let (server, mut events, mut wire, mut replies) = engine_and_wire(config());
    send(
        &mut wire,
        Message::from(Request::new(RequestId::from(1), "block", None)),
    )
    .await;
    assert_eq!(
        events.recv().await,
        Some(Event::Started("block".to_owned()))
    );
    let cancel = TestCancellation.cancel_notification(&RequestId::from(1), "changed my mind");
    send(&mut wire, Message::from(cancel)).await;
    assert_eq!(
        events.recv().await,
        Some(Event::Cancelled(RequestId::from(1)))
    );
    wait_until(|| server.requests_in_flight() == 0).await;
    // The next thing on the wire is the answer to a later request, not one to the cancelled request.
    send(
        &mut wire,
        Message::from(Request::new(
            RequestId::from(2),
            "echo",
            Some(raw(json!(2))),
        )),
    )
    .await;
    match next_message(&mut replies).await {
        Message::Response(response) => assert_eq!(response.id, RequestId::from(2)),
        other => panic!("expected the response to request 2, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_request_without_response_times_out_and_is_cancelled() {
    let (client, _, server, mut server_events) = pair();
    let options = RequestOptions::with_timeout(Duration::from_secs(5));
    let error = client
        .request_raw("block", None, options)
        .await
        .expect_err("times out");
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(
        server_events.recv().await,
        Some(Event::Started("block".to_owned()))
    );
    assert!(matches!(
        server_events.recv().await,
        Some(Event::Cancelled(_))
    ));
    wait_until(|| server.requests_in_flight() == 0).await;
    assert_eq!(client.pending_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pending_request_fails_when_the_connection_closes() {
    let (left, right) = duplex(64);
    let (client_handler, _) = handler();
    let (server_handler, mut server_events) = handler();
    let client = Peer::start(left, client_handler, config());
    let server = Peer::start(right, server_handler, config().max_in_flight(100));
    let mut calls = Vec::new();
    for _ in 0..100 {
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            client
                .request_raw("block", None, RequestOptions::default())
                .await
        }));
    }
    for _ in 0..100 {
        assert_eq!(
            server_events.recv().await,
            Some(Event::Started("block".to_owned()))
        );
    }
    server.close().await;
    let outcomes = tokio::time::timeout(Duration::from_secs(1), async {
        let mut outcomes = Vec::new();
        for call in calls {
            outcomes.push(call.await.expect("task"));
        }
        outcomes
    })
    .await
    .expect("every pending request fails within a second");
    assert!(
        outcomes
            .iter()
            .all(|outcome| outcome.as_ref().is_err_and(mcpwire_rpc::Error::is_closed))
    );
    client.closed().await;
    assert!(client.is_closed());
    assert!(
        client
            .request_raw("echo", None, RequestOptions::default())
            .await
            .expect_err("closed")
            .is_closed()
    );
}

#[tokio::test]
async fn requests_beyond_the_admission_limit_are_refused_as_busy() {
    let (_server, mut events, mut wire, mut replies) =
        engine_and_wire(config().max_in_flight(1).max_queued(1));
    for id in 1..=3 {
        send(
            &mut wire,
            Message::from(Request::new(RequestId::from(id), "block", None)),
        )
        .await;
    }
    assert_eq!(
        events.recv().await,
        Some(Event::Started("block".to_owned()))
    );
    match next_message(&mut replies).await {
        Message::Error(error) => {
            assert_eq!(error.id, Some(RequestId::from(3)));
            assert_eq!(error.error.code, BUSY);
        }
        other => panic!("expected a busy error, got {other:?}"),
    }
    // Request 2 waits for a slot: it starts once request 1 is cancelled.
    send(
        &mut wire,
        Message::from(TestCancellation.cancel_notification(&RequestId::from(1), "done")),
    )
    .await;
    assert_eq!(
        events.recv().await,
        Some(Event::Cancelled(RequestId::from(1)))
    );
    assert_eq!(
        events.recv().await,
        Some(Event::Started("block".to_owned()))
    );
}

#[tokio::test]
async fn a_reused_request_id_is_refused() {
    let (_server, mut events, mut wire, mut replies) = engine_and_wire(config());
    send(
        &mut wire,
        Message::from(Request::new(RequestId::from("same"), "block", None)),
    )
    .await;
    assert_eq!(
        events.recv().await,
        Some(Event::Started("block".to_owned()))
    );
    send(
        &mut wire,
        Message::from(Request::new(RequestId::from("same"), "echo", None)),
    )
    .await;
    match next_message(&mut replies).await {
        Message::Error(error) => {
            assert_eq!(error.id, Some(RequestId::from("same")));
            assert_eq!(error.error.code, ErrorCode::INVALID_REQUEST);
        }
        other => panic!("expected an invalid-request error, got {other:?}"),
    }
}

#[tokio::test]
async fn outbound_requests_beyond_the_pending_limit_wait_for_a_slot() {
    let (left, right) = duplex(64);
    let (client_handler, _) = handler();
    let (server_handler, mut server_events) = handler();
    let client = Peer::start(left, client_handler, config().max_pending(1));
    let _server = Peer::start(right, server_handler, config());
    let first = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .request_raw("block", None, RequestOptions::default())
                .await
        })
    };
    assert_eq!(
        server_events.recv().await,
        Some(Event::Started("block".to_owned()))
    );
    let second = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .request_raw("echo", Some(raw(json!(2))), RequestOptions::default())
                .await
        })
    };
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert!(
        server_events.try_recv().is_err(),
        "the second request waits while the first is pending"
    );
    assert_eq!(client.pending_requests(), 1);
    first.abort();
    assert_eq!(second.await.expect("task").expect("result").get(), "2");
}

#[tokio::test]
async fn responses_to_unknown_ids_are_ignored() {
    let (server, _events, mut wire, mut replies) = engine_and_wire(config());
    send(
        &mut wire,
        Message::from(mcpwire_jsonrpc::Response::new(
            RequestId::from(99),
            raw(json!(1)),
        )),
    )
    .await;
    send(
        &mut wire,
        Message::from(Request::new(
            RequestId::from(1),
            "echo",
            Some(raw(json!("still here"))),
        )),
    )
    .await;
    match next_message(&mut replies).await {
        Message::Response(response) => assert_eq!(response.result.get(), "\"still here\""),
        other => panic!("expected a response, got {other:?}"),
    }
    assert!(!server.is_closed());
}

#[tokio::test]
async fn a_begun_request_knows_its_id_before_it_is_sent() {
    let (engine, _events, mut wire, mut outbound) = engine_and_wire(config().max_pending(1));
    let request = engine
        .begin_request("echo", Some(raw(json!("hi"))), RequestOptions::default())
        .await
        .expect("a slot is free");
    assert_eq!(request.method(), "echo");
    let id = request.id().clone();
    // Nothing is on the wire yet, and the request is not pending.
    assert_eq!(engine.pending_requests(), 0);
    let call = tokio::spawn(request.send());
    let Message::Request(sent) = next_message(&mut outbound).await else {
        panic!("the request is sent");
    };
    assert_eq!(sent.id, id);
    assert_eq!(sent.method, "echo");
    send(
        &mut wire,
        Message::from(mcpwire_jsonrpc::Response::new(id, raw(json!("there")))),
    )
    .await;
    let result = call.await.expect("task").expect("the response");
    assert_eq!(result.get(), "\"there\"");
}

#[tokio::test]
async fn a_begun_request_dropped_unsent_sends_nothing_and_frees_its_slot() {
    let (engine, _events, mut wire, mut outbound) = engine_and_wire(config().max_pending(1));
    let unsent = engine
        .begin_request("never", None, RequestOptions::default())
        .await
        .expect("a slot is free");
    let first_id = unsent.id().clone();
    drop(unsent);
    // The only slot is free again: the next request goes out, with a new id.
    let sent = echo_answered_on_the_wire(&engine, &mut wire, &mut outbound).await;
    assert_ne!(sent, first_id);
}

#[tokio::test(start_paused = true)]
async fn a_silent_withdrawal_sends_no_cancellation() {
    let (engine, _events, mut wire, mut outbound) = engine_and_wire(config());
    let mut options = RequestOptions::with_timeout(Duration::from_secs(5));
    options.silent_withdrawal = true;
    let error = {
        let call = engine.request_raw("probe", None, options);
        tokio::pin!(call);
        let sent = tokio::select! {
            message = next_message(&mut outbound) => message,
            _ = &mut call => panic!("the probe is still pending"),
        };
        let Message::Request(probe) = sent else {
            panic!("the probe is a request");
        };
        assert_eq!(probe.method, "probe");
        call.await.expect_err("no answer comes")
    };
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(engine.pending_requests(), 0);
    // The next message on the wire is the next request, not a cancellation of the probe.
    echo_answered_on_the_wire(&engine, &mut wire, &mut outbound).await;
}

/// Sends an `echo` request from `engine`, checks that it is the next message on the wire,
/// answers it there, and returns its id once the engine has the answer.
async fn echo_answered_on_the_wire(
    engine: &Peer,
    wire: &mut MemorySender,
    outbound: &mut MemoryReceiver,
) -> RequestId {
    let call = {
        let engine = engine.clone();
        tokio::spawn(async move {
            engine
                .request_raw("echo", None, RequestOptions::default())
                .await
        })
    };
    let Message::Request(sent) = next_message(outbound).await else {
        panic!("expected the echo request next");
    };
    assert_eq!(sent.method, "echo");
    let response = mcpwire_jsonrpc::Response::new(sent.id.clone(), raw(json!("echoed")));
    send(wire, Message::from(response)).await;
    assert_eq!(
        call.await.expect("task").expect("result").get(),
        "\"echoed\""
    );
    sent.id
}

/// A transport whose receiver yields scripted inbound items, to deliver invalid input.
struct ScriptedTransport {
    inbound: mpsc::Receiver<Inbound>,
    outbound: mpsc::Sender<Message>,
}

struct ScriptedSender(mpsc::Sender<Message>);
struct ScriptedReceiver(mpsc::Receiver<Inbound>);

impl Transport for ScriptedTransport {
    type Sender = ScriptedSender;
    type Receiver = ScriptedReceiver;

    fn split(self) -> (ScriptedSender, ScriptedReceiver) {
        (
            ScriptedSender(self.outbound),
            ScriptedReceiver(self.inbound),
        )
    }
}

impl MessageSender for ScriptedSender {
    async fn send(
        &mut self,
        message: Message,
        _options: SendOptions,
    ) -> Result<(), mcpwire_transport::Error> {
        self.0
            .send(message)
            .await
            .map_err(|_| mcpwire_transport::Error::closed())
    }

    async fn close(&mut self) -> Result<(), mcpwire_transport::Error> {
        Ok(())
    }
}

impl MessageReceiver for ScriptedReceiver {
    async fn receive(&mut self) -> Option<Result<Inbound, mcpwire_transport::Error>> {
        self.0.recv().await.map(Ok)
    }
}

#[tokio::test]
async fn invalid_input_is_answered_with_the_parsers_error() {
    let (inbound_sender, inbound) = mpsc::channel(4);
    let (outbound, mut written) = mpsc::channel(4);
    let (server_handler, _) = handler();
    let _server = Peer::start(
        ScriptedTransport { inbound, outbound },
        server_handler,
        config(),
    );
    let error = Message::parse(br#"{"jsonrpc":"2.0","id":7,"method":"x","params":null}"#)
        .expect_err("invalid");
    inbound_sender
        .send(Inbound::Invalid(error))
        .await
        .expect("send");
    let error = Message::parse(b"{not json").expect_err("invalid");
    inbound_sender
        .send(Inbound::Invalid(error))
        .await
        .expect("send");
    match written.recv().await.expect("a reply") {
        Message::Error(reply) => {
            assert_eq!(reply.id, Some(RequestId::from(7)));
            assert_eq!(reply.error.code, ErrorCode::INVALID_REQUEST);
        }
        other => panic!("expected an error response, got {other:?}"),
    }
    match written.recv().await.expect("a reply") {
        Message::Error(reply) => {
            assert_eq!(reply.id, None);
            assert_eq!(reply.error.code, ErrorCode::PARSE_ERROR);
        }
        other => panic!("expected an error response, got {other:?}"),
    }
}

#[tokio::test]
async fn a_broken_reply_fails_its_request_at_once_and_is_not_answered() {
    let broken = [
        r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"both"}}"#,
        r#"{"jsonrpc":"2.0","id":2}"#,
        r#"{"jsonrpc":"2.0","id":3,"error":{"message":"no code"}}"#,
    ];
    let (inbound_sender, inbound) = mpsc::channel(4);
    let (outbound, mut written) = mpsc::channel(4);
    let (handler, _) = handler();
    // The request timeout is an hour: only the broken reply can end the requests in time.
    let peer = Peer::start(
        ScriptedTransport { inbound, outbound },
        handler,
        config().request_timeout(Some(Duration::from_secs(3600))),
    );
    for (index, reply) in broken.iter().enumerate() {
        let request = {
            let peer = peer.clone();
            tokio::spawn(async move {
                peer.request_raw("sampling/createMessage", None, RequestOptions::default())
                    .await
            })
        };
        let sent = written.recv().await.expect("the request is sent");
        let Message::Request(sent) = sent else {
            panic!("expected a request, got {sent:?}");
        };
        assert_eq!(sent.id, RequestId::from(index as i64 + 1));
        let error = Message::parse(reply.as_bytes()).expect_err("a broken reply");
        inbound_sender
            .send(Inbound::Invalid(error))
            .await
            .expect("send");
        let outcome = tokio::time::timeout(Duration::from_secs(10), request)
            .await
            .expect("the request ends at once")
            .expect("joins");
        let error = outcome.expect_err("a broken reply is no result");
        assert!(error.is_invalid_response(), "{error:?} for {reply}");
    }
    // Nothing was written back: a reply is never answered.
    peer.close().await;
    assert!(written.recv().await.is_none(), "no answer to a reply");
}

#[tokio::test]
async fn closing_flushes_queued_messages_first() {
    let (client, _, server, mut server_events) = pair();
    for _ in 0..10 {
        client
            .notify_raw("note", None, SendOptions::default())
            .await
            .expect("queued");
    }
    client.close().await;
    assert!(client.is_closed());
    // The server saw every notification, then the end of the transport.
    server.closed().await;
    let mut notified = 0;
    while let Ok(event) = server_events.try_recv() {
        assert_eq!(event, Event::Notified("note".to_owned()));
        notified += 1;
    }
    assert_eq!(notified, 10);
}

#[tokio::test]
async fn a_panicking_handler_answers_with_an_internal_error() {
    let (client, _, server, _) = pair();
    let error = client
        .request_raw("panic", None, RequestOptions::default())
        .await
        .expect_err("fails");
    assert_eq!(
        error.remote().expect("error object").code,
        ErrorCode::INTERNAL_ERROR
    );
    // The connection survives.
    let result = client
        .request_raw("echo", Some(raw(json!(1))), RequestOptions::default())
        .await
        .expect("result");
    assert_eq!(result.get(), "1");
    assert_eq!(server.requests_in_flight(), 0);
}

#[tokio::test]
async fn a_result_the_peer_would_refuse_is_answered_with_an_error_instead() {
    let (left, right) = duplex(64);
    let (client_handler, _) = handler();
    let (server_handler, _) = handler();
    let client = Peer::start(left, client_handler, config());
    let limits = mcpwire_jsonrpc::ParseOptions {
        max_size: 200,
        max_depth: 8,
        ..mcpwire_jsonrpc::ParseOptions::default()
    };
    let server = Peer::start(right, server_handler, config().peer_limits(limits));
    let echo = |params: Value| {
        let client = client.clone();
        async move {
            client
                .request_raw("echo", Some(raw(params)), RequestOptions::default())
                .await
        }
    };
    // Sent, the echoed params would make a response the client's parser refuses without
    // an id, and the request would wait for its timeout: it fails at once instead.
    let large = echo(json!({"text": "x".repeat(200)}))
        .await
        .expect_err("too large");
    let error = large.remote().expect("an error object");
    assert_eq!(error.code, ErrorCode::INTERNAL_ERROR);
    assert!(
        error.message.contains("result is too large"),
        "{}",
        error.message
    );
    let deep = echo(json!({"a": [[[[[[[[1]]]]]]]]}))
        .await
        .expect_err("too deep");
    let error = deep.remote().expect("an error object");
    assert!(
        error.message.contains("nested too deeply"),
        "{}",
        error.message
    );
    // Within the limits, the result goes as it is; the connection is fine.
    let fits = echo(json!({"a": [[[[[[1]]]]]]})).await.expect("fits");
    assert_eq!(fits.get(), r#"{"a":[[[[[[1]]]]]]}"#);
    assert_eq!(server.requests_in_flight(), 0);
}

#[tokio::test]
async fn outbound_request_ids_start_where_the_config_says() {
    let first = 7_i64 << 32;
    let (peer, _events, _sender, mut receiver) = engine_and_wire(config().first_request_id(first));
    let mut calls = Vec::new();
    for expected in [first, first + 1] {
        let asking = peer.clone();
        calls.push(tokio::spawn(async move {
            asking
                .request_raw("echo", None, RequestOptions::default())
                .await
        }));
        match next_message(&mut receiver).await {
            Message::Request(request) => assert_eq!(request.id, RequestId::from(expected)),
            other => panic!("expected a request, got {other:?}"),
        }
    }
    for call in calls {
        call.abort();
    }
}

#[tokio::test]
async fn a_waiting_handler_holds_up_no_later_request_and_resumes_when_woken() {
    let (_server, mut events, mut wire, mut outbound) = engine_and_wire(config());
    send(
        &mut wire,
        Message::from(Request::new(RequestId::from(1), "block", None)),
    )
    .await;
    send(
        &mut wire,
        Message::from(Request::new(
            RequestId::from(2),
            "echo",
            Some(raw(json!(2))),
        )),
    )
    .await;
    // The echo is answered while the first handler still waits.
    let Message::Response(response) = next_message(&mut outbound).await else {
        panic!("expected the echo's response");
    };
    assert_eq!(response.id, RequestId::from(2));
    assert_eq!(
        events.recv().await,
        Some(Event::Started("block".to_owned()))
    );
    assert_eq!(events.recv().await, Some(Event::Started("echo".to_owned())));
    // Cancelling wakes the waiting handler, which runs on to its end.
    send(
        &mut wire,
        Message::from(Notification::new("$/cancel", Some(raw(json!({"id": 1}))))),
    )
    .await;
    assert_eq!(
        events.recv().await,
        Some(Event::Cancelled(RequestId::from(1)))
    );
}
