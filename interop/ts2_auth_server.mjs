// An MCP server protected by OAuth with the official TypeScript SDK v2's own resource-server
// support (`@modelcontextprotocol/server`): the web-standard `requireBearerAuth` gate in front
// of `createMcpHandler` (both protocol eras), and `oauthMetadataResponse` serving the Protected
// Resource Metadata (RFC 9728), which names the authorization server given.
//
// Usage: node interop/ts2_auth_server.mjs <issuer>
//
// Everything else is as in `ts_auth_server.mjs` (SDK v1): the announcement line, the stop on
// the end of standard input or SIGTERM, the JWT verifier, the scope `mcp:tools`, and the tools
// `echo {text}` and `whoami`.

import http from "node:http";
import { Readable } from "node:stream";

import { createRemoteJWKSet, jwtVerify } from "jose";
import {
  McpServer,
  OAuthError,
  OAuthErrorCode,
  createMcpHandler,
  fromJsonSchema,
  getOAuthProtectedResourceMetadataUrl,
  oauthMetadataResponse,
  requireBearerAuth,
} from "@modelcontextprotocol/server";

const SCOPE = "mcp:tools";
const METADATA_TIMEOUT_MS = 10_000;

const [issuer, ...extra] = process.argv.slice(2);
if (!issuer || extra.length !== 0) {
  console.error("usage: node ts2_auth_server.mjs <issuer>");
  process.exit(2);
}

const metadataResponse = await fetch(`${issuer}/.well-known/openid-configuration`, {
  signal: AbortSignal.timeout(METADATA_TIMEOUT_MS),
});
if (!metadataResponse.ok) {
  throw new Error(`the authorization server's metadata answered ${metadataResponse.status}`);
}
const oauthMetadata = await metadataResponse.json();
if (oauthMetadata.issuer !== issuer) {
  throw new Error(`the metadata names the issuer ${oauthMetadata.issuer}, not ${issuer}`);
}
const keys = createRemoteJWKSet(new URL(oauthMetadata.jwks_uri));

const httpServer = http.createServer();
await new Promise((resolve, reject) => {
  httpServer.once("error", reject);
  httpServer.listen(0, "127.0.0.1", resolve);
});
const resourceUrl = new URL(`http://127.0.0.1:${httpServer.address().port}/mcp`);

/** The `OAuthTokenVerifier` of `requireBearerAuth`: JWT access tokens of the issuer, for us. */
const verifier = {
  async verifyAccessToken(token) {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience: resourceUrl.href,
        typ: "at+jwt",
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      throw new OAuthError(OAuthErrorCode.InvalidToken, `the token was refused (${error.code ?? error.name})`);
    }
    return {
      token,
      clientId: payload.client_id ?? payload.azp ?? payload.sub,
      scopes: typeof payload.scope === "string" ? payload.scope.split(" ").filter(Boolean) : [],
      expiresAt: payload.exp,
      resource: resourceUrl,
      extra: { issuer: payload.iss, subject: payload.sub },
    };
  },
};

function text(value) {
  return { content: [{ type: "text", text: value }] };
}

/** A server instance, for one request. */
function createServer() {
  const server = new McpServer({ name: "ts2-auth-interop-server", version: "0.0.0" }, { capabilities: { tools: {} } });
  server.registerTool(
    "echo",
    {
      description: "Echoes `text`.",
      inputSchema: fromJsonSchema({ type: "object", properties: { text: { type: "string" } }, required: ["text"] }),
    },
    async ({ text: value }) => text(value),
  );
  server.registerTool("whoami", { description: "What the server knows of the request's access token." }, async (ctx) => {
    const auth = ctx.http?.authInfo;
    return text(
      JSON.stringify({
        clientId: auth?.clientId,
        scopes: auth?.scopes,
        resource: auth?.resource?.href,
        issuer: auth?.extra?.issuer,
        subject: auth?.extra?.subject,
      }),
    );
  });
  return server;
}

const handler = createMcpHandler(createServer);
const metadataOptions = {
  oauthMetadata,
  resourceServerUrl: resourceUrl,
  scopesSupported: [SCOPE],
  resourceName: "TypeScript SDK v2 interop server",
};
const gate = requireBearerAuth({
  verifier,
  requiredScopes: [SCOPE],
  resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(resourceUrl),
  expectedResource: resourceUrl,
});

/** Answers one web-standard request: the metadata, or the protected endpoint. */
async function serve(request) {
  const metadata = oauthMetadataResponse(request, metadataOptions);
  if (metadata !== undefined) {
    return metadata;
  }
  if (new URL(request.url).pathname !== resourceUrl.pathname) {
    return new Response(null, { status: 404 });
  }
  const authInfo = await gate(request);
  if (authInfo instanceof Response) {
    return authInfo;
  }
  return handler.fetch(request, { authInfo });
}

httpServer.on("request", (req, res) => {
  const abort = new AbortController();
  res.on("close", () => abort.abort());
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const item of [value].flat()) if (item !== undefined) headers.append(name, item);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const request = new Request(new URL(req.url ?? "/", resourceUrl), {
    method: req.method,
    headers,
    body: hasBody ? Readable.toWeb(req) : undefined,
    duplex: "half",
    signal: abort.signal,
  });
  serve(request)
    .then((response) => {
      res.writeHead(response.status, [...response.headers].flat());
      if (response.body === null) {
        res.end();
        return;
      }
      Readable.fromWeb(response.body).on("error", () => res.end()).pipe(res);
    })
    .catch((error) => {
      console.error(error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
});

process.stdout.write(JSON.stringify({ url: resourceUrl.href, pid: process.pid }) + "\n");

const stop = () => {
  httpServer.close();
  httpServer.closeAllConnections();
  process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
