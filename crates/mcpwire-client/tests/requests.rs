//! Client requests: typed and raw, pagination, capability checks, and cancellation on drop.

mod support;

use std::collections::BTreeMap;

use mcpwire_client::ErrorCode;
use mcpwire_schema::v2025_11_25::methods::ReadResource;
use mcpwire_schema::v2025_11_25::{
    CompleteRequestParamsRef, ContentBlock, LoggingLevel, PromptReference,
    ReadResourceRequestParams, ReadResourceResultContentsItem, tags,
};
use serde_json::{Value, json};
use support::{Behaviour, Event, builder, connect, tools_page};

fn text_of(content: &ContentBlock) -> &str {
    match content {
        ContentBlock::TextContent(text) => &text.text,
        other => panic!("text content expected, got {other:?}"),
    }
}

#[tokio::test]
async fn typed_and_raw_requests_round_trip() {
    let (client, mut fake) = connect(Behaviour::default(), builder()).await;

    let params = ReadResourceRequestParams {
        meta: None,
        uri: "file:///notes.txt".to_owned(),
    };
    let result = client
        .request::<ReadResource>(params)
        .await
        .expect("read succeeds");
    let [ReadResourceResultContentsItem::TextResourceContents(contents)] = &result.contents[..]
    else {
        panic!("one text item expected: {result:?}");
    };
    assert_eq!(contents.uri, "file:///notes.txt");
    assert_eq!(contents.text, "contents");
    let Event::Request { params, .. } = fake.event_for("resources/read").await else {
        panic!("a request");
    };
    assert_eq!(params, json!({"uri": "file:///notes.txt"}));

    // The raw path takes any method and JSON.
    let echoed = client
        .request_raw("vendor/echo", json!({"a": [1, 2]}))
        .await
        .expect("echo succeeds");
    assert_eq!(echoed, json!({"echo": {"a": [1, 2]}}));
    let error = client
        .request_raw("vendor/echo", json!([1, 2]))
        .await
        .expect_err("params must be an object");
    assert!(error.is_encode(), "{error:?}");
}

#[tokio::test]
async fn call_tool_returns_content_and_tool_failures_are_results() {
    let (client, _fake) = connect(Behaviour::default(), builder()).await;
    let result = client
        .call_tool("echo", json!({"x": 1}))
        .await
        .expect("call succeeds");
    assert_eq!(text_of(&result.content[0]), r#"{"x":1}"#);
    assert_eq!(result.is_error, None);

    let failed = client
        .call_tool("failing", Value::Null)
        .await
        .expect("a tool failure is a result");
    assert_eq!(failed.is_error, Some(true));

    let error = client
        .call_tool("missing", Value::Null)
        .await
        .expect_err("unknown tool");
    assert!(error.is_remote(), "{error:?}");
    assert_eq!(
        error.remote().map(|remote| remote.code),
        Some(ErrorCode::INVALID_PARAMS)
    );
    assert_eq!(error.method(), Some("tools/call"));
}

#[tokio::test]
async fn tool_arguments_must_be_an_object_and_nothing_is_sent_otherwise() {
    let (client, mut fake) = connect(Behaviour::default(), builder()).await;
    let error = client
        .call_tool("echo", json!("text"))
        .await
        .expect_err("not an object");
    assert!(error.is_encode(), "{error:?}");
    client.ping().await.expect("ping succeeds");
    assert_eq!(fake.next_event().await.method(), Some("ping"));
}

#[tokio::test]
async fn list_tools_follows_the_cursor_through_three_pages() {
    let mut behaviour = Behaviour::default();
    behaviour
        .tool_pages
        .insert(None, tools_page(&["a", "b"], Some("page-2")));
    behaviour.tool_pages.insert(
        Some("page-2".to_owned()),
        tools_page(&["c"], Some("page-3")),
    );
    behaviour
        .tool_pages
        .insert(Some("page-3".to_owned()), tools_page(&["d", "e"], None));
    let (client, mut fake) = connect(behaviour, builder()).await;

    let tools = client.list_tools().await.expect("listing succeeds");
    let names: Vec<_> = tools.iter().map(|tool| tool.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e"]);

    let mut cursors = Vec::new();
    for _ in 0..3 {
        let Event::Request { method, params, .. } = fake.next_event().await else {
            panic!("a request");
        };
        assert_eq!(method, "tools/list");
        cursors.push(params);
    }
    // The first page is asked for without params, the others with the cursor alone.
    assert_eq!(
        cursors,
        [
            Value::Null,
            json!({"cursor": "page-2"}),
            json!({"cursor": "page-3"})
        ]
    );
}

#[tokio::test]
async fn a_repeated_cursor_ends_the_listing_with_an_error() {
    let mut behaviour = Behaviour::default();
    behaviour
        .tool_pages
        .insert(None, tools_page(&["a"], Some("again")));
    behaviour
        .tool_pages
        .insert(Some("again".to_owned()), tools_page(&["b"], Some("again")));
    let (client, mut fake) = connect(behaviour, builder()).await;

    let error = client.list_tools().await.expect_err("the cursor loops");
    assert!(error.is_pagination(), "{error:?}");
    assert_eq!(error.to_string(), "server repeated a tools/list cursor");

    // Two pages were asked for, then the client stopped.
    client.ping().await.expect("ping succeeds");
    let methods: Vec<_> = [
        fake.next_event().await,
        fake.next_event().await,
        fake.next_event().await,
    ]
    .iter()
    .map(|event| event.method().expect("a message").to_owned())
    .collect();
    assert_eq!(methods, ["tools/list", "tools/list", "ping"]);
}

#[tokio::test]
async fn an_endless_listing_stops_after_a_thousand_pages() {
    let behaviour = Behaviour {
        endless_tools: true,
        ..Behaviour::default()
    };
    let (client, mut fake) = connect(behaviour, builder()).await;
    let error = client.list_tools().await.expect_err("pages never end");
    assert!(error.is_pagination(), "{error:?}");
    assert_eq!(
        error.to_string(),
        "tools/list returned more than 1000 pages"
    );

    client.ping().await.expect("ping succeeds");
    let mut pages = 0;
    for _ in 0..1001 {
        match fake.next_event().await.method() {
            Some("tools/list") => pages += 1,
            Some("ping") => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(pages, 1000);
}

#[tokio::test]
async fn a_missing_capability_fails_without_sending() {
    let behaviour = Behaviour {
        capabilities: json!({"resources": {}}),
        ..Behaviour::default()
    };
    let (client, mut fake) = connect(behaviour, builder()).await;

    let error = client.list_tools().await.expect_err("no tools capability");
    assert!(error.is_capability_missing(), "{error:?}");
    assert_eq!(
        error.to_string(),
        "server did not declare the `tools` capability that tools/list needs"
    );
    let error = client
        .call_tool("echo", Value::Null)
        .await
        .expect_err("no tools");
    assert!(error.is_capability_missing(), "{error:?}");
    let error = client
        .subscribe("file:///a")
        .await
        .expect_err("resources without subscribe");
    assert!(error.is_capability_missing(), "{error:?}");
    for error in [
        client.list_prompts().await.expect_err("no prompts"),
        client
            .set_logging_level(LoggingLevel::Info)
            .await
            .expect_err("no logging"),
    ] {
        assert!(error.is_capability_missing(), "{error:?}");
    }

    // None of those were sent: the next thing the server sees is the ping.
    client.ping().await.expect("ping needs no capability");
    assert_eq!(fake.next_event().await.method(), Some("ping"));
}

#[tokio::test]
async fn convenience_calls_send_the_expected_params() {
    let (client, mut fake) = connect(Behaviour::default(), builder()).await;

    let prompt = client
        .get_prompt(
            "greeting",
            BTreeMap::from([("name".to_owned(), "Ada".to_owned())]),
        )
        .await
        .expect("prompt succeeds");
    assert_eq!(prompt.messages.len(), 1);
    let completion = client
        .complete(
            CompleteRequestParamsRef::PromptReference(PromptReference {
                name: "greeting".to_owned(),
                title: None,
                r#type: tags::RefPrompt,
            }),
            "name",
            "Ad",
        )
        .await
        .expect("completion succeeds");
    assert_eq!(completion.completion.values, ["Ad"]);
    client.subscribe("file:///a").await.expect("subscribed");
    client.unsubscribe("file:///a").await.expect("unsubscribed");
    client
        .set_logging_level(LoggingLevel::Warning)
        .await
        .expect("level set");
    client.ping().await.expect("pong");

    let mut sent = Vec::new();
    for _ in 0..6 {
        let Event::Request { method, params, .. } = fake.next_event().await else {
            panic!("a request");
        };
        sent.push((method, params));
    }
    assert_eq!(
        sent,
        [
            (
                "prompts/get".to_owned(),
                json!({"name": "greeting", "arguments": {"name": "Ada"}})
            ),
            (
                "completion/complete".to_owned(),
                json!({
                    "ref": {"type": "ref/prompt", "name": "greeting"},
                    "argument": {"name": "name", "value": "Ad"},
                })
            ),
            (
                "resources/subscribe".to_owned(),
                json!({"uri": "file:///a"})
            ),
            (
                "resources/unsubscribe".to_owned(),
                json!({"uri": "file:///a"})
            ),
            ("logging/setLevel".to_owned(), json!({"level": "warning"})),
            ("ping".to_owned(), Value::Null),
        ]
    );
}

#[tokio::test]
async fn roots_list_changed_needs_the_declaration() {
    let (client, _fake) = connect(Behaviour::default(), builder()).await;
    let error = client
        .notify_roots_list_changed()
        .await
        .expect_err("not declared");
    assert!(error.is_capability_missing(), "{error:?}");
    assert!(
        error.to_string().starts_with("client did not declare"),
        "{error}"
    );

    let roots = |_: mcpwire_client::RequestContext| async move {
        Ok::<_, mcpwire_client::ErrorObject>(Vec::new())
    };
    let (client, mut fake) = connect(
        Behaviour::default(),
        builder().roots(roots).roots_list_changed(true),
    )
    .await;
    client
        .notify_roots_list_changed()
        .await
        .expect("declared, so sent");
    assert_eq!(
        fake.next_event().await,
        Event::Notification {
            method: "notifications/roots/list_changed".to_owned(),
            params: Value::Null,
        }
    );
}

#[tokio::test]
async fn dropping_a_call_cancels_it_on_the_wire() {
    let (client, mut fake) = connect(Behaviour::default(), builder()).await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.call_tool("block", Value::Null).await }
    });
    let Event::Request { id, .. } = fake.event_for("tools/call").await else {
        panic!("a request");
    };
    call.abort();
    assert!(call.await.expect_err("aborted").is_cancelled());

    let Event::Notification { params, .. } = fake.event_for("notifications/cancelled").await else {
        panic!("a notification");
    };
    assert_eq!(params["requestId"], json!(id));
    assert!(params["reason"].is_string(), "{params}");
    client.ping().await.expect("the connection stays usable");
}
