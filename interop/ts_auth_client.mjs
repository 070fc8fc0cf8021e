// Connects to an MCP server protected by OAuth with an official TypeScript SDK's client and its
// own authorization (an `OAuthClientProvider` as the Streamable HTTP transport's
// `authProvider`), and prints one JSON line of what it saw.
//
// Usage: node interop/ts_auth_client.mjs [--sdk v1|v2] <server URL> <client id> <issuer>
//
// `--sdk v1` (the default) is `@modelcontextprotocol/sdk`, which speaks the legacy era;
// `--sdk v2` is `@modelcontextprotocol/client` with `versionNegotiation: {mode: "auto"}`, which
// probes with `server/discover` and speaks the modern era to a server that offers it.
//
// The client is registered beforehand with the authorization server `issuer` (`client id`, a
// public client): the authorization server of the tests has no registration endpoint. The flow
// is headless: `redirectToAuthorization` GETs the authorization URL without following its
// redirect and reads the code from the `Location`, as an authorization server that needs no
// user allows. So the script:
//
// 1. connects, which the server refuses with 401: the SDK discovers the Protected Resource
//    Metadata and the authorization server's metadata and sends the user agent to authorize;
// 2. exchanges the code with `transport.finishAuth` (v1: the code; v2: the redirect's query);
// 3. connects again with the token, lists the tools and calls `echo {text: "authorized"}` and
//    `whoami` (a tool of the test's servers that describes the request's token as JSON text).
//
// The line: `{"exchanges": [{method, url, status, authorization, rpc}…], "authorization":
// {the authorization request's query}, "refused": "<the first connect's error>", "era":
// "legacy"|"modern" (v2 only), "tools": [names], "call": <the echo result>, "whoami": <its
// JSON>}` and exit status 0; or `{"failed": "<why>", "exchanges": […]}` and exit status 1. `url`
// has no query; `authorization` says whether the request carried an `Authorization` header,
// `rpc` is the JSON-RPC method of a POST body.

import { randomUUID } from "node:crypto";

// Nothing listens there: the redirect to it is read, not followed.
const REDIRECT_URL = "http://127.0.0.1:8765/callback";
const REQUEST_TIMEOUT_MS = 20_000;
// The whole run, so that a stuck step ends the script rather than the test's deadline.
const RUN_TIMEOUT_MS = 60_000;

const args = process.argv.slice(2);
let sdk = "v1";
if (args[0] === "--sdk") {
  sdk = args[1];
  args.splice(0, 2);
}
const [serverUrl, clientId, issuer, ...extra] = args;
if (!["v1", "v2"].includes(sdk) || !serverUrl || !clientId || !issuer || extra.length !== 0) {
  console.error("usage: node ts_auth_client.mjs [--sdk v1|v2] <server URL> <client id> <issuer>");
  process.exit(2);
}

const { Client, StreamableHTTPClientTransport, UnauthorizedError } =
  sdk === "v1"
    ? {
        ...(await import("@modelcontextprotocol/sdk/client/index.js")),
        ...(await import("@modelcontextprotocol/sdk/client/auth.js")),
        ...(await import("@modelcontextprotocol/sdk/client/streamableHttp.js")),
      }
    : await import("@modelcontextprotocol/client");

/** Every HTTP exchange of the client, in order. */
const exchanges = [];

/** `fetch`, recording each exchange in `exchanges`. */
async function recordingFetch(input, init = {}) {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = init.method ?? (input instanceof Request ? input.method : "GET");
  const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
  let rpc;
  if (typeof init.body === "string") {
    try {
      rpc = JSON.parse(init.body).method;
    } catch {
      // Not JSON: a form body.
    }
  }
  const exchange = { method, url: url.origin + url.pathname, authorization: headers.has("authorization"), rpc };
  exchanges.push(exchange);
  const response = await fetch(input, init);
  exchange.status = response.status;
  return response;
}

/**
 * A public client, registered beforehand, whose user agent needs no user. It keeps what the SDK
 * gives it (the discovery, as a client that survives the redirect would), and returns it as
 * given, so that the SDK binds the credentials to their authorization server.
 */
class HeadlessProvider {
  #tokens;
  #codeVerifier;
  #state;
  #discoveryState;
  #clientInformation = { client_id: clientId, issuer };
  /** The query of the authorization request, and that of its redirect. */
  authorizationRequest;
  redirectQuery;

  get redirectUrl() {
    return REDIRECT_URL;
  }

  get clientMetadata() {
    return {
      client_name: "mcpwire interop (TypeScript SDK)",
      redirect_uris: [REDIRECT_URL],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }

  state() {
    this.#state = randomUUID();
    return this.#state;
  }

  clientInformation() {
    return this.#clientInformation;
  }

  saveClientInformation(clientInformation) {
    this.#clientInformation = clientInformation;
  }

  tokens() {
    return this.#tokens;
  }

  saveTokens(tokens) {
    this.#tokens = tokens;
  }

  saveCodeVerifier(codeVerifier) {
    this.#codeVerifier = codeVerifier;
  }

  codeVerifier() {
    return this.#codeVerifier;
  }

  saveDiscoveryState(state) {
    this.#discoveryState = state;
  }

  discoveryState() {
    return this.#discoveryState;
  }

  async redirectToAuthorization(authorizationUrl) {
    this.authorizationRequest = Object.fromEntries(authorizationUrl.searchParams);
    const response = await recordingFetch(authorizationUrl, {
      redirect: "manual",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const location = response.headers.get("location");
    if (response.status < 300 || response.status > 399 || location === null) {
      throw new Error(`the authorization endpoint answered ${response.status}, not a redirect`);
    }
    const redirect = new URL(location, authorizationUrl);
    if (redirect.origin + redirect.pathname !== REDIRECT_URL) {
      throw new Error(`redirected to ${redirect.origin}${redirect.pathname}, not the redirect URL`);
    }
    if (redirect.searchParams.get("state") !== this.#state) {
      throw new Error("the redirect's state is not the request's");
    }
    if (!redirect.searchParams.has("code")) {
      throw new Error(`the redirect carries no code: ${redirect.searchParams.get("error")}`);
    }
    this.redirectQuery = redirect.searchParams;
  }
}

function transport(provider) {
  return new StreamableHTTPClientTransport(new URL(serverUrl), {
    authProvider: provider,
    fetch: recordingFetch,
  });
}

function client() {
  const options = sdk === "v2" ? { versionNegotiation: { mode: "auto" } } : {};
  return new Client({ name: "mcpwire-interop-ts-auth-client", version: "0.0.0" }, options);
}

async function run() {
  const provider = new HeadlessProvider();
  const first = transport(provider);
  let refused;
  try {
    await client().connect(first, { timeout: REQUEST_TIMEOUT_MS });
    throw new Error("the server accepted a connection without a token");
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) {
      throw error;
    }
    refused = String(error);
  }
  if (provider.redirectQuery === undefined) {
    throw new Error("the client was refused without being sent to authorize");
  }
  // v2 takes the whole query, to check its `iss` (RFC 9207); v1 takes the code.
  await first.finishAuth(sdk === "v2" ? provider.redirectQuery : provider.redirectQuery.get("code"));
  await first.close();

  const authorized = client();
  await authorized.connect(transport(provider), { timeout: REQUEST_TIMEOUT_MS });
  const { tools } = await authorized.listTools({}, { timeout: REQUEST_TIMEOUT_MS });
  const options = { timeout: REQUEST_TIMEOUT_MS };
  // v1 takes a result schema before the options.
  const callTool = (name, args) =>
    sdk === "v2"
      ? authorized.callTool({ name, arguments: args }, options)
      : authorized.callTool({ name, arguments: args }, undefined, options);
  const call = await callTool("echo", { text: "authorized" });
  const whoami = await callTool("whoami", {});
  const era = sdk === "v2" ? authorized.getProtocolEra() : undefined;
  await authorized.close();
  return {
    exchanges,
    authorization: provider.authorizationRequest,
    refused,
    era,
    tools: tools.map((tool) => tool.name),
    call,
    whoami: JSON.parse(whoami.content[0].text),
  };
}

const deadline = setTimeout(() => {
  process.stdout.write(JSON.stringify({ failed: `not done within ${RUN_TIMEOUT_MS} ms`, exchanges }) + "\n");
  process.exit(1);
}, RUN_TIMEOUT_MS);
try {
  const summary = await run();
  process.stdout.write(JSON.stringify(summary) + "\n");
  process.exitCode = 0;
} catch (error) {
  process.stdout.write(JSON.stringify({ failed: String(error?.stack ?? error), exchanges }) + "\n");
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
}
