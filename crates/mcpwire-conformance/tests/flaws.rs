//! Each check of the suite passes on a sound server and fails on a peer that breaks the
//! rule it checks: a check that cannot fail is a defect. The flaws are listed by area, one
//! module each; `every_check_has_a_flawed_peer` keeps the list complete.

mod support;

#[path = "flaws/authorization.rs"]
mod authorization;
#[path = "flaws/features.rs"]
mod features;
#[path = "flaws/http.rs"]
mod http;
#[path = "flaws/jsonrpc.rs"]
mod jsonrpc;
#[path = "flaws/lifecycle.rs"]
mod lifecycle;
#[path = "flaws/modern.rs"]
mod modern;
#[path = "flaws/stdio.rs"]
mod stdio;
#[path = "flaws/utilities.rs"]
mod utilities;

use std::collections::BTreeSet;

use mcpwire_conformance::{Options, Target, Verdict, run};
use support::{Case, assert_cases, assert_protected_cases};

/// Every case of every area.
fn all_cases() -> Vec<&'static [Case]> {
    vec![
        lifecycle::CASES,
        jsonrpc::CASES,
        http::CASES,
        utilities::CASES,
        features::CASES,
        modern::CASES,
        authorization::CASES,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_checks_fail_on_flawed_peers() {
    assert_cases(lifecycle::CASES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_rpc_checks_fail_on_flawed_peers() {
    assert_cases(jsonrpc::CASES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_checks_fail_on_flawed_peers() {
    assert_cases(http::CASES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utility_checks_fail_on_flawed_peers() {
    assert_cases(utilities::CASES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_checks_fail_on_flawed_peers() {
    assert_cases(features::CASES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modern_checks_fail_on_flawed_peers() {
    assert_cases(modern::CASES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_checks_fail_on_flawed_peers() {
    assert_protected_cases(authorization::CASES).await;
}

/// The Python server of the stdio flaws, playing `flaw`.
fn stdio_server(flaw: &str) -> Target {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/flaws/stdio_server.py");
    Target::stdio(["python3", script, flaw]).expect("a command")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_checks_fail_on_flawed_peers() {
    let options = Options {
        only: vec!["stdio/".to_owned()],
        step_limit: std::time::Duration::from_secs(2),
        ..Options::default()
    };
    let sound = run(&stdio_server("sound"), &options).await;
    let mut problems = Vec::new();
    for result in &sound.results {
        if result.verdict != Verdict::Pass {
            problems.push(format!(
                "{} on the sound server: {:?}: {}",
                result.id, result.verdict, result.detail
            ));
        }
    }
    for (check, flaw) in stdio::CASES {
        let options = Options {
            only: vec![(*check).to_owned()],
            ..options.clone()
        };
        let report = run(&stdio_server(flaw), &options).await;
        match report.result(check) {
            Some(result) if matches!(result.verdict, Verdict::Fail | Verdict::Warning) => {}
            other => problems.push(format!("{check} with flaw {flaw}: {other:?}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_check_has_a_flawed_peer() {
    let covered: BTreeSet<&str> = all_cases()
        .into_iter()
        .flatten()
        .map(|case| case.check.split('@').next().unwrap_or(case.check))
        .chain(stdio::CASES.iter().map(|(check, _)| *check))
        .collect();
    let missing: Vec<&str> = mcpwire_conformance::catalogue()
        .iter()
        .filter(|check| check.area != mcpwire_conformance::Area::Fixtures)
        .map(|check| check.id)
        .filter(|id| !covered.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "checks with no flawed peer to show they can fail: {missing:?}"
    );
}
