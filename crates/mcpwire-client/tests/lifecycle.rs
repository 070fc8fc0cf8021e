//! The handshake: version negotiation, declared capabilities, and closing.

mod support;

use std::time::Duration;

use mcpwire_client::{ElicitationModes, ErrorObject, ProtocolVersion, RequestContext};
use mcpwire_schema::v2025_11_25::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, Root,
};
use serde_json::json;
use support::{Behaviour, Event, builder, connect, fake_server};

#[tokio::test]
async fn handshake_negotiates_the_version_and_keeps_the_server_details() {
    let (mut fake, transport) = fake_server(Behaviour::default());
    let client = builder()
        .connect(transport)
        .await
        .expect("handshake succeeds");

    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_11_25);
    assert_eq!(client.server_info().name, "fake");
    assert_eq!(client.server_info().version, "0.0.1");
    assert_eq!(client.instructions(), Some("be kind"));
    let capabilities = client.server_capabilities();
    assert_eq!(
        capabilities
            .tools
            .as_ref()
            .and_then(|tools| tools.list_changed),
        Some(true)
    );
    assert!(capabilities.prompts.is_some());

    let Event::Request { method, params, .. } = fake.next_event().await else {
        panic!("initialize comes first");
    };
    assert_eq!(method, "initialize");
    assert_eq!(
        params,
        json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "test-client", "version": "1.0.0"},
        })
    );
    assert_eq!(
        fake.next_event().await,
        Event::Notification {
            method: "notifications/initialized".to_owned(),
            params: serde_json::Value::Null,
        }
    );
}

#[tokio::test]
async fn an_older_legacy_version_chosen_by_the_server_is_accepted() {
    let behaviour = Behaviour {
        version: Some("2025-03-26".to_owned()),
        ..Behaviour::default()
    };
    let (client, _fake) = connect(behaviour, builder()).await;
    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_03_26);
}

#[tokio::test]
async fn the_offered_version_is_configurable() {
    let (mut fake, transport) = fake_server(Behaviour::default());
    let client = builder()
        .protocol_version(ProtocolVersion::V2025_06_18)
        .connect(transport)
        .await
        .expect("handshake succeeds");
    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_06_18);
    let Event::Request { params, .. } = fake.event_for("initialize").await else {
        panic!("initialize is a request");
    };
    assert_eq!(params["protocolVersion"], "2025-06-18");
}

#[tokio::test]
async fn an_unsupported_version_fails_and_disconnects() {
    for answered in ["1999-01-01", "2026-07-28"] {
        let behaviour = Behaviour {
            version: Some(answered.to_owned()),
            ..Behaviour::default()
        };
        let (mut fake, transport) = fake_server(behaviour);
        let error = builder()
            .connect(transport)
            .await
            .expect_err("the version is refused");
        assert!(error.is_unsupported_version(), "{error:?}");
        assert!(error.to_string().contains(answered), "{error}");

        // The client hung up without sending `notifications/initialized`.
        fake.peer.closed().await;
        let events = fake.remaining_events().await;
        let methods: Vec<_> = events.iter().filter_map(Event::method).collect();
        assert_eq!(methods, ["initialize"], "{answered}");
    }
}

#[tokio::test]
async fn capabilities_follow_the_registered_handlers() {
    let sampling = |_: CreateMessageRequestParams, _: RequestContext| async move {
        Err::<CreateMessageResult, _>(ErrorObject::internal_error("unused"))
    };
    let elicitation = |_: ElicitRequestParams, _: RequestContext| async move {
        Err::<ElicitResult, _>(ErrorObject::internal_error("unused"))
    };
    let roots = |_: RequestContext| async move { Ok::<Vec<Root>, ErrorObject>(Vec::new()) };
    let cases = [
        (builder().sampling(sampling), json!({"sampling": {}})),
        (
            builder().sampling(sampling).sampling_tools(true),
            json!({"sampling": {"tools": {}}}),
        ),
        (
            builder().elicitation(elicitation),
            json!({"elicitation": {"form": {}}}),
        ),
        (
            builder()
                .elicitation(elicitation)
                .elicitation_modes(ElicitationModes::FORM_AND_URL),
            json!({"elicitation": {"form": {}, "url": {}}}),
        ),
        (builder().roots(roots), json!({"roots": {}})),
        (
            builder().roots(roots).roots_list_changed(true),
            json!({"roots": {"listChanged": true}}),
        ),
        // Flags without a handler declare nothing.
        (
            builder()
                .sampling_tools(true)
                .roots_list_changed(true)
                .elicitation_modes(ElicitationModes::URL),
            json!({}),
        ),
    ];
    for (builder, expected) in cases {
        let (mut fake, transport) = fake_server(Behaviour::default());
        let client = builder
            .connect(transport)
            .await
            .expect("handshake succeeds");
        let Event::Request { params, .. } = fake.event_for("initialize").await else {
            panic!("initialize is a request");
        };
        assert_eq!(params["capabilities"], expected);
        assert_eq!(
            serde_json::to_value(client.client_capabilities()).expect("encodes"),
            expected
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_initialize_times_out_without_being_cancelled() {
    let behaviour = Behaviour {
        hang_initialize: true,
        ..Behaviour::default()
    };
    let (mut fake, transport) = fake_server(behaviour);
    let started = tokio::time::Instant::now();
    let error = builder()
        .request_timeout(Some(Duration::from_secs(5)))
        .connect(transport)
        .await
        .expect_err("no answer");
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(5));

    // The lifecycle forbids cancelling `initialize`: the client just hangs up.
    fake.peer.closed().await;
    let events = fake.remaining_events().await;
    let methods: Vec<_> = events.iter().filter_map(Event::method).collect();
    assert_eq!(methods, ["initialize"]);
}

#[tokio::test]
async fn close_ends_the_connection_and_later_calls_fail() {
    let (client, fake) = connect(Behaviour::default(), builder()).await;
    client.close().await;
    assert!(client.is_closed());
    fake.peer.closed().await;
    let error = client.ping().await.expect_err("closed");
    assert!(error.is_closed(), "{error:?}");
}

#[tokio::test]
async fn dropping_the_last_handle_closes_the_connection() {
    let (client, fake) = connect(Behaviour::default(), builder()).await;
    let clone = client.clone();
    drop(client);
    clone.ping().await.expect("a clone keeps the connection");
    drop(clone);
    fake.peer.closed().await;
}

#[tokio::test]
async fn the_server_closing_is_seen_by_the_client() {
    let (client, fake) = connect(Behaviour::default(), builder()).await;
    fake.peer.close().await;
    client.closed().await;
    let error = client.ping().await.expect_err("closed");
    assert!(error.is_closed(), "{error:?}");
}
