//! The suite against a server that speaks only the HTTP+SSE transport of 2024-11-05 at the
//! URL it is given: it finds the transport from the event stream's `endpoint` event, runs
//! every check that applies over it, and skips those of Streamable HTTP.

mod support;

use mcpwire_conformance::{Area, Options, Target, Verdict, run};
use mcpwire_server::HttpConfig;
use tokio::net::TcpListener;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_of_the_http_sse_transport_is_tested_over_it() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let server = support::sound_server();
    let serving = tokio::spawn(async move {
        let config = HttpConfig::default().legacy_sse_endpoints("/sse", "/messages");
        let _ = server.serve_http(listener).config(config).await;
    });

    let report = run(
        &Target::http(format!("http://{address}/sse")),
        &Options::default(),
    )
    .await;
    serving.abort();

    assert_eq!(report.target, format!("http://{address}/sse (HTTP+SSE)"));
    let endpoint = report
        .profile
        .http_sse_endpoint
        .as_deref()
        .expect("the transport was found");
    assert!(
        endpoint.starts_with(&format!("http://{address}/messages?")),
        "{endpoint}"
    );
    let not_passing: Vec<String> = report
        .results
        .iter()
        .filter(|result| !matches!(result.verdict, Verdict::Pass | Verdict::Skip))
        .map(|result| format!("{} {:?}: {}", result.id, result.verdict, result.detail))
        .collect();
    assert!(not_passing.is_empty(), "{}", not_passing.join("\n"));
    let passed = |area: Area| {
        report
            .results
            .iter()
            .filter(|result| result.area == area && result.verdict == Verdict::Pass)
            .count()
    };
    for area in [
        Area::Lifecycle,
        Area::JsonRpc,
        Area::Tools,
        Area::Resources,
        Area::Prompts,
    ] {
        assert!(
            passed(area) > 0,
            "{area:?} has checks that pass over HTTP+SSE"
        );
    }
    assert_eq!(
        passed(Area::Http),
        0,
        "the checks of Streamable HTTP do not apply"
    );
    assert_eq!(passed(Area::Modern), 0, "nor do those of the modern era");
}
