//! `mcpwire conform` as a person or a CI job runs it: against the reference server over
//! Streamable HTTP and over stdio, with JSON and JUnit reports, a baseline, and the exit
//! codes a CI job reads.

mod support;

use std::process::Output;

use serde_json::Value;
use tokio::process::Command;

/// Runs `mcpwire conform <args>` to its end.
async fn conform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcpwire"))
        .arg("conform")
        .args(args)
        .output()
        .await
        .expect("mcpwire conform runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_passes_the_suite_over_http() {
    let (_server, url) = support::start(&[]).await;
    let output = conform(&["server", "--suite", "generic", &url]).await;
    let report = text(&output.stdout);
    assert!(
        output.status.success(),
        "{report}\n{}",
        text(&output.stderr)
    );
    assert!(
        report.contains("eras: legacy (2025-11-25), modern (2026-07-28)"),
        "{report}"
    );
    assert!(report.contains(" 0 failed"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_passes_the_suite_over_stdio() {
    let output = conform(&[
        "server",
        "--suite",
        "generic",
        "--json",
        "--",
        env!("CARGO_BIN_EXE_mcpwire"),
        "serve",
        "--stdio",
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stdout));
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    assert!(
        report["summary"]["passed"].as_u64().unwrap_or_default() > 20,
        "{report:#}"
    );
    let stdio_checks = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|result| {
            result["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("stdio/"))
        })
        .filter(|result| result["verdict"] == "pass")
        .count();
    assert!(stdio_checks >= 5, "{report:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_junit_report_and_a_stale_baseline_entry() {
    // One check selected alone and reported in JUnit; then a baseline that names it, though
    // it passes, is stale and fails the run.
    let (_server, url) = support::start(&[]).await;
    let directory = std::env::temp_dir().join(format!("mcpwire-conform-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    let junit = directory.join("report.xml");
    let output = conform(&[
        "server",
        "--scenario",
        "json-rpc/unknown-method@legacy",
        "--junit",
        junit.to_str().expect("a UTF-8 path"),
        &url,
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stdout));
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(
        xml.contains("name=\"json-rpc/unknown-method@legacy\""),
        "{xml}"
    );
    assert!(xml.contains("failures=\"0\""), "{xml}");

    let baseline = directory.join("baseline.json");
    std::fs::write(
        &baseline,
        r#"{"json-rpc/unknown-method@legacy": "thought broken"}"#,
    )
    .expect("the baseline");
    let output = conform(&[
        "server",
        "--scenario",
        "json-rpc/unknown-method@legacy",
        "--baseline",
        baseline.to_str().expect("a UTF-8 path"),
        &url,
    ])
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(
        text(&output.stdout).contains("remove the entry"),
        "{}",
        text(&output.stdout)
    );
    let _ = std::fs::remove_dir_all(&directory);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_fails_and_a_bad_url_is_a_usage_error() {
    // A port nothing listens on: bind one, then let it go.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let output = conform(&["server", "--timeout", "2", &format!("http://{address}/mcp")]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(
        text(&output.stdout).contains("lifecycle/first-contact"),
        "{}",
        text(&output.stdout)
    );

    let output = conform(&["server", "localhost:3000"]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("not an http:// or https:// URL"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test]
async fn the_list_names_every_check_with_its_requirement() {
    let output = conform(&["list"]).await;
    assert!(output.status.success());
    let list = text(&output.stdout);
    assert!(list.contains("lifecycle/unsupported-version"), "{list}");
    assert!(list.contains("Must 2025-11-25 basic/lifecycle"), "{list}");
    assert!(list.contains("authorization/metadata-resource"), "{list}");
    assert!(
        list.contains("client/sse-retry/client-sse-retry-timing"),
        "{list}"
    );
    assert!(
        list.contains("client/initialize/initialize-first"),
        "{list}"
    );
}

/// The Python client of the conformance suite's own tests, with `flaw`.
const PYTHON_CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../mcpwire-conformance/tests/flaws/http_client.py"
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_mode_passes_a_sound_client_and_fails_a_flawed_one() {
    let output = conform(&[
        "client",
        "--scenario",
        "initialize",
        "--json",
        "--",
        "python3",
        PYTHON_CLIENT,
        "sound",
    ])
    .await;
    assert!(
        output.status.success(),
        "{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    assert!(
        report["results"]
            .as_array()
            .is_some_and(|results| results.iter().any(|result| result["id"]
                == "client/initialize/mcp-client-initialization"
                && result["verdict"] == "pass")),
        "{report:#}"
    );

    let output = conform(&[
        "client",
        "--scenario",
        "initialize",
        "--",
        "python3",
        PYTHON_CLIENT,
        "no-initialized",
    ])
    .await;
    let report = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("FAIL client/initialize/initialized-notification"),
        "{report}"
    );
    assert!(report.contains("MUST [#17]"), "{report}");
}

#[tokio::test]
async fn client_mode_refuses_an_unknown_scenario() {
    let output = conform(&["client", "--scenario", "nonsense", "--", "true"]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("is not a client scenario"),
        "{}",
        text(&output.stderr)
    );
}
