//! What the suite's own tests run against: a sound server built with `mcpwire-server`, and
//! a proxy in front of it that breaks one rule (a *flaw*), so that each check is seen to
//! pass on the sound server and to fail on the flawed one.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mcpwire_conformance::{CheckResult, Options, Report, Target, Verdict, run};
use mcpwire_server::{
    ClientCapability, Context, HandlerError, Prompt, Resource, ResourceTemplate, Server,
    Structured, Tool, ToolError, text_contents, types,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ProxyBody = BoxBody<Bytes, BoxError>;

/// The arguments of `echo`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Echo {
    /// The text to send back.
    text: String,
}

/// The arguments of `add`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Add {
    /// The first addend.
    a: f64,
    /// The second addend.
    b: f64,
}

/// The arguments of `slow`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Slow {
    /// How long to work, in milliseconds (1500 when absent, at most 10000).
    ms: Option<u64>,
}

/// The result of `add`.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct Sum {
    /// The sum.
    sum: f64,
}

fn read_only() -> types::ToolAnnotations {
    types::ToolAnnotations {
        read_only_hint: Some(true),
        destructive_hint: Some(false),
        idempotent_hint: Some(true),
        open_world_hint: Some(false),
        title: None,
    }
}

/// The input schema of `locate`: a region mirrored into the `Mcp-Param-Region` header.
fn region_schema() -> serde_json::Map<String, Value> {
    let schema = json!({
        "type": "object",
        "properties": {"region": {"type": "string", "x-mcp-header": "Region"}},
        "required": ["region"],
    });
    match schema {
        Value::Object(object) => object,
        _ => unreachable!("the schema is an object"),
    }
}

/// A server that follows the spec: read-only tools (one with an output schema, one with
/// icons, one that always fails, one with an `x-mcp-header` argument, one that reports
/// progress and logs, one that works until cancelled, one that needs the client's roots),
/// resources, a template with completion, a prompt with arguments and completion, logging.
/// A page size of 2, so that every list has pages.
pub fn sound_server() -> Server {
    Server::builder("sound", "1.0.0")
        .instructions("A server for the conformance suite's own tests.")
        .tools()
        .resources()
        .prompts()
        .page_size(2)
        .tool(
            Tool::typed("echo", |arguments: Echo| async move {
                Ok::<_, ToolError>(arguments.text)
            })
            .description("Sends the text back.")
            .icons(vec![
                types::Icon::new("https://example.com/echo.png"),
                types::Icon::new("data:image/png;base64,iVBORw0KGgo="),
            ])
            .annotations(read_only()),
        )
        .tool(
            Tool::typed("add", |arguments: Add| async move {
                Ok::<_, ToolError>(Structured(Sum {
                    sum: arguments.a + arguments.b,
                }))
            })
            .description("Adds two numbers.")
            .output::<Sum>()
            .annotations(read_only()),
        )
        .tool(
            Tool::typed("fail", |_: serde_json::Map<String, Value>| async move {
                Err::<String, _>(ToolError::new("this tool always fails"))
            })
            .description("Always reports a tool error.")
            .annotations(read_only()),
        )
        .tool(
            Tool::typed(
                "progress",
                |_: serde_json::Map<String, Value>, context: Context| async move {
                    for step in 1..=3_u32 {
                        let message = format!("step {step} of 3");
                        context
                            .progress(f64::from(step), Some(3.0), Some(&message))
                            .await?;
                        context
                            .log(types::LoggingLevel::Info, Some("progress"), &message)
                            .await?;
                    }
                    Ok::<_, ToolError>("done in 3 steps".to_owned())
                },
            )
            .description("Reports progress in three steps, logging each.")
            .annotations(read_only()),
        )
        .tool(
            Tool::typed("slow", |arguments: Slow, context: Context| async move {
                let wait =
                    std::time::Duration::from_millis(arguments.ms.unwrap_or(1500).min(10_000));
                context.progress(0.0, None, Some("started")).await?;
                tokio::select! {
                    () = tokio::time::sleep(wait) => Ok::<_, ToolError>("finished".to_owned()),
                    () = context.cancellation().cancelled() => Err(ToolError::new("cancelled")),
                }
            })
            .description("Works for a while (1.5 s unless told), or until cancelled.")
            .annotations(read_only()),
        )
        .tool(
            Tool::typed(
                "roots",
                |_: serde_json::Map<String, Value>, context: Context| async move {
                    let roots = context.list_roots().await?;
                    Ok::<_, ToolError>(format!("{} roots", roots.roots.len()))
                },
            )
            .description("Counts the client's roots.")
            .requires(ClientCapability::Roots)
            .annotations(read_only()),
        )
        .tool(
            Tool::raw(
                "locate",
                region_schema(),
                |arguments: serde_json::Map<String, Value>| async move {
                    let region = arguments.get("region").and_then(Value::as_str);
                    Ok::<_, ToolError>(format!("located in {}", region.unwrap_or_default()))
                },
            )
            .description("Names the region it is given, which is mirrored in a header.")
            .annotations(read_only()),
        )
        .resource(
            Resource::new(
                "test://static/readme",
                "readme",
                |uri: String, _: Context| async move {
                    Ok::<_, HandlerError>(vec![text_contents(uri, Some("text/plain"), "Hello.")])
                },
            )
            .mime_type("text/plain"),
        )
        .resource(
            Resource::new(
                "test://static/other",
                "other",
                |uri: String, _: Context| async move {
                    Ok::<_, HandlerError>(vec![text_contents(uri, Some("text/plain"), "Other.")])
                },
            )
            .mime_type("text/plain"),
        )
        .resource(
            Resource::new(
                "test://static/third",
                "third",
                |uri: String, _: Context| async move {
                    Ok::<_, HandlerError>(vec![text_contents(uri, Some("text/plain"), "Third.")])
                },
            )
            .mime_type("text/plain"),
        )
        .resource_template(
            ResourceTemplate::new(
                "test://items/{id}",
                "item",
                |uri: String, variables: BTreeMap<String, String>, _: Context| async move {
                    let text = format!("item {}", variables.get("id").map_or("", String::as_str));
                    Ok::<_, HandlerError>(vec![text_contents(uri, Some("text/plain"), text)])
                },
            )
            .map(|template| {
                template.mime_type("text/plain").complete(
                    "id",
                    |value: String, _: BTreeMap<String, String>| async move {
                        ["1", "12", "123"]
                            .into_iter()
                            .filter(|id| id.starts_with(value.as_str()))
                            .map(str::to_owned)
                            .collect::<Vec<_>>()
                    },
                )
            }),
        )
        .prompt(
            Prompt::new("greet", |arguments, _: Context| async move {
                let text = format!("Say hello to {}.", arguments["name"]);
                Ok::<_, HandlerError>(vec![types::PromptMessage {
                    content: types::ContentBlock::TextContent(types::TextContent {
                        meta: None,
                        annotations: None,
                        text,
                        r#type: types::tags::Text,
                    }),
                    role: types::Role::User,
                }])
            })
            .description("Greets someone.")
            .argument("name", "Who to greet", true)
            .complete(
                "name",
                |value: String, _: BTreeMap<String, String>| async move {
                    ["Ada", "Alan", "Grace"]
                        .into_iter()
                        .filter(|name| name.starts_with(value.as_str()))
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                },
            ),
        )
        .build()
        .expect("the sound server is valid")
}

/// A server listening on loopback, stopped when dropped.
pub struct Served {
    /// Its endpoint.
    pub url: String,
    /// Its address.
    pub address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the sound server over Streamable HTTP.
pub async fn serve_sound() -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let server = sound_server();
    let task = tokio::spawn(async move {
        let _ = server.serve_http(listener).await;
    });
    Served {
        url: format!("http://{address}/mcp"),
        address,
        task,
    }
}

/// A request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// GET, POST, DELETE…
    pub method: Method,
    /// The path and query asked for.
    pub path: String,
    /// The header fields.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The body as JSON, when it is.
    pub json: Option<Value>,
}

impl Seen {
    /// The JSON-RPC method of the body.
    pub fn rpc_method(&self) -> Option<&str> {
        self.json.as_ref()?.get("method")?.as_str()
    }

    /// Whether the body is a modern request (its `_meta` names a protocol version).
    pub fn is_modern(&self) -> bool {
        self.json
            .as_ref()
            .and_then(|json| json.get("params"))
            .and_then(|params| params.get("_meta"))
            .and_then(|meta| meta.get("io.modelcontextprotocol/protocolVersion"))
            .is_some()
    }

    /// Whether this is a legacy request of `method`.
    pub fn is_legacy(&self, method: &str) -> bool {
        self.rpc_method() == Some(method) && !self.is_modern()
    }
}

/// An answer the proxy gives (or alters).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The header fields.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, body: &Value) -> Answer {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().expect("valid"));
        Answer {
            status: StatusCode::from_u16(status).expect("a status"),
            headers,
            body: body.to_string().into_bytes(),
        }
    }

    /// An answer with no body.
    pub fn empty(status: u16) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).expect("a status"),
            headers: HeaderMap::new(),
            body: Vec::new(),
        }
    }

    /// Rewrites each JSON-RPC message of the body (a JSON body, or each SSE event's data).
    pub fn messages(&mut self, mut rewrite: impl FnMut(&mut Value)) {
        let sse = self
            .headers
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        if sse {
            let text = String::from_utf8_lossy(&self.body).into_owned();
            let mut out = String::new();
            for line in text.split_inclusive('\n') {
                if let Some(data) = line.strip_prefix("data:")
                    && let Ok(mut value) = serde_json::from_str::<Value>(data.trim())
                {
                    rewrite(&mut value);
                    out.push_str(&format!("data: {value}\n"));
                } else {
                    out.push_str(line);
                }
            }
            self.body = out.into_bytes();
        } else if let Ok(mut value) = serde_json::from_slice::<Value>(&self.body) {
            rewrite(&mut value);
            self.body = value.to_string().into_bytes();
        }
        self.headers.remove("content-length");
    }
}

/// One broken rule.
pub trait Flaw: Send + Sync + 'static {
    /// Answers `seen` in place of the server, when the flaw does.
    fn intercept(&self, _seen: &Seen) -> Option<Answer> {
        None
    }

    /// Alters the server's answer to `seen` (not called for GET streams).
    fn alter(&self, _seen: &Seen, _answer: &mut Answer) {}

    /// Alters the request before the server sees it.
    fn request(&self, _seen: &mut Seen) {}
}

/// A flaw that answers some requests itself.
pub struct Intercept<F>(pub F);

impl<F> Flaw for Intercept<F>
where
    F: Fn(&Seen) -> Option<Answer> + Send + Sync + 'static,
{
    fn intercept(&self, seen: &Seen) -> Option<Answer> {
        (self.0)(seen)
    }
}

/// A flaw that alters answers.
pub struct Alter<F>(pub F);

impl<F> Flaw for Alter<F>
where
    F: Fn(&Seen, &mut Answer) + Send + Sync + 'static,
{
    fn alter(&self, seen: &Seen, answer: &mut Answer) {
        (self.0)(seen, answer);
    }
}

/// A flaw that rewrites each JSON-RPC message of the answers to requests `when` accepts.
pub fn rewrite(
    when: impl Fn(&Seen) -> bool + Send + Sync + 'static,
    change: impl Fn(&mut Value) + Send + Sync + 'static,
) -> Arc<dyn Flaw> {
    Arc::new(Alter(move |seen: &Seen, answer: &mut Answer| {
        if when(seen) {
            answer.messages(&change);
        }
    }))
}

/// A flaw that alters the requests `when` accepts before the server sees them.
pub struct AlterRequest<F>(pub F);

impl<F> Flaw for AlterRequest<F>
where
    F: Fn(&mut Seen) + Send + Sync + 'static,
{
    fn request(&self, seen: &mut Seen) {
        (self.0)(seen);
    }
}

/// The sound server behind a proxy with `flaw`.
pub struct Flawed {
    /// The proxy's endpoint.
    pub url: String,
    _server: Served,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Flawed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the sound server and a proxy with `flaw` in front of it.
pub async fn flawed(flaw: Arc<dyn Flaw>) -> Flawed {
    let server = serve_sound().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    proxy_to(listener, server, flaw)
}

/// The access token the protected sound server accepts.
pub const SOUND_TOKEN: &str = "mcpwire-conformance-sound-token";

/// Starts the sound server protected as an OAuth resource server (accepting
/// [`SOUND_TOKEN`] alone, with the scope `mcp` required) behind a proxy with `flaw`; the
/// server's resource identifier is the proxy's endpoint, as a deployment behind a gateway
/// names its public URL.
pub async fn flawed_protected(flaw: Arc<dyn Flaw>) -> Flawed {
    use mcpwire_auth::server::{
        BearerAuthLayer, Principal, ProtectedResource, Rejection, Secret, verify_fn,
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let public = format!("http://{}/mcp", listener.local_addr().expect("address"));
    let resource =
        ProtectedResource::new(&public, ["https://auth.example.test"]).required_scopes(["mcp"]);
    let verifier = verify_fn(|token: Secret| async move {
        if token.expose() == SOUND_TOKEN {
            let mut principal = Principal::default();
            principal.subject = Some("tester".into());
            principal.scopes = vec!["mcp".into()];
            Ok(principal)
        } else {
            Err(Rejection::invalid_token("the token is not known"))
        }
    });
    let layer = BearerAuthLayer::new(resource, verifier).expect("a valid protection");
    let server_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = server_listener.local_addr().expect("address");
    let server = sound_server();
    let task = tokio::spawn(async move {
        let _ = server.serve_http(server_listener).layer(layer).await;
    });
    let served = Served {
        url: format!("http://{address}/mcp"),
        address,
        task,
    };
    proxy_to(listener, served, flaw)
}

/// A proxy on `listener` with `flaw` in front of `server`.
fn proxy_to(listener: TcpListener, server: Served, flaw: Arc<dyn Flaw>) -> Flawed {
    let address = listener.local_addr().expect("address");
    let upstream = server.address;
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let flaw = Arc::clone(&flaw);
            let client = client.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    proxy(
                        request,
                        upstream,
                        address,
                        Arc::clone(&flaw),
                        client.clone(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Flawed {
        url: format!("http://{address}/mcp"),
        _server: server,
        task,
    }
}

fn full(body: impl Into<Bytes>) -> ProxyBody {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed()
}

async fn proxy(
    request: Request<Incoming>,
    upstream: SocketAddr,
    own: SocketAddr,
    flaw: Arc<dyn Flaw>,
    client: Client<HttpConnector, Full<Bytes>>,
) -> Result<Response<ProxyBody>, BoxError> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let mut seen = Seen {
        method: parts.method.clone(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |path| path.as_str().to_owned()),
        headers: parts.headers.clone(),
        json: serde_json::from_slice(&body).ok(),
        body,
    };
    flaw.request(&mut seen);
    if let Some(answer) = flaw.intercept(&seen) {
        return Ok(respond(answer));
    }
    let mut forward = Request::builder()
        .method(seen.method.clone())
        .uri(format!("http://{upstream}{}", seen.path));
    for (name, value) in &seen.headers {
        if name == "host" {
            // The server's Host check sees the proxy's own address as it was asked for.
            let asked = value.to_str().unwrap_or_default();
            let host = if asked == own.to_string() {
                upstream.to_string()
            } else {
                asked.to_owned()
            };
            forward = forward.header("host", host);
        } else if name == "origin" {
            let origin = value
                .to_str()
                .unwrap_or_default()
                .replace(&own.to_string(), &upstream.to_string());
            forward = forward.header("origin", origin);
        } else {
            forward = forward.header(name, value);
        }
    }
    let response = client
        .request(forward.body(Full::new(seen.body.clone()))?)
        .await?;
    let (parts, body) = response.into_parts();
    if seen.method == Method::GET {
        return Ok(Response::from_parts(
            parts,
            body.map_err(Into::into).boxed(),
        ));
    }
    let body = body.collect().await?.to_bytes();
    let mut answer = Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.to_vec(),
    };
    flaw.alter(&seen, &mut answer);
    Ok(respond(answer))
}

fn respond(answer: Answer) -> Response<ProxyBody> {
    let mut response = Response::new(full(answer.body));
    *response.status_mut() = answer.status;
    for (name, value) in &answer.headers {
        if name != "content-length" && name != "transfer-encoding" {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

/// Runs the checks matching `only` against `url`.
pub async fn run_at(url: &str, only: &str) -> Report {
    let options = Options {
        only: vec![only.to_owned()],
        step_limit: std::time::Duration::from_secs(5),
        ..Options::default()
    };
    run(&Target::http(url), &options).await
}

/// One check and the flaw it must catch.
pub struct Case {
    /// The result id (with `@legacy` or `@modern` for checks that run in each era).
    pub check: &'static str,
    /// The flaw.
    pub flaw: fn() -> Arc<dyn Flaw>,
}

/// Asserts, for each case, that its check passes on the sound server and does not pass on
/// the flawed one.
pub async fn assert_cases(cases: &[Case]) {
    let sound = serve_sound().await;
    let mut problems = Vec::new();
    for case in cases {
        let report = run_at(&sound.url, case.check).await;
        match report.result(case.check) {
            Some(result) if matches!(result.verdict, Verdict::Pass | Verdict::Skip) => {}
            Some(result) => problems.push(format!(
                "{}: on the sound server {:?}: {}",
                case.check, result.verdict, result.detail
            )),
            None => problems.push(format!("{}: no such check ran", case.check)),
        }
        let flawed = flawed((case.flaw)()).await;
        let report = run_at(&flawed.url, case.check).await;
        match report.result(case.check) {
            Some(CheckResult {
                verdict: Verdict::Fail | Verdict::Warning,
                ..
            }) => {}
            Some(result) => problems.push(format!(
                "{}: on its flawed peer {:?}: {}",
                case.check, result.verdict, result.detail
            )),
            None => problems.push(format!(
                "{}: no such check ran on the flawed peer",
                case.check
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Asserts, for each case, that its check passes on the protected sound server and does not
/// pass on the flawed one, the runs carrying [`SOUND_TOKEN`].
pub async fn assert_protected_cases(cases: &[Case]) {
    let mut problems = Vec::new();
    for case in cases {
        let options = Options {
            only: vec![case.check.to_owned()],
            step_limit: std::time::Duration::from_secs(5),
            ..Options::default()
        };
        for (flaw, sound) in [
            (Arc::new(NoFlaw) as Arc<dyn Flaw>, true),
            ((case.flaw)(), false),
        ] {
            let peer = flawed_protected(flaw).await;
            let report = run(&Target::http(&peer.url).with_bearer(SOUND_TOKEN), &options).await;
            let verdict = report
                .result(case.check)
                .map(|result| (result.verdict, result.detail.clone()));
            let good = match &verdict {
                Some((Verdict::Pass, _)) => sound,
                Some((Verdict::Fail | Verdict::Warning, _)) => !sound,
                _ => false,
            };
            if !good {
                let peer = if sound {
                    "the sound server"
                } else {
                    "its flawed peer"
                };
                problems.push(format!("{}: on {peer}: {verdict:?}", case.check));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The flaw of a sound peer: none.
struct NoFlaw;

impl Flaw for NoFlaw {}

/// `json!` re-exported for the case files.
pub fn value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| json!(text))
}
