//! A machine-to-machine MCP client: it proves who it is with its private key (a signed JWT
//! client assertion) and calls a protected MCP server's tools, with no browser and no user:
//! `machine_to_machine URL CLIENT_ID KEY.pem [ES256|RS256]`. Plain http is allowed to
//! loopback hosts only, so that it runs against servers on this machine.
use mcpwire_auth::client::{AuthLayer, FetchPolicy, OAuthConfig};
use mcpwire_client::Client;
use mcpwire_ext_client_credentials::{ClientCredentials, PrivateKey};
use mcpwire_http::client::HttpClientBuilder;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [url, client_id, key_file, algorithm @ ..] = arguments.as_slice() else {
        anyhow::bail!("usage: machine_to_machine URL CLIENT_ID KEY.pem [ES256|RS256]");
    };
    let algorithm = algorithm.first().map_or("ES256", String::as_str).parse()?;
    let key = PrivateKey::from_pem(std::fs::read(key_file)?, algorithm)?;
    let credentials = ClientCredentials::private_key_jwt(client_id, key);
    let loopback = FetchPolicy::default().allow_loopback_http(true);
    let config = OAuthConfig::headless(client_id, credentials).fetch_policy(loopback);
    let transport = HttpClientBuilder::new(url)
        .layer(AuthLayer::new(config))
        .streamable()?;
    let client = Client::builder(client_id, "1.0.0")
        .connect(transport)
        .await?;
    for tool in client.list_tools().await? {
        let result = client
            .call_tool(tool.name.as_str(), serde_json::json!({}))
            .await?;
        println!("{}: {}", tool.name, result.text());
    }
    client.close().await;
    Ok(())
}
