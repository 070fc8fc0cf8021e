//! Multi round-trip requests by deterministic replay.
//!
//! A modern request cannot send the client a request of its own. When a handler asks the
//! client for something (`Context::elicit`, `create_message`, `list_roots`), the ask looks up
//! the answer among those the client sent (`inputResponses`) and those consumed in earlier
//! rounds (in the verified `requestState`). A miss registers the ask and parks the handler.
//! [`run`] notices, lets asks that were started together (`join!`) register too, drops the
//! handler, and the request is answered with an `InputRequiredResult` naming every registered
//! ask. The client's retry runs the handler again from the top, and every ask answered so far
//! returns at once.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use mcpwire_jsonrpc::{ErrorObject, RequestMethod};
use mcpwire_rpc::CancellationToken;
use mcpwire_schema::v2025_11_25::methods;
use mcpwire_schema::{JsonObject, v2026_07_28};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::Notify;

use super::request_state::{Answer, Payload, digest_of};
use crate::Error;

/// The polls of a parked handler that may still register asks before the round closes.
const SETTLE_TICKS: usize = 8;

/// The input of one run of a handler, and what the run asked for.
#[derive(Debug)]
pub(crate) struct Replay {
    /// Answers consumed in earlier rounds, from the verified state.
    answered: BTreeMap<String, Answer>,
    /// Asks of the last round still open, from the verified state: key → ask digest.
    outstanding: BTreeMap<String, String>,
    /// Whether the request carried a state.
    has_state: bool,
    /// The round the state closed, 0 without a state.
    pub(crate) round: u32,
    /// This request's `inputResponses`.
    responses: BTreeMap<String, Value>,
    run: Mutex<Run>,
    parked: Notify,
    /// Set with `parked`'s notification, for the runner that polls the handler itself.
    is_parked: AtomicBool,
}

/// What one run of the handler did.
#[derive(Debug, Default)]
struct Run {
    /// Asks without a key so far, to name the next one.
    unnamed: usize,
    /// Every key asked in this run.
    keys: HashSet<String>,
    /// The answers the run consumed: the next state's `a`.
    consumed: BTreeMap<String, Answer>,
    /// The asks the run could not answer: key → (input request, digest).
    asked: BTreeMap<String, (Value, String)>,
    /// Why the request fails, when an answer is unusable.
    failure: Option<ErrorObject>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section is a few inserts and lookups: a poisoned lock is consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The MRTR members of the params of `tools/call`, `prompts/get` and `resources/read`.
#[derive(Deserialize)]
pub(crate) struct InputParams {
    #[serde(rename = "inputResponses", default, deserialize_with = "present")]
    input_responses: Option<Value>,
    #[serde(rename = "requestState", default, deserialize_with = "present")]
    request_state: Option<Value>,
}

/// Reads a member that is present, `null` included.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

impl InputParams {
    /// Reads and checks the MRTR members of `params`: the answers (each an object) and the
    /// state, as sent.
    ///
    /// # Errors
    ///
    /// `-32602` when `inputResponses` is not an object of objects or `requestState` not a
    /// string.
    pub(crate) fn read(
        params: Option<&RawValue>,
    ) -> Result<(BTreeMap<String, Value>, Option<String>), ErrorObject> {
        let Some(params) = params else {
            return Ok((BTreeMap::new(), None));
        };
        let fields: InputParams = serde_json::from_str(params.get())
            .map_err(|error| ErrorObject::invalid_params(error.to_string()))?;
        let responses = match fields.input_responses {
            None => BTreeMap::new(),
            Some(Value::Object(responses)) => {
                let mut checked = BTreeMap::new();
                for (key, response) in responses {
                    if !response.is_object() {
                        return Err(ErrorObject::invalid_params(format!(
                            "inputResponses.{key} must be an object"
                        )));
                    }
                    checked.insert(key, response);
                }
                checked
            }
            Some(_) => {
                return Err(ErrorObject::invalid_params(
                    "inputResponses must be an object",
                ));
            }
        };
        let state = match fields.request_state {
            None => None,
            Some(Value::String(state)) => Some(state),
            Some(_) => return Err(ErrorObject::invalid_params("requestState must be a string")),
        };
        Ok((responses, state))
    }
}

impl Replay {
    /// The input of a run: the verified state, if any, and this request's answers.
    pub(crate) fn new(state: Option<Payload>, responses: BTreeMap<String, Value>) -> Self {
        let has_state = state.is_some();
        let (answered, outstanding, round) = match state {
            Some(state) => (state.answered, state.outstanding, state.round),
            None => (BTreeMap::new(), BTreeMap::new(), 0),
        };
        Replay {
            answered,
            outstanding,
            has_state,
            round,
            responses,
            run: Mutex::new(Run::default()),
            parked: Notify::new(),
            is_parked: AtomicBool::new(false),
        }
    }

    /// Asks the client for `method` with `params` (2025-11-25 params), keyed `key` or the next
    /// `input-{n}`; returns the raw answer, or parks forever when there is none yet.
    ///
    /// # Errors
    ///
    /// [`Error::is_rpc`] when two asks of the run share a key, or the ask does not fit
    /// 2026-07-28.
    pub(crate) async fn ask(
        &self,
        method: &str,
        params: JsonObject,
        key: Option<String>,
    ) -> Result<Box<RawValue>, Error> {
        let request = input_request(method, params)?;
        let ask = digest_of(&request);
        let answer = {
            let mut run = lock(&self.run);
            let key = match key {
                Some(key) => key,
                None => {
                    run.unnamed += 1;
                    format!("input-{}", run.unnamed)
                }
            };
            if !run.keys.insert(key.clone()) {
                return Err(Error::protocol(format!(
                    "two asks of one request share the key `{key}`"
                )));
            }
            match self.answer(&key, &ask) {
                Some(value) => match check_answer(method, &value) {
                    Ok(()) => {
                        run.consumed.insert(
                            key,
                            Answer {
                                ask,
                                value: value.clone(),
                            },
                        );
                        Ok(value)
                    }
                    Err(reason) => {
                        run.failure.get_or_insert_with(|| {
                            ErrorObject::invalid_params(format!(
                                "inputResponses.{key} is not a result of `{method}`: {reason}"
                            ))
                        });
                        Err(())
                    }
                },
                None => {
                    run.asked.insert(key, (request, ask));
                    Err(())
                }
            }
        };
        match answer {
            Ok(value) => serde_json::value::to_raw_value(&value)
                .map_err(|error| Error::protocol(error.to_string())),
            Err(()) => {
                // The runner ends the round; this run of the handler never goes on.
                self.park();
                std::future::pending().await
            }
        }
    }

    /// Registers asks the run needs whether or not they were answered before, and parks: the
    /// URL-mode elicitations a tool still waits for. Returns only when an ask does not fit
    /// 2026-07-28.
    pub(crate) async fn demand(&self, asks: Vec<(String, &str, JsonObject)>) -> Error {
        let mut requests = Vec::with_capacity(asks.len());
        for (key, method, params) in asks {
            match input_request(method, params) {
                Ok(request) => requests.push((key, request)),
                Err(error) => return error,
            }
        }
        {
            let mut run = lock(&self.run);
            for (key, request) in requests {
                let ask = digest_of(&request);
                run.asked.insert(key, (request, ask));
            }
        }
        self.park();
        std::future::pending().await
    }

    fn park(&self) {
        self.is_parked.store(true, Ordering::Release);
        self.parked.notify_one();
    }

    /// Whether an ask of the run parked the handler.
    fn is_parked(&self) -> bool {
        self.is_parked.load(Ordering::Acquire)
    }

    /// The answer to the ask `key` with digest `ask`: one consumed in an earlier round for the
    /// same ask, or this request's, if the state left that same ask open (or there is no state:
    /// answers without a state are taken as given).
    fn answer(&self, key: &str, ask: &str) -> Option<Value> {
        if let Some(answer) = self.answered.get(key)
            && answer.ask == ask
        {
            return Some(answer.value.clone());
        }
        let open = !self.has_state || self.outstanding.get(key).map(String::as_str) == Some(ask);
        self.responses.get(key).filter(|_| open).cloned()
    }

    fn asked(&self) -> usize {
        lock(&self.run).asked.len()
    }

    /// What the run left: the failure, or the answers consumed and the open asks.
    pub(crate) fn finish(&self) -> Result<Round, ErrorObject> {
        let mut run = lock(&self.run);
        if let Some(failure) = run.failure.take() {
            return Err(failure);
        }
        let asked = std::mem::take(&mut run.asked);
        let mut requests = JsonObject::new();
        let mut outstanding = BTreeMap::new();
        for (key, (request, ask)) in asked {
            requests.insert(key.clone(), request);
            outstanding.insert(key, ask);
        }
        Ok(Round {
            requests,
            consumed: std::mem::take(&mut run.consumed),
            outstanding,
        })
    }
}

/// A round that ends with an `InputRequiredResult`.
pub(crate) struct Round {
    /// The `inputRequests`.
    pub(crate) requests: JsonObject,
    /// The answers the run consumed, for the next state.
    pub(crate) consumed: BTreeMap<String, Answer>,
    /// The asks left open, for the next state.
    pub(crate) outstanding: BTreeMap<String, String>,
}

/// The input request `{method, params}` as 2026-07-28 writes it (no `task`, no `_meta`...).
pub(crate) fn input_request(method: &str, params: JsonObject) -> Result<Value, Error> {
    let mut request = serde_json::json!({ "method": method });
    if !params.is_empty() {
        request["params"] = Value::Object(params);
    }
    serde_json::from_value::<v2026_07_28::InputRequest>(request)
        .and_then(serde_json::to_value)
        .map_err(|error| {
            Error::protocol(format!("`{method}` is not a valid input request: {error}"))
        })
}

/// Checks that `answer` is a result of `method`, one of the requests a server may put to the
/// client as input.
fn check_answer(method: &str, answer: &Value) -> Result<(), String> {
    /// Whether `answer` decodes as the result of `M`.
    fn fits<M: RequestMethod>(answer: &Value) -> Result<(), serde_json::Error> {
        M::Result::deserialize(answer).map(drop)
    }
    let check: fn(&Value) -> Result<(), serde_json::Error> = if method == methods::Elicit::METHOD {
        fits::<methods::Elicit>
    } else if method == methods::CreateMessage::METHOD {
        fits::<methods::CreateMessage>
    } else if method == methods::ListRoots::METHOD {
        fits::<methods::ListRoots>
    } else {
        return Ok(());
    };
    check(answer).map_err(|error| error.to_string())
}

/// How a run of a handler ended.
pub(crate) enum Outcome<T> {
    /// The handler returned.
    Complete(T),
    /// The handler waits for input: answer with an `InputRequiredResult`.
    InputRequired,
    /// The client cancelled the request.
    Cancelled,
    /// The handler waits for something other than the client's input ([`run_detachable`]):
    /// it may go on as a task.
    Detached,
}

/// Runs `handler` until it returns, parks on an unanswered ask, or the client cancels.
///
/// When it parks, asks that the handler started at the same time (joined futures, work it
/// spawned) get a few more polls to register, so that they share the round; then `stop`
/// fires (the handler's [`Context::cancellation`](crate::Context::cancellation), so spawned
/// work ends) and the handler is dropped.
pub(crate) async fn run<T>(
    replay: &Replay,
    stop: &CancellationToken,
    cancelled: &CancellationToken,
    handler: impl Future<Output = T>,
) -> Outcome<T> {
    let mut handler = std::pin::pin!(handler);
    tokio::select! {
        biased;
        output = &mut handler => return Outcome::Complete(output),
        () = replay.parked.notified() => {}
        () = cancelled.cancelled() => return Outcome::Cancelled,
    }
    settle(replay, stop, handler).await
}

/// Runs `handler` as [`run`] does, except that it does not wait for what the handler waits
/// for: its first poll either returns, parks on an unanswered ask (the round ends as in
/// [`run`]), or leaves the handler waiting on something else, such as a timer or an answer
/// of a task's requestor; then the handler is [`Outcome::Detached`] and stays with the
/// caller, to go on in the background.
#[cfg_attr(
    not(feature = "tasks"),
    expect(dead_code, reason = "only tasks detach")
)]
pub(crate) async fn run_detachable<F: Future + Unpin>(
    replay: &Replay,
    stop: &CancellationToken,
    cancelled: &CancellationToken,
    handler: &mut F,
) -> Outcome<F::Output> {
    if cancelled.is_cancelled() {
        return Outcome::Cancelled;
    }
    if let Some(output) = poll_once(Pin::new(&mut *handler)).await {
        return Outcome::Complete(output);
    }
    if !replay.is_parked() {
        return Outcome::Detached;
    }
    settle(replay, stop, Pin::new(handler)).await
}

/// Polls `handler` once: its output, or `None` while it is pending.
async fn poll_once<F: Future + ?Sized>(mut handler: Pin<&mut F>) -> Option<F::Output> {
    std::future::poll_fn(|context| match handler.as_mut().poll(context) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

/// Ends the round of a parked handler: joined asks get a few polls to register, then `stop`
/// fires.
async fn settle<F: Future + ?Sized>(
    replay: &Replay,
    stop: &CancellationToken,
    mut handler: Pin<&mut F>,
) -> Outcome<F::Output> {
    for _ in 0..SETTLE_TICKS {
        let before = replay.asked();
        tokio::task::yield_now().await;
        if let Some(output) = poll_once(handler.as_mut()).await {
            // The handler gave up on its ask and returned all the same.
            return Outcome::Complete(output);
        }
        if replay.asked() == before {
            break;
        }
    }
    stop.cancel();
    Outcome::InputRequired
}
