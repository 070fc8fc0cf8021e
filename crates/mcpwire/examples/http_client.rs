//! Calls the adder's `add` tool over Streamable HTTP: `http_client http://127.0.0.1:3000/mcp`.
use mcpwire::prelude::*;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let transport = HttpClientBuilder::new(std::env::args().nth(1).expect("a URL")).streamable()?;
    let client = Client::builder("adder", "1.0").connect(transport).await?;
    let sum = client.call_tool("add", json!({"a": 2, "b": 3})).await?;
    println!("{}", sum.text());
    client.close().await;
    Ok(())
}
