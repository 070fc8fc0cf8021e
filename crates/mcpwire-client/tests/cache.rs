//! The result cache of the modern era: fresh results are served again, expire with their
//! `ttlMs`, and are forgotten on change notifications; retries with input are never kept.

mod support;

use std::time::Duration;

use mcpwire_client::{Client, ClientBuilder};
use serde_json::{Value, json};
use support::client_info;
use support::script::{Script, all_capabilities, list_tools_answered, modern_client};

fn caching() -> ClientBuilder {
    mcpwire_client::ClientBuilder::new(client_info()).result_cache(16)
}

fn tools(ttl_ms: Option<i64>) -> Value {
    let mut result = json!({
        "resultType": "complete",
        "tools": [{"name": "t", "inputSchema": {"type": "object"}}],
        "cacheScope": "private",
    });
    if let Some(ttl) = ttl_ms {
        result["ttlMs"] = json!(ttl);
    }
    result
}

/// Lists the tools, answering `result` if the client asks; returns whether it asked.
async fn list(client: &Client, script: &mut Script, result: Value) -> bool {
    let mut listing = {
        let client = client.clone();
        tokio::spawn(async move { client.list_tools().await })
    };
    // The client either answers from the cache, or asks the server.
    let asked = tokio::select! {
        biased;
        listed = &mut listing => {
            assert_eq!(listed.unwrap().expect("listed").len(), 1);
            return false;
        }
        request = script.receive() => request,
    };
    assert_eq!(asked["method"], "tools/list");
    script.respond(&asked, result).await;
    assert_eq!(listing.await.unwrap().expect("listed").len(), 1);
    true
}

#[tokio::test(start_paused = true)]
async fn a_fresh_listing_is_served_from_the_cache_until_it_expires() {
    let (client, mut script) = modern_client(caching(), all_capabilities()).await;
    assert!(list(&client, &mut script, tools(Some(10_000))).await);
    assert!(
        !list(&client, &mut script, tools(Some(10_000))).await,
        "fresh"
    );
    tokio::time::advance(Duration::from_millis(10_000)).await;
    assert!(
        list(&client, &mut script, tools(Some(10_000))).await,
        "expired"
    );
}

#[tokio::test(start_paused = true)]
async fn results_without_a_positive_ttl_are_not_kept() {
    let (client, mut script) = modern_client(caching(), all_capabilities()).await;
    for ttl in [None, Some(0), Some(-1)] {
        assert!(list(&client, &mut script, tools(ttl)).await);
        assert!(list(&client, &mut script, tools(ttl)).await, "{ttl:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_cache_is_off_by_default() {
    let (client, mut script) = modern_client(
        mcpwire_client::ClientBuilder::new(client_info()),
        all_capabilities(),
    )
    .await;
    assert!(list(&client, &mut script, tools(Some(10_000))).await);
    assert!(list(&client, &mut script, tools(Some(10_000))).await);
}

#[tokio::test(start_paused = true)]
async fn a_list_changed_notification_forgets_the_list() {
    let (client, mut script) = modern_client(caching(), all_capabilities()).await;
    assert!(list(&client, &mut script, tools(Some(10_000))).await);
    script
        .notify("notifications/prompts/list_changed", json!({}))
        .await;
    // Another list changed: the tools are still fresh. The listing after the notification
    // shows the client has read it.
    prompts_listed(&client, &mut script).await;
    assert!(
        !list(&client, &mut script, tools(Some(10_000))).await,
        "fresh"
    );
    script
        .notify("notifications/tools/list_changed", json!({}))
        .await;
    prompts_listed(&client, &mut script).await;
    assert!(
        list(&client, &mut script, tools(Some(10_000))).await,
        "forgotten"
    );
}

/// Lists the prompts (never cached: the server gives no `ttlMs`), so that the notifications
/// sent before have been handled when it returns.
async fn prompts_listed(client: &Client, script: &mut Script) {
    let listing = {
        let client = client.clone();
        tokio::spawn(async move { client.list_prompts().await })
    };
    let request = script.request("prompts/list").await;
    script.respond(&request, json!({"prompts": []})).await;
    listing.await.unwrap().expect("listed");
}

#[tokio::test(start_paused = true)]
async fn resources_are_kept_by_uri_and_forgotten_when_updated() {
    let (client, mut script) = modern_client(caching(), all_capabilities()).await;
    let read = |uri: &'static str| {
        let client = client.clone();
        tokio::spawn(async move { client.read_resource(uri).await })
    };
    for uri in ["file:///a", "file:///b"] {
        let reading = read(uri);
        let request = script.request("resources/read").await;
        assert_eq!(request["params"]["uri"], uri);
        script
            .respond(&request, json!({"contents": [], "ttlMs": 60_000}))
            .await;
        reading.await.unwrap().expect("read");
    }
    script
        .notify(
            "notifications/resources/updated",
            json!({"uri": "file:///a"}),
        )
        .await;
    // `b` is still fresh: reading it sends nothing, so the next request on the wire is `a`'s.
    read("file:///b").await.unwrap().expect("from the cache");
    let reading = read("file:///a");
    let request = script.request("resources/read").await;
    assert_eq!(request["params"]["uri"], "file:///a");
    script
        .respond(&request, json!({"contents": [], "ttlMs": 60_000}))
        .await;
    reading.await.unwrap().expect("read again");
}

#[tokio::test(start_paused = true)]
async fn a_result_obtained_with_input_is_never_kept() {
    let builder = caching().roots(|_: mcpwire_client::RequestContext| async {
        Ok::<_, mcpwire_client::ErrorObject>(Vec::new())
    });
    let (client, mut script) = modern_client(builder, all_capabilities()).await;
    for _ in 0..2 {
        let reading = {
            let client = client.clone();
            tokio::spawn(async move { client.read_resource("file:///secret").await })
        };
        let first = script.request("resources/read").await;
        script
            .respond(
                &first,
                json!({"resultType": "input_required", "inputRequests": {"r": {"method": "roots/list"}}}),
            )
            .await;
        let retry = script.request("resources/read").await;
        script
            .respond(&retry, json!({"contents": [], "ttlMs": 60_000}))
            .await;
        reading.await.unwrap().expect("read");
    }
    list_tools_answered(&client, &mut script).await;
}
