//! Each check of the suite passes on a sound server and fails on a peer that breaks the
//! rule it checks: a check that cannot fail is a defect. The flaws are listed by area, one
//! module each; `every_check_has_a_flawed_peer` keeps the list complete.

mod support;

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
#[path = "flaws/utilities.rs"]
mod utilities;

use std::collections::BTreeSet;

use support::{Case, assert_cases};

/// Every case of every area.
fn all_cases() -> Vec<&'static [Case]> {
    vec![
        lifecycle::CASES,
        jsonrpc::CASES,
        http::CASES,
        utilities::CASES,
        features::CASES,
        modern::CASES,
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

#[test]
fn every_check_has_a_flawed_peer() {
    let covered: BTreeSet<&str> = all_cases()
        .into_iter()
        .flatten()
        .map(|case| case.check.split('@').next().unwrap_or(case.check))
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
