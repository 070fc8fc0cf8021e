//! Choosing the era: the `server/discover` probe, its fallback to `initialize`, forced eras
//! and the era cache.

mod support;

use std::time::Duration;

use mcpwire_client::{
    Client, ClientBuilder, EraCache, EraChoice, Error as ClientError, ErrorCode, ErrorObject,
    ProtocolVersion, RequestContext,
};
use mcpwire_schema::Era;
use mcpwire_schema::v2025_11_25::{ElicitRequestParams, ElicitResult, Root};
use serde_json::{Value, json};
use support::script::{
    MODERN, Script, all_capabilities, discovery, envelope, scripted, spawn_connect,
};
use support::{Behaviour, client_info, fake_server};
use tokio::task::JoinHandle;

fn auto() -> ClientBuilder {
    mcpwire_client::ClientBuilder::new(client_info())
}

/// Starts connecting a client made by `builder` to a script, and reads the client's probe.
async fn probed(
    builder: ClientBuilder,
) -> (Script, JoinHandle<Result<Client, ClientError>>, Value) {
    let (mut script, transport) = scripted();
    let connecting = spawn_connect(builder, transport);
    let probe = script.request("server/discover").await;
    (script, connecting, probe)
}

#[tokio::test]
async fn a_discovery_result_selects_the_modern_era() {
    let (mut script, transport) = scripted();
    let builder = auto()
        .elicitation(|_: ElicitRequestParams, _: RequestContext| async {
            Ok::<_, ErrorObject>(ElicitResult {
                meta: None,
                action: mcpwire_schema::v2025_11_25::ElicitResultAction::Decline,
                content: None,
            })
        })
        .roots(|_: RequestContext| async { Ok::<Vec<Root>, ErrorObject>(Vec::new()) })
        .roots_list_changed(true);
    let connecting = spawn_connect(builder, transport);
    let request = script.request("server/discover").await;
    // The probe carries the whole envelope, with the modern shape of the capabilities.
    assert_eq!(
        request["params"],
        json!({"_meta": {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}, "roots": {}},
            "io.modelcontextprotocol/clientInfo": {"name": "test-client", "version": "1.0.0"},
        }})
    );
    script
        .respond(&request, discovery(json!({"tools": {}, "prompts": {}})))
        .await;
    let client = connecting.await.unwrap().expect("discovery succeeds");

    assert_eq!(client.era(), Era::Modern);
    assert_eq!(client.protocol_version(), ProtocolVersion::V2026_07_28);
    assert_eq!(client.server_info().name, "scripted");
    assert_eq!(client.server_info().version, "2.0.0");
    assert_eq!(client.instructions(), Some("modern and kind"));
    assert!(client.server_capabilities().tools.is_some());
    assert!(client.server_capabilities().resources.is_none());

    // Nothing else was sent: no `initialize`, no `notifications/initialized`.
    client.close().await;
    assert_eq!(script.remaining().await, Vec::<Value>::new());
}

#[tokio::test]
async fn an_unsupported_version_is_retried_once_at_the_servers_version() {
    let (mut script, connecting, probe) = probed(auto()).await;
    // The server lists the very version the client sent: the client retries anyway.
    script
        .fail(
            &probe,
            -32022,
            Some(json!({"supported": ["2025-11-25", MODERN], "requested": MODERN})),
        )
        .await;
    let retry = script.request("server/discover").await;
    assert_ne!(retry["id"], probe["id"]);
    assert_eq!(
        retry["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"],
        MODERN
    );
    script.respond(&retry, discovery(all_capabilities())).await;
    let client = connecting.await.unwrap().expect("the retry succeeds");
    assert_eq!(client.era(), Era::Modern);
}

#[tokio::test]
async fn no_common_modern_version_fails_without_falling_back() {
    for second_answer in [None, Some(-32022)] {
        let (mut script, connecting, probe) = probed(auto()).await;
        let supported = match second_answer {
            None => json!(["2099-01-01"]),
            Some(_) => json!([MODERN]),
        };
        script
            .fail(
                &probe,
                -32022,
                Some(json!({"supported": supported, "requested": MODERN})),
            )
            .await;
        if let Some(code) = second_answer {
            // The one retry is refused again: the client gives up.
            let retry = script.request("server/discover").await;
            script.fail(&retry, code, None).await;
        }
        let error = connecting.await.unwrap().expect_err("no version in common");
        match second_answer {
            None => {
                assert!(error.is_unsupported_version(), "{error:?}");
                assert!(error.to_string().contains("2099-01-01"), "{error}");
            }
            Some(code) => {
                assert_eq!(
                    error.remote().map(|remote| remote.code),
                    Some(ErrorCode(code as i32))
                );
            }
        }
        // A modern server is never sent `initialize`.
        assert_eq!(script.remaining().await, Vec::<Value>::new());
    }
}

#[tokio::test]
async fn any_other_error_falls_back_to_initialize() {
    for code in [-32601, -32602, -32600, -32603, -32000, 7] {
        let (mut script, connecting, probe) = probed(auto()).await;
        script.fail(&probe, code, None).await;
        let initialize = script.initialize().await;
        assert_eq!(initialize["params"]["protocolVersion"], "2025-11-25");
        let client = connecting
            .await
            .unwrap()
            .unwrap_or_else(|error| panic!("falls back after {code}: {error}"));
        assert_eq!(client.era(), Era::Legacy, "after {code}");
        assert_eq!(client.server_info().name, "legacy");
    }
}

#[tokio::test]
async fn a_modern_error_other_than_the_version_fails_the_connection() {
    for code in [-32020, -32021] {
        let (mut script, connecting, probe) = probed(auto()).await;
        script
            .fail(
                &probe,
                code,
                Some(json!({"requiredCapabilities": {"sampling": {}}})),
            )
            .await;
        let error = connecting.await.unwrap().expect_err("a modern refusal");
        assert_eq!(
            error.remote().map(|remote| remote.code.0),
            Some(code as i32)
        );
        assert_eq!(
            script.remaining().await,
            Vec::<Value>::new(),
            "after {code}"
        );
    }
}

#[tokio::test]
async fn an_answer_that_is_not_a_discovery_result_falls_back() {
    let (mut script, connecting, probe) = probed(auto()).await;
    script.respond(&probe, json!({})).await;
    script.initialize().await;
    let client = connecting.await.unwrap().expect("falls back");
    assert_eq!(client.era(), Era::Legacy);
}

#[tokio::test(start_paused = true)]
async fn no_answer_within_the_timeout_falls_back_without_a_cancellation() {
    let (mut script, transport) = scripted();
    let started = tokio::time::Instant::now();
    let connecting = spawn_connect(auto().discovery_timeout(Duration::from_secs(3)), transport);
    let probe = script.request("server/discover").await;
    // The next message is `initialize`, after the timeout: no `notifications/cancelled`
    // for the probe, which a legacy server does not expect before `initialize`.
    let initialize = script.request("initialize").await;
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    // A late answer to the probe is ignored.
    script.respond(&probe, discovery(all_capabilities())).await;
    script
        .respond(
            &initialize,
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "serverInfo": {"name": "slow", "version": "1"},
            }),
        )
        .await;
    assert_eq!(
        script.receive().await["method"],
        "notifications/initialized"
    );
    let client = connecting.await.unwrap().expect("falls back");
    assert_eq!(client.era(), Era::Legacy);
    assert_eq!(client.server_info().name, "slow");
}

#[tokio::test]
async fn the_probe_finds_a_legacy_engine_server_legacy() {
    // The fake server answers `server/discover` with -32601, as legacy servers commonly do.
    let (mut fake, transport) = fake_server(Behaviour::default());
    let client = auto().connect(transport).await.expect("connects");
    assert_eq!(client.era(), Era::Legacy);
    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_11_25);
    let mut methods = Vec::new();
    for _ in 0..3 {
        methods.push(fake.next_event().await.method().map(str::to_owned));
    }
    assert_eq!(
        methods,
        [
            Some("server/discover".to_owned()),
            Some("initialize".to_owned()),
            Some("notifications/initialized".to_owned())
        ]
    );
    // Calls work as in any legacy session.
    client.ping().await.expect("ping is legacy");
}

#[tokio::test]
async fn a_forced_era_skips_the_probe() {
    let (mut script, transport) = scripted();
    let connecting = spawn_connect(auto().era(EraChoice::Legacy), transport);
    script.initialize().await;
    assert_eq!(
        connecting.await.unwrap().expect("legacy").era(),
        Era::Legacy
    );

    // Forced modern: discovery is still the first request, but a legacy answer is an error.
    let (mut script, connecting, probe) = probed(auto().era(EraChoice::Modern)).await;
    script.fail(&probe, -32601, None).await;
    let error = connecting.await.unwrap().expect_err("no fallback");
    assert_eq!(
        error.remote().map(|remote| remote.code),
        Some(ErrorCode::METHOD_NOT_FOUND)
    );
    assert_eq!(script.remaining().await, Vec::<Value>::new());
}

/// Connects with the era cache, playing a legacy server; returns the script.
async fn connect_legacy_with(cache: &EraCache, probe_expected: bool) -> (Client, Script) {
    let (mut script, transport) = scripted();
    let connecting = spawn_connect(auto().era_cache(cache.clone(), "server-a"), transport);
    if probe_expected {
        let probe = script.request("server/discover").await;
        script.fail(&probe, -32601, None).await;
    }
    script.initialize().await;
    let client = connecting.await.unwrap().expect("connects");
    (client, script)
}

#[tokio::test]
async fn a_server_cached_as_legacy_is_sent_initialize_at_once() {
    let cache = EraCache::new();
    connect_legacy_with(&cache, true).await;
    assert_eq!(cache.era("server-a"), Some(Era::Legacy));
    // The second connection starts with `initialize`: `Script::initialize` fails on a probe.
    connect_legacy_with(&cache, false).await;

    // A cached legacy server that refuses `initialize` is probed again.
    let (mut script, transport) = scripted();
    let connecting = spawn_connect(auto().era_cache(cache.clone(), "server-a"), transport);
    let initialize = script.request("initialize").await;
    script.fail(&initialize, -32601, None).await;
    script.discover(all_capabilities()).await;
    let client = connecting.await.unwrap().expect("re-probed");
    assert_eq!(client.era(), Era::Modern);
    assert_eq!(cache.era("server-a"), Some(Era::Modern));
}

#[tokio::test]
async fn a_fresh_modern_discovery_is_reused_without_asking() {
    let cache = EraCache::new();
    let (mut script, connecting, probe) = probed(auto().era_cache(cache.clone(), "server-b")).await;
    let mut result = discovery(json!({"tools": {}}));
    result["ttlMs"] = json!(3_600_000);
    script.respond(&probe, result).await;
    connecting.await.unwrap().expect("modern");
    assert_eq!(cache.era("server-b"), Some(Era::Modern));

    // The second connection sends nothing until the first call.
    let (mut script, transport) = scripted();
    let client = auto()
        .era_cache(cache.clone(), "server-b")
        .connect(transport)
        .await
        .expect("connects from the cache");
    assert_eq!(client.era(), Era::Modern);
    assert_eq!(client.server_info().name, "scripted");
    let list = tokio::spawn({
        let client = client.clone();
        async move { client.list_tools().await }
    });
    let request = script.request("tools/list").await;
    assert_eq!(request["params"], json!({"_meta": envelope()}));
    // The server no longer speaks the modern era: the cache forgets it.
    script.fail(&request, -32600, None).await;
    assert!(list.await.unwrap().is_err());
    assert_eq!(cache.era("server-b"), None);
}

#[tokio::test]
async fn a_stale_modern_discovery_is_asked_again() {
    let cache = EraCache::new();
    for _ in 0..2 {
        // `ttlMs: 0`: the discovery is stale at once, so each connection asks again.
        let (mut script, transport) = scripted();
        let connecting = spawn_connect(auto().era_cache(cache.clone(), "server-c"), transport);
        script.discover(all_capabilities()).await;
        connecting.await.unwrap().expect("modern");
    }
    assert_eq!(cache.era("server-c"), Some(Era::Modern));
    assert_eq!(cache.len(), 1);
}
