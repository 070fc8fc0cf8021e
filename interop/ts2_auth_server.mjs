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

import { Readable } from "node:stream";

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

import {
  SCOPE,
  announceAndServe,
  issuerArgument,
  issuerMetadata,
  jwtVerifier,
  listenOnLoopback,
  text,
  whoami,
} from "./auth_server_support.mjs";

const issuer = issuerArgument("ts2_auth_server.mjs");
const { oauthMetadata, keys } = await issuerMetadata(issuer);
const { httpServer, resourceUrl } = await listenOnLoopback();
const verifier = jwtVerifier({ issuer, keys, resourceUrl, invalid: (message) => new OAuthError(OAuthErrorCode.InvalidToken, message) });

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
  server.registerTool("whoami", { description: "What the server knows of the request's access token." }, async (ctx) =>
    whoami(ctx.http?.authInfo),
  );
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

announceAndServe(httpServer, resourceUrl);
