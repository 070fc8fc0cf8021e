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

import http from "node:http";

import { createRemoteJWKSet, jwtVerify } from "jose";
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

const SCOPE = "mcp:tools";
const METADATA_TIMEOUT_MS = 10_000;

const [issuer, ...extra] = process.argv.slice(2);
if (!issuer || extra.length !== 0) {
  console.error("usage: node ts_auth_server.mjs <issuer>");
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
      throw new InvalidTokenError(`the token was refused (${error.code ?? error.name})`);
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
      case "whoami": {
        const auth = context.authInfo;
        return text(
          JSON.stringify({
            clientId: auth?.clientId,
            scopes: auth?.scopes,
            resource: auth?.resource?.href,
            issuer: auth?.extra?.issuer,
            subject: auth?.extra?.subject,
          }),
        );
      }
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

process.stdout.write(JSON.stringify({ url: resourceUrl.href, pid: process.pid }) + "\n");

const stop = () => {
  httpServer.close();
  httpServer.closeAllConnections();
  process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
