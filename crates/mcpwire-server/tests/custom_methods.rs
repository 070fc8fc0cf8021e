//! Methods of the application's own, registered with `ServerBuilder::request` (typed) and
//! `request_raw`, called by the real client in both eras over the in-memory transport and
//! over Streamable HTTP. The raw one asks the client for input, which the legacy era allows
//! and the modern era does not (2026-07-28 has input rounds on three methods only); the typed
//! one refuses params that do not fit with -32602.

#![cfg(feature = "http")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcpwire_client::{Client, EraChoice, ErrorObject, RequestContext};
use mcpwire_jsonrpc::RequestMethod;
use mcpwire_schema::Era;
use mcpwire_server::{Context, HandlerError, HttpConfig, Server, types};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// `acme/quota`: how many calls a named account has left.
struct Quota;

#[derive(serde::Serialize, serde::Deserialize)]
struct Account {
    account: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Remaining {
    account: String,
    remaining: u32,
}

impl RequestMethod for Quota {
    const METHOD: &'static str = "acme/quota";
    type Params = Account;
    type Result = Remaining;
}

async fn quota(params: Account, _: Context) -> Result<Remaining, HandlerError> {
    Ok(Remaining {
        remaining: u32::try_from(params.account.len()).unwrap_or(0) * 10,
        account: params.account,
    })
}

/// `acme/greet`: asks the user's name, then greets them.
async fn greet(params: Value, context: Context) -> Result<Value, HandlerError> {
    let asked: types::ElicitRequestParams = serde_json::from_value(json!({
        "message": "What is your name?",
        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    }))
    .expect("valid params");
    let answer = context.elicit(asked).await?;
    let name = match answer
        .content
        .as_ref()
        .and_then(|content| content.get("name"))
    {
        Some(types::ElicitResultContentValue::String(name)) => name.clone(),
        other => return Err(HandlerError::new(format!("no name: {other:?}"))),
    };
    let punctuation = params["punctuation"].as_str().unwrap_or(".");
    Ok(json!({"greeting": format!("Hello, {name}{punctuation}")}))
}

fn server() -> Server {
    Server::builder("custom", "1.0.0")
        .request::<Quota, _, _>(quota)
        .request_raw("acme/greet", greet)
        .build()
        .expect("the server builds")
}

fn client(era: EraChoice, asked: &Arc<AtomicUsize>) -> mcpwire_client::ClientBuilder {
    let asked = Arc::clone(asked);
    Client::builder("custom-client", "1.0.0")
        .era(era)
        .elicitation(move |_: types::ElicitRequestParams, _: RequestContext| {
            asked.fetch_add(1, Ordering::SeqCst);
            async move {
                let result = serde_json::from_value::<types::ElicitResult>(
                    json!({"action": "accept", "content": {"name": "Ada"}}),
                )
                .expect("a valid result");
                Ok::<_, ErrorObject>(result)
            }
        })
}

async fn check(client: Client, era: Era, asked: &AtomicUsize) {
    assert_eq!(client.era(), era);
    let quota = client
        .request_raw("acme/quota", json!({"account": "acme"}))
        .await
        .unwrap_or_else(|error| panic!("{era:?}: {error}"));
    assert_eq!(quota["account"], "acme", "{era:?}: {quota}");
    assert_eq!(quota["remaining"], 40, "{era:?}: {quota}");

    let refused = client
        .request_raw("acme/quota", json!({"acount": "typo"}))
        .await
        .expect_err("params that do not fit are refused");
    assert!(refused.is_invalid_params(), "{era:?}: {refused}");

    let greeted = client
        .request_raw("acme/greet", json!({"punctuation": "!"}))
        .await;
    match era {
        Era::Legacy => {
            let greeted = greeted.unwrap_or_else(|error| panic!("{era:?}: {error}"));
            assert_eq!(greeted["greeting"], "Hello, Ada!", "{greeted}");
            assert_eq!(asked.load(Ordering::SeqCst), 1, "asked once");
        }
        Era::Modern => {
            let refused = greeted.expect_err("no input rounds on a custom method");
            assert!(refused.is_internal_error(), "{refused}");
            assert!(
                refused.to_string().contains("can be asked only"),
                "{refused}"
            );
            assert_eq!(asked.load(Ordering::SeqCst), 0, "never asked");
        }
    }

    let unknown = client
        .request_raw("acme/unknown", json!({}))
        .await
        .expect_err("an unregistered method");
    assert!(unknown.is_method_not_found(), "{era:?}: {unknown}");
    client.close().await;
}

#[tokio::test]
async fn custom_methods_are_routed_in_both_eras_in_memory() {
    for (choice, era) in [
        (EraChoice::Legacy, Era::Legacy),
        (EraChoice::Modern, Era::Modern),
    ] {
        let (client_end, server_end) = mcpwire_transport::duplex(16);
        let _session = server().serve(server_end);
        let asked = Arc::new(AtomicUsize::new(0));
        let client = client(choice, &asked)
            .connect(client_end)
            .await
            .expect("connects");
        check(client, era, &asked).await;
    }
}

#[tokio::test]
async fn custom_methods_are_routed_in_both_eras_over_http() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("an address");
    let served = server();
    tokio::spawn(async move {
        served
            .serve_http(listener)
            .config(HttpConfig::default())
            .await
    });
    for (choice, era) in [
        (EraChoice::Legacy, Era::Legacy),
        (EraChoice::Modern, Era::Modern),
    ] {
        let transport =
            mcpwire_http::client::HttpClientBuilder::new(format!("http://{address}/mcp"))
                .streamable()
                .expect("an HTTP transport");
        let asked = Arc::new(AtomicUsize::new(0));
        let client = client(choice, &asked)
            .connect(transport)
            .await
            .expect("connects");
        check(client, era, &asked).await;
    }
}

#[test]
fn a_method_the_server_answers_itself_cannot_be_registered() {
    let refused = Server::builder("custom", "1.0.0")
        .request_raw("tools/call", |_, _| async { Ok(json!({})) })
        .build()
        .expect_err("tools/call is the server's");
    assert!(refused.is_invalid_definition(), "{refused}");
    let twice = Server::builder("custom", "1.0.0")
        .request::<Quota, _, _>(quota)
        .request_raw("acme/quota", |_, _| async { Ok(json!({})) })
        .build()
        .expect_err("two handlers for one method");
    assert!(twice.to_string().contains("acme/quota"), "{twice}");
}
