//! Notifications from the server reach the application's callback, decoded and in order.

mod support;

use mcpwire_client::{RequestId, ServerNotification};
use mcpwire_schema::v2025_11_25::LoggingLevel;
use serde_json::value::to_raw_value;
use serde_json::{Value, json};
use support::{Behaviour, builder, connect};
use tokio::sync::mpsc;

#[tokio::test]
async fn notifications_reach_the_callback_in_order() {
    let (sender, mut received) = mpsc::channel(16);
    let (_client, fake) = connect(
        Behaviour::default(),
        builder().on_notification(move |notification| {
            // A bounded channel: a full one drops, it never blocks the connection.
            let _ = sender.try_send(notification);
        }),
    )
    .await;

    let sent = [
        (
            "notifications/message",
            json!({"level": "warning", "logger": "db", "data": {"slow": true}}),
        ),
        ("notifications/tools/list_changed", Value::Null),
        ("notifications/resources/list_changed", Value::Null),
        ("notifications/prompts/list_changed", Value::Null),
        (
            "notifications/resources/updated",
            json!({"uri": "file:///a"}),
        ),
        (
            "notifications/progress",
            json!({"progressToken": "nobody-asked", "progress": 0.5}),
        ),
        // Invalid params: dropped.
        (
            "notifications/resources/updated",
            json!({"url": "file:///a"}),
        ),
        // A cancellation naming no request of the client: dropped.
        ("notifications/cancelled", json!({"requestId": 99})),
        ("vendor/custom", json!({"x": 1})),
    ];
    for (method, params) in sent {
        let params = (!params.is_null()).then(|| to_raw_value(&params).expect("encodes"));
        fake.peer
            .notify_raw(method, params, Default::default())
            .await
            .expect("sent");
    }

    let mut delivered = Vec::new();
    for _ in 0..7 {
        delivered.push(received.recv().await.expect("delivered"));
    }
    let ServerNotification::LoggingMessage(log) = &delivered[0] else {
        panic!("a log message first: {delivered:?}");
    };
    assert_eq!(log.level, LoggingLevel::Warning);
    assert_eq!(log.logger.as_deref(), Some("db"));
    assert_eq!(log.data, json!({"slow": true}));
    assert_eq!(delivered[1], ServerNotification::ToolListChanged);
    assert_eq!(delivered[2], ServerNotification::ResourceListChanged);
    assert_eq!(delivered[3], ServerNotification::PromptListChanged);
    let ServerNotification::ResourceUpdated(updated) = &delivered[4] else {
        panic!("a resource update: {delivered:?}");
    };
    assert_eq!(updated.uri, "file:///a");
    let ServerNotification::Progress(progress) = &delivered[5] else {
        panic!("unrouted progress: {delivered:?}");
    };
    assert_eq!(
        (progress.token.clone(), progress.progress, progress.total),
        (RequestId::from("nobody-asked"), 0.5, None)
    );
    assert_eq!(
        delivered[6],
        ServerNotification::Other {
            method: "vendor/custom".to_owned(),
            params: Some(json!({"x": 1})),
        }
    );
    assert!(received.try_recv().is_err(), "nothing else was delivered");
}
