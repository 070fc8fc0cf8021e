//! The wire of the `io.modelcontextprotocol/tasks` extension (2026-07-28): its identifier,
//! the error for a client that did not declare it, and the three methods a requestor sends.

use std::collections::BTreeMap;

use mcpwire_jsonrpc::{ErrorObject, RequestMethod, decode_params};
use mcpwire_schema::ext_tasks::methods;
use mcpwire_schema::{JsonObject, meta};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::owner::Owner;
use crate::store::TaskStore;

/// The extension's identifier, under which both sides declare it in `capabilities.extensions`.
pub const EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// The `-32021` (Missing Required Client Capability) error naming the extension in
/// `data.requiredCapabilities`: for a task-only tool called, or a `tasks/*` method or task
/// notifications requested, by a client that did not declare the extension on that request.
pub fn missing_extension() -> ErrorObject {
    let mut extension = JsonObject::new();
    extension.insert(EXTENSION.to_owned(), Value::Object(JsonObject::new()));
    let mut required = JsonObject::new();
    required.insert("extensions".to_owned(), Value::Object(extension));
    meta::missing_required_client_capability(required)
}

/// The params of `tasks/get` and `tasks/cancel`.
#[derive(Deserialize)]
struct TaskParams {
    #[serde(rename = "taskId")]
    task_id: String,
}

/// The params of `tasks/update`, read liberally: an answer is checked only when it answers an
/// open request, and others are ignored.
#[derive(Deserialize)]
struct UpdateParams {
    #[serde(rename = "taskId")]
    task_id: String,
    #[serde(rename = "inputResponses")]
    input_responses: BTreeMap<String, Value>,
}

/// The methods of the extension a server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Get,
    Update,
    Cancel,
}

impl Method {
    fn of(method: &str) -> Option<Method> {
        [
            (methods::GetTask::METHOD, Method::Get),
            (methods::UpdateTask::METHOD, Method::Update),
            (methods::CancelTask::METHOD, Method::Cancel),
        ]
        .into_iter()
        .find(|(name, _)| *name == method)
        .map(|(_, method)| method)
    }
}

impl TaskStore {
    /// Answers `tasks/get`, `tasks/update` and `tasks/cancel` for `owner`, with the result
    /// object before the server adds its `_meta`; `None` for any other method. The caller has
    /// checked that the request declared the extension ([`missing_extension`]).
    ///
    /// `tasks/get` returns the task as it is now, its result or error inlined once terminal;
    /// `tasks/update` hands the answers to the waiting work and `tasks/cancel` cancels the task
    /// (a terminal task stays as it is), both acknowledged with an empty result.
    ///
    /// # Errors
    ///
    /// -32602 for params that do not decode, an answer that is not a result of its request, or
    /// a task the owner cannot see (unknown, expired, another owner's).
    pub fn serve(
        &self,
        owner: Owner,
        method: &str,
        params: Option<&RawValue>,
    ) -> Option<Result<JsonObject, ErrorObject>> {
        let method = Method::of(method)?;
        Some(self.serve_method(owner, method, params))
    }

    fn serve_method(
        &self,
        owner: Owner,
        method: Method,
        params: Option<&RawValue>,
    ) -> Result<JsonObject, ErrorObject> {
        let mut result = match method {
            Method::Get => {
                let params: TaskParams = decode_params(params)?;
                self.get(owner, &params.task_id)?.detailed()
            }
            Method::Update => {
                let params: UpdateParams = decode_params(params)?;
                self.get(owner, &params.task_id)?
                    .answer(params.input_responses)?;
                JsonObject::new()
            }
            Method::Cancel => {
                let params: TaskParams = decode_params(params)?;
                self.get(owner, &params.task_id)?.cancel();
                JsonObject::new()
            }
        };
        result.insert("resultType".to_owned(), Value::from("complete"));
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use mcpwire_jsonrpc::ErrorCode;
    use mcpwire_schema::ext_tasks as ext;

    use super::*;

    fn params(value: Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(&value).expect("json")
    }

    #[test]
    fn the_methods_answer_as_the_spec_shapes_them() {
        let store = TaskStore::default();
        let owner = Owner::new(Some([1; 32]));
        let task = store.create(owner, None).expect("created");
        let id = task.id().to_owned();
        let get = |owner| {
            store
                .serve(
                    owner,
                    "tasks/get",
                    Some(&params(serde_json::json!({"taskId": id}))),
                )
                .expect("a task method")
        };
        let got = get(owner).expect("found");
        let decoded: ext::GetTaskResult =
            serde_json::from_value(Value::Object(got)).expect("a GetTaskResult");
        assert!(matches!(decoded.variant, ext::DetailedTask::WorkingTask(_)));

        let update = serde_json::json!({"taskId": id, "inputResponses": {"unknown": {"x": 1}}});
        let acked = store
            .serve(owner, "tasks/update", Some(&params(update.clone())))
            .expect("a task method")
            .expect("acknowledged");
        assert_eq!(
            Value::Object(acked),
            serde_json::json!({"resultType": "complete"})
        );

        let cancel = serde_json::json!({"taskId": id});
        for _ in 0..2 {
            // Idempotent: a terminal task is acknowledged the same way.
            let acked = store
                .serve(owner, "tasks/cancel", Some(&params(cancel.clone())))
                .expect("a task method")
                .expect("acknowledged");
            assert_eq!(
                Value::Object(acked),
                serde_json::json!({"resultType": "complete"})
            );
        }
        assert_eq!(get(owner).expect("found")["status"], "cancelled");

        // Another principal: every method answers as for an unknown task.
        let stranger = Owner::ANONYMOUS;
        for (method, params_value) in [
            ("tasks/get", cancel.clone()),
            ("tasks/update", update),
            ("tasks/cancel", cancel),
        ] {
            let error = store
                .serve(stranger, method, Some(&params(params_value)))
                .expect("a task method")
                .expect_err("not theirs");
            assert_eq!(error.code, ErrorCode::INVALID_PARAMS, "{method}");
        }
        assert!(store.serve(owner, "tasks/list", None).is_none());
        assert!(store.serve(owner, "tasks/result", None).is_none());
        let error = store
            .serve(owner, "tasks/get", None)
            .expect("a task method")
            .expect_err("no params");
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
    }

    #[test]
    fn the_missing_extension_is_named() {
        let error = missing_extension();
        assert_eq!(error.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);
        let data: Value =
            serde_json::from_str(error.data.as_deref().expect("data").get()).expect("json");
        assert_eq!(
            data,
            serde_json::json!({"requiredCapabilities": {"extensions": {EXTENSION: {}}}})
        );
    }
}
