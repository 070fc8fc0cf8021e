//! `subscriptions/listen`: the acknowledgement, notifications routed by subscription id, the
//! end of a stream, and cancellation when the subscription is dropped.

mod support;

use std::sync::{Arc, Mutex};

use mcpwire_client::{Client, ServerNotification, SubscriptionFilter};
use serde_json::{Value, json};
use support::script::{Script, all_capabilities, envelope, list_tools_answered, modern_client};
use support::{Behaviour, builder, client_info, connect};

fn filter() -> SubscriptionFilter {
    SubscriptionFilter {
        tools_list_changed: Some(true),
        prompts_list_changed: Some(true),
        resource_subscriptions: Some(vec!["file:///config.json".to_owned()]),
        resources_list_changed: None,
    }
}

fn tagged(id: &Value) -> Value {
    json!({"io.modelcontextprotocol/subscriptionId": id})
}

/// Opens a subscription, acknowledging only tools and the resource; returns the listen
/// request the server saw.
async fn open(client: &Client, script: &mut Script) -> (mcpwire_client::Subscription, Value) {
    let listening = {
        let client = client.clone();
        tokio::spawn(async move { client.listen(filter()).await })
    };
    let request = script.request("subscriptions/listen").await;
    let acknowledged = json!({
        "_meta": tagged(&request["id"]),
        "notifications": {"toolsListChanged": true, "resourceSubscriptions": ["file:///config.json"]},
    });
    script
        .notify("notifications/subscriptions/acknowledged", acknowledged)
        .await;
    let subscription = listening.await.unwrap().expect("acknowledged");
    (subscription, request)
}

#[tokio::test]
async fn the_acknowledgement_opens_the_subscription_and_tagged_notifications_reach_it() {
    let others = Arc::new(Mutex::new(Vec::new()));
    let callback_seen = Arc::clone(&others);
    let builder = mcpwire_client::ClientBuilder::new(client_info())
        .on_notification(move |notification| callback_seen.lock().unwrap().push(notification));
    let (client, mut script) = modern_client(builder, all_capabilities()).await;
    let (mut subscription, request) = open(&client, &mut script).await;

    assert_eq!(
        request["params"],
        json!({
            "_meta": envelope(),
            "notifications": {
                "toolsListChanged": true,
                "promptsListChanged": true,
                "resourceSubscriptions": ["file:///config.json"],
            },
        })
    );
    assert_eq!(subscription.id().to_string(), request["id"].to_string());
    assert_eq!(subscription.acknowledged().tools_list_changed, Some(true));
    assert_eq!(subscription.acknowledged().prompts_list_changed, None);

    let id = &request["id"];
    script
        .notify(
            "notifications/tools/list_changed",
            json!({"_meta": tagged(id)}),
        )
        .await;
    // A notification of no live subscription goes nowhere; an untagged one to the callback.
    script
        .notify(
            "notifications/tools/list_changed",
            json!({"_meta": tagged(&json!(999))}),
        )
        .await;
    script
        .notify("notifications/prompts/list_changed", json!({}))
        .await;
    script
        .notify(
            "notifications/resources/updated",
            json!({"_meta": tagged(id), "uri": "file:///config.json"}),
        )
        .await;

    let first = subscription
        .next()
        .await
        .expect("a notification")
        .expect("not an error");
    assert_eq!(first, ServerNotification::ToolListChanged);
    let second = subscription
        .next()
        .await
        .expect("a notification")
        .expect("not an error");
    let ServerNotification::ResourceUpdated(updated) = second else {
        panic!("a resource update expected, got {second:?}");
    };
    assert_eq!(updated.uri, "file:///config.json");
    assert_eq!(
        *others.lock().unwrap(),
        [ServerNotification::PromptListChanged]
    );
    assert!(!subscription.is_ended());
}

#[tokio::test]
async fn dropping_the_subscription_cancels_its_request() {
    let (client, mut script) = modern_client(
        mcpwire_client::ClientBuilder::new(client_info()),
        all_capabilities(),
    )
    .await;
    let (subscription, request) = open(&client, &mut script).await;
    drop(subscription);
    let cancelled = script.receive().await;
    assert_eq!(cancelled["method"], "notifications/cancelled");
    assert_eq!(cancelled["params"]["requestId"], request["id"]);
    // Later notifications for it are dropped; the connection is fine.
    script
        .notify(
            "notifications/tools/list_changed",
            json!({"_meta": tagged(&request["id"])}),
        )
        .await;
    list_tools_answered(&client, &mut script).await;
}

#[tokio::test]
async fn a_graceful_end_comes_after_the_notifications_before_it() {
    let (client, mut script) = modern_client(
        mcpwire_client::ClientBuilder::new(client_info()),
        all_capabilities(),
    )
    .await;
    let (mut subscription, request) = open(&client, &mut script).await;
    let id = request["id"].clone();
    script
        .notify(
            "notifications/tools/list_changed",
            json!({"_meta": tagged(&id)}),
        )
        .await;
    script
        .respond(
            &request,
            json!({"resultType": "complete", "_meta": tagged(&id)}),
        )
        .await;
    assert_eq!(
        subscription
            .next()
            .await
            .expect("the last notification")
            .expect("ok"),
        ServerNotification::ToolListChanged
    );
    assert!(subscription.next().await.is_none(), "ended");
    assert!(subscription.is_ended());
    assert!(subscription.next().await.is_none(), "stays ended");
    // An ended subscription is not cancelled when dropped.
    drop(subscription);
    client.close().await;
    assert_eq!(script.remaining().await, Vec::<Value>::new());
}

#[tokio::test]
async fn a_refused_or_broken_subscription_is_an_error() {
    let (client, mut script) = modern_client(
        mcpwire_client::ClientBuilder::new(client_info()),
        all_capabilities(),
    )
    .await;
    let listening = {
        let client = client.clone();
        tokio::spawn(async move { client.listen(filter()).await })
    };
    let request = script.request("subscriptions/listen").await;
    script.fail(&request, -32601, None).await;
    let error = listening.await.unwrap().expect_err("refused");
    assert!(error.is_remote(), "{error:?}");

    // A subscription whose connection closes ends with the error, then `None`.
    let (mut subscription, _) = open(&client, &mut script).await;
    drop(script);
    let error = subscription
        .next()
        .await
        .expect("the failure")
        .expect_err("an error");
    assert!(error.is_closed(), "{error:?}");
    assert!(subscription.next().await.is_none());
}

#[tokio::test]
async fn the_legacy_era_has_no_listen() {
    let (client, _fake) = connect(Behaviour::default(), builder()).await;
    let error = client.listen(filter()).await.expect_err("legacy");
    assert!(error.is_unsupported_in_era(), "{error:?}");
    assert!(error.to_string().contains("legacy era"), "{error}");
}
