//! Entry points for the fuzz targets and their corpus replay tests.
//!
//! Each entry point takes arbitrary bytes and must never panic except to report a real defect:
//! a message that decodes must encode to something that decodes again to the same value.

use serde_json::Value;
use serde_json::value::RawValue;

type Transcode = fn(&str, &str) -> Option<Result<Value, serde_json::Error>>;
type DecodeResult = fn(&str, &RawValue) -> Option<Result<Value, serde_json::Error>>;

/// Decodes `bytes` as a JSON-RPC message of the revision module named `module` (for example
/// `"v2025_11_25"`), as every kind of client or server message it could be, and checks that
/// decode → encode → decode is stable.
///
/// # Panics
///
/// Panics when an encoding does not decode back to the same value, or when `module` names no
/// module compiled into this build.
pub fn decode_message(module: &str, bytes: &[u8]) {
    let Ok(message) = mcpwire_jsonrpc::Message::parse(bytes) else {
        return;
    };
    let Some((transcode, unions, result_decoders)) = module_entry(module) else {
        panic!("no module `{module}` in this build");
    };
    match &message {
        mcpwire_jsonrpc::Message::Request(_) | mcpwire_jsonrpc::Message::Notification(_) => {
            let text = message.to_string();
            for union in unions {
                check_stable(transcode, union, &text);
            }
        }
        mcpwire_jsonrpc::Message::Response(response) => {
            for (methods, decode) in result_decoders {
                for method in methods {
                    check_result_stable(decode, method, &response.result);
                }
            }
            for name in [
                "Result",
                "EmptyResult",
                "GetTaskResult",
                "CreateTaskResult",
                "CancelTaskResult",
            ] {
                check_stable(transcode, name, response.result.get());
            }
        }
        mcpwire_jsonrpc::Message::Error(_) => {}
    }
}

fn check_stable(transcode: Transcode, type_name: &str, json: &str) {
    let Some(Ok(first)) = transcode(type_name, json) else {
        return;
    };
    let again = transcode(type_name, &first.to_string())
        .expect("the type exists")
        .unwrap_or_else(|error| {
            panic!("`{type_name}` encoding {first} does not decode again: {error}")
        });
    assert_eq!(
        first, again,
        "`{type_name}` is not stable through decode, encode, decode"
    );
}

fn check_result_stable(decode: DecodeResult, method: &str, result: &RawValue) {
    let Some(Ok(first)) = decode(method, result) else {
        return;
    };
    let raw = RawValue::from_string(first.to_string()).expect("an encoding is valid JSON");
    let again = decode(method, &raw)
        .expect("the method is known")
        .unwrap_or_else(|error| panic!("`{method}` result {first} does not decode again: {error}"));
    assert_eq!(
        first, again,
        "the `{method}` result is not stable through decode, encode, decode"
    );
}

macro_rules! result_decoder {
    ($module:ident :: $union:ident) => {
        (
            crate::$module::$union::METHODS,
            (|method: &str, raw: &RawValue| {
                Some(
                    crate::$module::$union::decode(method, raw)
                        .and_then(|decoded| serde_json::to_value(&decoded)),
                )
            }) as DecodeResult,
        )
    };
}

type ModuleEntry = (
    Transcode,
    &'static [&'static str],
    Vec<(&'static [&'static str], DecodeResult)>,
);

const DIRECTION_UNIONS: &[&str] = &[
    "ClientRequest",
    "ServerRequest",
    "ClientNotification",
    "ServerNotification",
];

fn module_entry(module: &str) -> Option<ModuleEntry> {
    Some(match module {
        #[cfg(feature = "v2024_11_05")]
        "v2024_11_05" => (
            crate::v2024_11_05::transcode,
            DIRECTION_UNIONS,
            vec![
                result_decoder!(v2024_11_05::ServerResult),
                result_decoder!(v2024_11_05::ClientResult),
            ],
        ),
        #[cfg(feature = "v2025_03_26")]
        "v2025_03_26" => (
            crate::v2025_03_26::transcode,
            DIRECTION_UNIONS,
            vec![
                result_decoder!(v2025_03_26::ServerResult),
                result_decoder!(v2025_03_26::ClientResult),
            ],
        ),
        #[cfg(feature = "v2025_06_18")]
        "v2025_06_18" => (
            crate::v2025_06_18::transcode,
            DIRECTION_UNIONS,
            vec![
                result_decoder!(v2025_06_18::ServerResult),
                result_decoder!(v2025_06_18::ClientResult),
            ],
        ),
        #[cfg(feature = "v2025_11_25")]
        "v2025_11_25" => (
            crate::v2025_11_25::transcode,
            DIRECTION_UNIONS,
            vec![
                result_decoder!(v2025_11_25::ServerResult),
                result_decoder!(v2025_11_25::ClientResult),
            ],
        ),
        #[cfg(feature = "v2026_07_28")]
        "v2026_07_28" => (
            crate::v2026_07_28::transcode,
            &[
                "ClientRequest",
                "ClientNotification",
                "ServerNotification",
                "InputRequest",
            ],
            vec![result_decoder!(v2026_07_28::ServerResult)],
        ),
        #[cfg(feature = "ext_tasks")]
        "ext_tasks" => (
            crate::ext_tasks::transcode,
            &[
                "GetTaskRequest",
                "UpdateTaskRequest",
                "CancelTaskRequest",
                "TaskStatusNotification",
                "InputRequest",
            ],
            Vec::new(),
        ),
        _ => return None,
    })
}
