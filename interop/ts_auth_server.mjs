// An MCP server protected by OAuth with the official TypeScript SDK v1's own resource-server
// support: `requireBearerAuth` in front of a Streamable HTTP endpoint, and
// `mcpAuthMetadataRouter` serving its Protected Resource Metadata (RFC 9728), which names the
// authorization server given.
//
// Usage: node interop/ts_auth_server.mjs <issuer>
//
// It reads the authorization server's metadata (OpenID Connect Discovery at the issuer), listens
// on a random loopback port, and prints one JSON line, `{"url": "http://127.0.0.1:PORT/mcp",
// "pid": …}`; it stops when its standard input closes or on SIGTERM.
//
// Access tokens are JWTs (RFC 9068) verified with `jose` against the issuer's JWKS: signature,
// `iss`, `aud` (this endpoint's URL), `typ: at+jwt` and `exp`. `requireBearerAuth` then asks for
// the scope `mcp:tools` and that the token be issued for this resource. The endpoint is
// stateless (a server instance per request) and offers two tools: `echo {text}`, and `whoami`,
// which answers with what the server knows of the token, as JSON text:
// `{"clientId", "scopes", "resource", "issuer", "subject"}`.


import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import { InvalidTokenError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import {
  getOAuthProtectedResourceMetadataUrl,
  mcpAuthMetadataRouter,
} from "@modelcontextprotocol/sdk/server/auth/router.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

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

const issuer = issuerArgument("ts_auth_server.mjs");
const { oauthMetadata, keys } = await issuerMetadata(issuer);
const { httpServer, resourceUrl } = await listenOnLoopback();
const verifier = jwtVerifier({ issuer, keys, resourceUrl, invalid: (message) => new InvalidTokenError(message) });

/** A server instance for one request. */
function mcpServer() {
  const server = new Server(
    { name: "ts-auth-interop-server", version: "0.0.0" },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [
      {
        name: "echo",
        description: "Echoes `text`.",
        inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
      },
      {
        name: "whoami",
        description: "What the server knows of the request's access token.",
        inputSchema: { type: "object", properties: {} },
      },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, (request, context) => {
    switch (request.params.name) {
      case "echo":
        return text(String(request.params.arguments?.text ?? ""));
      case "whoami":
        return whoami(context.authInfo);
      default:
        return { ...text(`unknown tool ${request.params.name}`), isError: true };
    }
  });
  return server;
}

const app = createMcpExpressApp({ host: "127.0.0.1" });
app.use(
  mcpAuthMetadataRouter({
    oauthMetadata,
    resourceServerUrl: resourceUrl,
    scopesSupported: [SCOPE],
    resourceName: "TypeScript SDK interop server",
  }),
);
const bearer = requireBearerAuth({
  verifier,
  requiredScopes: [SCOPE],
  resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(resourceUrl),
  expectedResource: resourceUrl,
});
app.post(resourceUrl.pathname, bearer, async (req, res) => {
  const server = mcpServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on("close", () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
// Stateless: no stream to open, no session to end.
for (const method of ["get", "delete"]) {
  app[method](resourceUrl.pathname, bearer, (req, res) => {
    res.status(405).set("Allow", "POST").end();
  });
}
httpServer.on("request", app);

announceAndServe(httpServer, resourceUrl);
