//! The entry point of the `engine_protocol` fuzz target (feature `fuzzing`): the engine driven
//! by an arbitrary script of requests, responses, cancellations, timeouts and disconnects
//! from two clients at once, with the invariants checked after each run.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_jsonrpc::{
    ErrorObject, ErrorResponse, Message, Notification, Request, RequestId, Response,
};
use mcpwire_transport::{MessageReceiver, MessageSender, SendOptions, Transport, duplex};
use serde_json::value::RawValue;

use crate::{Cancellation, Config, Handler, Peer, RequestContext};

/// Most operations one script runs.
const MAX_OPERATIONS: usize = 256;

/// Requests each connection's handlers serve at once.
const MAX_IN_FLIGHT: usize = 4;

/// How long the server waits for the answers to its own requests.
const SERVER_TIMEOUT: Duration = Duration::from_millis(500);

/// What each connection's handler saw, shared with the checks.
#[derive(Default)]
struct Observed {
    /// Requests whose handler returned after its cancellation had fired.
    returned_cancelled: HashSet<i64>,
}

/// `notifications/cancelled` with `{"requestId": id}`, as MCP writes it.
struct Cancelled;

impl Cancellation for Cancelled {
    fn cancelled_request(&self, notification: &Notification) -> Option<RequestId> {
        if notification.method != "notifications/cancelled" {
            return None;
        }
        #[derive(serde::Deserialize)]
        struct Params {
            #[serde(rename = "requestId")]
            request_id: RequestId,
        }
        let params = notification.params.as_ref()?;
        serde_json::from_str::<Params>(params.get())
            .ok()
            .map(|params| params.request_id)
    }

    fn cancel_notification(&self, id: &RequestId, _reason: &str) -> Notification {
        let params = serde_json::json!({ "requestId": id });
        Notification::new(
            "notifications/cancelled",
            Some(RawValue::from_string(params.to_string()).expect("JSON")),
        )
    }
}

/// Serves `work`: the first number of its params chooses how (answer at once, fail, wait a
/// while, or wait for the cancellation), and the result names the connection, so a result
/// that reaches the other connection shows.
struct Worker {
    connection: u8,
    observed: Arc<Mutex<Observed>>,
}

impl Handler for Worker {
    async fn request(
        &self,
        params: Option<Box<RawValue>>,
        context: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let mode: u8 = params
            .and_then(|params| serde_json::from_str::<[u8; 1]>(params.get()).ok())
            .map_or(0, |[mode]| mode);
        match mode % 4 {
            0 => {}
            1 => return Err(ErrorObject::invalid_params("mode 1 fails")),
            2 => tokio::time::sleep(Duration::from_millis(u64::from(mode) * 7)).await,
            _ => context.cancellation().cancelled().await,
        }
        if context.cancellation().is_cancelled()
            && let RequestId::Number(id) = context.id()
        {
            lock(&self.observed).returned_cancelled.insert(*id);
        }
        let result = format!("{{\"connection\":{}}}", self.connection);
        Ok(RawValue::from_string(result).expect("JSON"))
    }

    async fn notification(&self, _notification: Notification, _peer: &Peer) {}
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One client connection: its raw transport half, and what it sent and received.
struct Client {
    connection: u8,
    sender: mcpwire_transport::MemorySender,
    receiver: mcpwire_transport::MemoryReceiver,
    server: Peer,
    observed: Arc<Mutex<Observed>>,
    sent: Vec<i64>,
    /// Requests whose handler waits for their cancellation.
    waiting: HashSet<i64>,
    cancelled: HashSet<i64>,
    responses: HashMap<i64, usize>,
    /// Requests the server sent, not yet answered by this client.
    asked: Vec<RequestId>,
    closed: bool,
}

/// Runs the script `data` against the engine and checks, for each of its two connections:
///
/// - every response names a request of that connection, and carries that connection's
///   result (nothing reaches the other connection);
/// - no request gets two responses, and none whose handler returned after its cancellation;
/// - every request neither cancelled nor cut off by a closed connection is answered, unless
///   handlers waiting for cancellations that never came hold every slot;
/// - the server never answers a response, and nothing stays pending or in flight once the
///   connections have closed.
///
/// # Panics
///
/// Panics when an invariant breaks.
#[doc(hidden)]
pub fn fuzz_engine(data: &[u8]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(run(data));
}

async fn run(data: &[u8]) {
    let mut clients: Vec<Client> = (0..2).map(connect).collect();
    // Far from the server's own ids, so that an answer to one of the server's requests is
    // never mistaken for an answer to the client's.
    let mut next_id = 1_000_000i64;
    let mut bytes = data.iter().copied().take(MAX_OPERATIONS * 2);
    while let Some(operation) = bytes.next() {
        let argument = bytes.next().unwrap_or(0);
        let client = &mut clients[usize::from(operation >> 7)];
        if client.closed {
            continue;
        }
        match operation & 0x7 {
            // A request of the client.
            0 | 1 => {
                let params = RawValue::from_string(format!("[{argument}]")).expect("JSON");
                let request = Request::new(RequestId::Number(next_id), "work", Some(params));
                client.sent.push(next_id);
                if argument % 4 == 3 {
                    client.waiting.insert(next_id);
                }
                next_id += 1;
                let _ = client
                    .sender
                    .send(Message::Request(request), SendOptions::default())
                    .await;
            }
            // The cancellation of one of its requests.
            2 => {
                if let Some(&id) = client.sent.get(usize::from(argument)) {
                    client.cancelled.insert(id);
                    let notification = Cancelled.cancel_notification(&RequestId::Number(id), "");
                    let _ = client
                        .sender
                        .send(Message::Notification(notification), SendOptions::default())
                        .await;
                }
            }
            // A request of the server to the client, which it may answer later (or never).
            3 => {
                let server = client.server.clone();
                tokio::spawn(async move {
                    let options = crate::RequestOptions::with_timeout(SERVER_TIMEOUT);
                    let _ = server.request_raw("ask", None, options).await;
                });
            }
            // An answer to one of the server's requests: a result, an error, or (once more)
            // an answer to one it already had.
            4 => {
                let index = usize::from(argument) % client.asked.len().max(1);
                if let Some(id) = client.asked.get(index).cloned() {
                    if argument & 0x40 == 0 {
                        client.asked.remove(index);
                    }
                    let answer = if argument & 0x80 == 0 {
                        Message::Response(Response::new(
                            id,
                            RawValue::from_string("{}".to_owned()).expect("JSON"),
                        ))
                    } else {
                        Message::Error(ErrorResponse::new(
                            Some(id),
                            ErrorObject::internal_error("no"),
                        ))
                    };
                    let _ = client.sender.send(answer, SendOptions::default()).await;
                }
            }
            // Time passes.
            5 => tokio::time::sleep(Duration::from_millis(u64::from(argument) * 5)).await,
            // The client goes away.
            6 if argument & 0xF == 0 => {
                let _ = client.sender.close().await;
                client.closed = true;
            }
            _ => tokio::task::yield_now().await,
        }
        drain(client).await;
    }
    // Let every handler finish (the slowest waits under two seconds) and every answer land.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for mut client in clients {
        drain(&mut client).await;
        check(&client);
        let Client {
            mut sender,
            receiver,
            server,
            ..
        } = client;
        let _ = sender.close().await;
        // Nothing reads any more: what the server still writes fails instead of waiting.
        drop(receiver);
        server.closed().await;
        assert_eq!(server.pending_requests(), 0, "requests left pending");
        assert_eq!(server.requests_in_flight(), 0, "requests left in flight");
    }
}

/// A client connected to a fresh engine.
fn connect(connection: u8) -> Client {
    let (near, far) = duplex(64);
    let observed = Arc::new(Mutex::new(Observed::default()));
    let worker = Worker {
        connection,
        observed: Arc::clone(&observed),
    };
    let config = Config::new()
        .max_in_flight(MAX_IN_FLIGHT)
        .max_queued(4)
        .cancellation(Cancelled);
    let server = Peer::start(far, worker, config);
    let (sender, receiver) = near.split();
    Client {
        connection,
        sender,
        receiver,
        server,
        observed,
        sent: Vec::new(),
        waiting: HashSet::new(),
        cancelled: HashSet::new(),
        responses: HashMap::new(),
        asked: Vec::new(),
        closed: false,
    }
}

/// Reads what the server sent so far, checking each message as it comes.
async fn drain(client: &mut Client) {
    loop {
        tokio::task::yield_now().await;
        let next = tokio::time::timeout(Duration::ZERO, client.receiver.receive()).await;
        let Ok(Some(Ok(mcpwire_transport::Inbound::Message(message)))) = next else {
            return;
        };
        let (id, answer_of) = match &message {
            Message::Request(request) => {
                client.asked.push(request.id.clone());
                continue;
            }
            Message::Notification(_) => continue,
            Message::Response(response) => (Some(&response.id), Some(response.result.get())),
            Message::Error(error) => (error.id.as_ref(), None),
        };
        let Some(RequestId::Number(id)) = id else {
            panic!("the server answered without a number id: {message:?}");
        };
        assert!(
            client.sent.contains(id),
            "an answer to a request this client never sent"
        );
        let count = client.responses.entry(*id).or_default();
        *count += 1;
        assert_eq!(*count, 1, "request {id} was answered twice");
        if let Some(result) = answer_of {
            let connection: serde_json::Value = serde_json::from_str(result).expect("JSON");
            assert_eq!(
                connection["connection"],
                serde_json::json!(client.connection),
                "a result reached another connection"
            );
        }
    }
}

/// The end-of-run checks of one connection.
fn check(client: &Client) {
    let observed = lock(&client.observed);
    for id in &observed.returned_cancelled {
        assert!(
            !client.responses.contains_key(id),
            "request {id} was answered after its cancellation"
        );
    }
    if client.closed {
        return;
    }
    // Handlers that wait for a cancellation that never came hold their slots for good; with
    // every slot held, the requests queued behind them rightly wait too.
    let blocked = client.waiting.difference(&client.cancelled).count();
    if blocked >= MAX_IN_FLIGHT {
        return;
    }
    for id in &client.sent {
        if !client.cancelled.contains(id) && !client.waiting.contains(id) {
            assert!(
                client.responses.contains_key(id),
                "request {id} was never answered"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_keep_the_invariants() {
        // Requests of each mode on both connections, cancellations, the server's requests
        // answered once, twice, late and never, time passing, and one client leaving.
        fuzz_engine(&[
            0, 0, 0, 1, 0x80, 2, 1, 3, 2, 3, 0x83, 0, 3, 0, 5, 10, 4, 0x40, 4, 0,
        ]);
        fuzz_engine(&[3, 0, 5, 200, 4, 0, 0x80, 7, 0x86, 0, 0, 3, 2, 9, 2, 0]);
        fuzz_engine(&[]);
    }
}
