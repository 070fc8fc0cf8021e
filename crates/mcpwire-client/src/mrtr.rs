//! Multi round-trip requests (modern era): answering a server's `InputRequiredResult` with
//! the handlers that answer a legacy server's own requests.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mcpwire_jsonrpc::ErrorObject;
use mcpwire_rpc::CancellationToken;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::task::JoinSet;

use crate::Error;
use crate::dispatch::{Origin, Shared, fulfil};

/// An `InputRequiredResult`, with each input request's params kept raw for the handlers.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct InputRequired {
    /// What the server asks, by the key its answer goes under.
    #[serde(rename = "inputRequests", default)]
    pub(crate) input_requests: BTreeMap<String, InputRequest>,
    /// Opaque state to echo, exactly, in the retry.
    #[serde(rename = "requestState")]
    pub(crate) request_state: Option<String>,
}

/// One input request: a server request without `jsonrpc` and `id`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct InputRequest {
    method: String,
    params: Option<Box<RawValue>>,
}

/// What a retry adds to the original params.
pub(crate) struct Answers {
    /// The bare results, by the keys of the input requests.
    pub(crate) input_responses: Map<String, Value>,
    /// The `requestState` to echo, when the server sent one.
    pub(crate) request_state: Option<String>,
}

impl Answers {
    /// The params of the retry: `params` with these answers, and without any answers or
    /// state of an earlier round.
    pub(crate) fn apply(self, params: &Map<String, Value>) -> Map<String, Value> {
        let mut params = params.clone();
        params.remove("requestState");
        params.insert(
            "inputResponses".to_owned(),
            Value::Object(self.input_responses),
        );
        if let Some(state) = self.request_state {
            params.insert("requestState".to_owned(), Value::String(state));
        }
        params
    }
}

/// Answers every input request of `asked`, all at once, with the client's handlers; `method`
/// is the request that asked.
///
/// # Errors
///
/// As [`answer_each`].
pub(crate) async fn answer(
    shared: &Arc<Shared>,
    method: &str,
    asked: InputRequired,
) -> Result<Answers, Error> {
    Ok(Answers {
        input_responses: answer_each(shared, method, asked.input_requests).await?,
        request_state: asked.request_state,
    })
}

/// Answers every input request of `requests`, all at once, with the client's handlers: the
/// bare results by the keys of the requests. `method` names what asked: the request of a
/// multi round-trip request, or `tasks/get` for the input requests of a task.
///
/// # Errors
///
/// [`Error::is_input_request_failed`] as soon as one input cannot be answered (the others
/// are then abandoned, their handlers' cancellation firing).
pub(crate) async fn answer_each(
    shared: &Arc<Shared>,
    method: &str,
    requests: BTreeMap<String, InputRequest>,
) -> Result<Map<String, Value>, Error> {
    let cancellation = CancellationToken::new();
    // Handlers still running when the answers are abandoned see their cancellation fire.
    let _cancel_on_drop = cancellation.clone().drop_guard();
    let mut running = JoinSet::new();
    let mut inputs = HashMap::new();
    for (key, request) in requests {
        let shared = Arc::clone(shared);
        let cancellation = cancellation.clone();
        let task_key = key.clone();
        let input_method = request.method.clone();
        let task = running.spawn(async move {
            let origin = Origin::Input {
                key: &task_key,
                cancellation: &cancellation,
            };
            fulfil(&shared, &input_method, request.params.as_deref(), origin).await
        });
        inputs.insert(task.id(), (key, request.method));
    }
    let mut input_responses = Map::new();
    while let Some(joined) = running.join_next_with_id().await {
        let (task, outcome) = match joined {
            Ok((task, outcome)) => (task, outcome),
            Err(error) => (
                error.id(),
                Err(ErrorObject::internal_error("the input handler failed")),
            ),
        };
        let (key, input_method) = inputs
            .remove(&task)
            .expect("every task is recorded when spawned");
        let answer = outcome.and_then(|result| {
            serde_json::from_str(result.get()).map_err(|error| {
                ErrorObject::internal_error(format!("encoding the answer failed: {error}"))
            })
        });
        match answer {
            Ok(answer) => {
                input_responses.insert(key, answer);
            }
            Err(error) => return Err(Error::input_request(method, &input_method, &key, error)),
        }
    }
    Ok(input_responses)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_retry_carries_only_this_rounds_answers_and_state() {
        let original = json!({"name": "t", "_meta": {"k": 1}})
            .as_object()
            .cloned()
            .expect("an object");
        let first = Answers {
            input_responses: Map::from_iter([("a".to_owned(), json!({"action": "decline"}))]),
            request_state: Some("s1".to_owned()),
        }
        .apply(&original);
        assert_eq!(
            Value::Object(first.clone()),
            json!({"name": "t", "_meta": {"k": 1},
                   "inputResponses": {"a": {"action": "decline"}}, "requestState": "s1"})
        );
        // A round without state drops the previous one.
        let second = Answers {
            input_responses: Map::new(),
            request_state: None,
        }
        .apply(&first);
        assert_eq!(
            Value::Object(second),
            json!({"name": "t", "_meta": {"k": 1}, "inputResponses": {}})
        );
    }
}
