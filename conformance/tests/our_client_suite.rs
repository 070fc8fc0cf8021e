//! mcpwire's own client conformance suite, in client mode, run against the fixture client
//! `conformance-client`: every check of every client scenario (the core ones and those of
//! authorization) passes, the official suite's and the stricter ones alike.

use std::time::Duration;

use mcpwire_conformance::{ClientOptions, StdioCommand, Verdict, client_scenarios, run_client};

/// The fixture client, as the suite starts it.
fn fixture_client() -> StdioCommand {
    StdioCommand {
        program: env!("CARGO_BIN_EXE_conformance-client").to_owned(),
        args: Vec::new(),
        env: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixture_client_passes_every_client_check() {
    let options = ClientOptions {
        time_limit: Duration::from_secs(30),
        ..ClientOptions::default()
    };
    let report = run_client(&fixture_client(), &options).await;
    let text = report.render_text(true);
    for scenario in client_scenarios() {
        let prefix = format!("client/{scenario}/");
        let checks: Vec<_> = report
            .results
            .iter()
            .filter(|result| result.id.starts_with(&prefix))
            .collect();
        assert!(checks.len() >= 10, "{scenario} made too few checks\n{text}");
        assert!(
            checks.iter().any(|result| result.official),
            "{scenario} made none of the official suite's checks\n{text}"
        );
    }
    let not_passed: Vec<_> = report
        .results
        .iter()
        .filter(|result| !matches!(result.verdict, Verdict::Pass | Verdict::Skip))
        .map(|result| {
            format!(
                "{} {}: {}",
                result.verdict.label(),
                result.id,
                result.detail
            )
        })
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}\n{text}");
    // Skips are only of checks that do not apply: no session, no GET stream, or, where the
    // client rightly refuses to authorize (`auth/resource-mismatch`), no request with a token.
    for result in report
        .results
        .iter()
        .filter(|result| result.verdict == Verdict::Skip)
    {
        assert!(
            result.id.ends_with("/session-id")
                || result.id.ends_with("/session-end")
                || result.id.ends_with("/get-accept")
                || result.id.starts_with("client/auth/resource-mismatch/"),
            "{} was skipped: {}\n{text}",
            result.id,
            result.detail
        );
    }
    for id in [
        "client/initialize/mcp-client-initialization",
        "client/tools_call/tool-add-numbers",
        "client/elicitation-sep1034-client-defaults/client-elicitation-sep1034-integer-default",
        "client/sse-retry/client-sse-retry-timing",
        "client/sse-retry/client-sse-last-event-id",
        "client/sse-retry/session-end",
        "client/elicitation-sep1034-client-defaults/session-id",
    ] {
        let result = report
            .result(id)
            .unwrap_or_else(|| panic!("{id} ran\n{text}"));
        assert_eq!(result.verdict, Verdict::Pass, "{id}\n{text}");
    }
    assert!(report.ok(), "{text}");
}
