//! mcpwire's own conformance suite, its `fixtures` area, against the fixture server served
//! over Streamable HTTP on loopback: every check of the official scenarios passes; and
//! against a server that lacks most fixtures, the checks of the missing ones fail.

use mcpwire_conformance::{Options, Report, Suite, Target, Verdict};
use mcpwire_server::{Server, Tool, ToolError};
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

/// Serves `server` over HTTP on a loopback port, runs the fixtures checks selected by
/// `only` (all when empty) against it, and stops it.
async fn run_against(server: Server, only: &[&str]) -> Report {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        server
            .serve_http(listener)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let options = Options {
        suite: Suite::Fixtures,
        only: only.iter().map(|id| (*id).to_owned()).collect(),
        ..Options::default()
    };
    let report = mcpwire_conformance::run(&Target::http(url), &options).await;
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
    report
}

/// The verdict of check `id` in `report`.
fn verdict(report: &Report, id: &str) -> Verdict {
    report
        .results
        .iter()
        .find(|result| result.id == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
        .verdict
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_official_scenario_passes_against_the_fixture_server() {
    let server = mcpwire_conformance_fixtures::fixtures::server().unwrap();
    let report = run_against(server, &[]).await;
    let failing: Vec<String> = report
        .results
        .iter()
        .filter(|result| result.verdict != Verdict::Pass)
        .map(|result| format!("{} {:?}: {}", result.id, result.verdict, result.detail))
        .collect();
    assert!(failing.is_empty(), "not passing:\n{}", failing.join("\n"));
    assert!(
        report.results.len() >= 33,
        "expected every scenario, ran {}",
        report.results.len()
    );
    assert!(report.results.iter().all(|result| result.official));
    assert!(report.ok());
}

/// A server with one fixture tool, `test_simple_text`, and nothing else.
fn partial_server() -> Server {
    let schema: Map<String, Value> = match json!({"type": "object", "properties": {}}) {
        Value::Object(schema) => schema,
        _ => unreachable!(),
    };
    Server::builder("partial-fixtures", "1.0.0")
        .tool(
            Tool::raw("test_simple_text", schema, |_: Map<String, Value>| async {
                Ok::<_, ToolError>("This is a simple text response for testing.")
            })
            .description("Returns a simple text response"),
        )
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_fixtures_fail_their_scenarios() {
    let report = run_against(
        partial_server(),
        &[
            "fixtures/ping",
            "fixtures/tools-list",
            "fixtures/tools-call-simple-text",
            "fixtures/tools-call-image",
            "fixtures/tools-call-sampling",
            "fixtures/tools-call-with-progress",
            "fixtures/json-schema-2020-12",
            "fixtures/elicitation-sep1034-defaults",
            "fixtures/resources-read-text",
            "fixtures/prompts-get-simple",
            "fixtures/server-sse-polling",
        ],
    )
    .await;
    assert_eq!(verdict(&report, "fixtures/ping"), Verdict::Pass);
    assert_eq!(verdict(&report, "fixtures/tools-list"), Verdict::Pass);
    assert_eq!(
        verdict(&report, "fixtures/tools-call-simple-text"),
        Verdict::Pass
    );
    for missing in [
        "fixtures/tools-call-image",
        "fixtures/tools-call-sampling",
        "fixtures/tools-call-with-progress",
        "fixtures/json-schema-2020-12",
        "fixtures/elicitation-sep1034-defaults",
        "fixtures/resources-read-text",
        "fixtures/prompts-get-simple",
        "fixtures/server-sse-polling",
    ] {
        assert_eq!(verdict(&report, missing), Verdict::Fail, "{missing}");
    }
    assert!(!report.ok());
}
