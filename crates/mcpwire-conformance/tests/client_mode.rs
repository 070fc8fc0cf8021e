//! Client mode against a small Python client: sound, it passes; with each flaw, the check of
//! the rule it breaks fails, and the others stay as they were.

use std::time::Duration;

use mcpwire_conformance::{ClientOptions, Report, StdioCommand, Verdict, run_client};

/// The Python client with `flaw`.
fn python_client(flaw: &str) -> StdioCommand {
    StdioCommand {
        program: "python3".to_owned(),
        args: vec![
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/flaws/http_client.py").to_owned(),
            flaw.to_owned(),
        ],
        env: Vec::new(),
    }
}

/// Runs the `initialize` and `tools_call` scenarios against the client with `flaw`.
async fn run(flaw: &str) -> Report {
    let options = ClientOptions {
        scenarios: vec!["initialize".to_owned(), "tools_call".to_owned()],
        time_limit: Duration::from_secs(20),
        ..ClientOptions::default()
    };
    run_client(&python_client(flaw), &options).await
}

/// The verdict of check `id` in `report`.
fn verdict(report: &Report, id: &str) -> Verdict {
    report
        .result(id)
        .unwrap_or_else(|| panic!("{id} ran\n{}", report.render_text(true)))
        .verdict
}

/// The ids of the checks that failed.
fn failed(report: &Report) -> Vec<&str> {
    report
        .results
        .iter()
        .filter(|result| result.verdict == Verdict::Fail)
        .map(|result| result.id.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sound_client_passes() {
    let report = run("sound").await;
    let text = report.render_text(true);
    assert!(report.ok(), "{text}");
    assert_eq!(report.summary().warnings, 0, "{text}");
    assert_eq!(
        verdict(&report, "client/tools_call/tool-add-numbers"),
        Verdict::Pass
    );
    assert_eq!(
        verdict(&report, "client/initialize/initialized-notification"),
        Verdict::Pass
    );
    // Neither mock issues a session, so the session checks do not apply.
    assert_eq!(
        verdict(&report, "client/initialize/session-id"),
        Verdict::Skip
    );
    assert!(text.contains("client — "), "{text}");
    assert!(!text.contains("eras:"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_skips_the_initialized_notification_fails() {
    let report = run("no-initialized").await;
    assert_eq!(
        failed(&report),
        [
            "client/initialize/initialized-notification",
            "client/tools_call/initialized-notification"
        ],
        "{}",
        report.render_text(true)
    );
    let detail = &report
        .result("client/initialize/initialized-notification")
        .expect("ran")
        .detail;
    assert!(
        detail.contains("never sent notifications/initialized"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_the_protocol_version_header_fails() {
    let report = run("no-version-header").await;
    assert_eq!(
        failed(&report),
        [
            "client/initialize/protocol-version-header",
            "client/tools_call/protocol-version-header"
        ],
        "{}",
        report.render_text(true)
    );
    let detail = &report
        .result("client/initialize/protocol-version-header")
        .expect("ran")
        .detail;
    assert!(
        detail.contains("carries no MCP-Protocol-Version"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reuses_request_ids_fails() {
    let report = run("reused-id").await;
    assert_eq!(
        failed(&report),
        [
            "client/initialize/request-ids-unique",
            "client/tools_call/request-ids-unique"
        ],
        "{}",
        report.render_text(true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_accepts_only_json_fails() {
    let report = run("json-only").await;
    let failures = failed(&report);
    assert!(
        failures.contains(&"client/initialize/accept"),
        "{}",
        report.render_text(true)
    );
    assert!(
        failures.contains(&"client/tools_call/accept"),
        "{failures:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_cannot_start_fails_its_exit_check() {
    let command = StdioCommand {
        program: "mcpwire-conformance-no-such-client".to_owned(),
        args: Vec::new(),
        env: Vec::new(),
    };
    let options = ClientOptions {
        scenarios: vec!["initialize".to_owned()],
        ..ClientOptions::default()
    };
    let report = run_client(&command, &options).await;
    assert_eq!(verdict(&report, "client/initialize/exit"), Verdict::Fail);
    assert_eq!(
        verdict(&report, "client/initialize/mcp-client-initialization"),
        Verdict::Fail
    );
    assert!(!report.ok());
}
