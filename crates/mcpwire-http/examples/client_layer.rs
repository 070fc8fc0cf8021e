//! An MCP client whose HTTP requests pass through a `tower` layer that adds a header, here an
//! API key from the environment: `MCP_API_KEY=secret client_layer http://127.0.0.1:3000/mcp`.
//!
//! Any layer fits the same way: authorization, retries, tracing, metrics.

use http::{HeaderValue, Request};
use mcpwire_client::Client;
use mcpwire_http::client::{HttpClientBuilder, RequestBody};
use tower::util::MapRequestLayer;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let url = std::env::args().nth(1).expect("usage: client_layer URL");
    let key = HeaderValue::from_str(&std::env::var("MCP_API_KEY").unwrap_or_default())?;
    let with_key = MapRequestLayer::new(move |mut request: Request<RequestBody>| {
        request.headers_mut().insert("x-api-key", key.clone());
        request
    });
    let transport = HttpClientBuilder::new(url).layer(with_key).streamable()?;
    let client = Client::builder("client-layer-example", "1.0.0")
        .connect(transport)
        .await?;
    for tool in client.list_tools().await? {
        println!("{}", tool.name);
    }
    client.close().await;
    Ok(())
}
