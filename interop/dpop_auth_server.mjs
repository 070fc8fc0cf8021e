// A real OAuth 2.0 authorization server that issues DPoP-bound access tokens: `oidc-provider`
// with the client credentials grant, resource indicators (JWT access tokens for the resource
// asked for, with the scope `mcp:tools`) and DPoP, nonces required. One confidential client is
// registered. It listens on a loopback port and announces
// `{"pid", "issuer", "tokenEndpoint", "clientId", "clientSecret"}` on one line; it stops when
// its standard input closes or on a signal.

import http from "node:http";
import { randomBytes } from "node:crypto";

import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";

// oidc-provider's development warnings go to stderr: stdout carries the announcement only.
for (const level of ["log", "info", "warn"]) {
  console[level] = (...parts) => process.stderr.write(`${parts.join(" ")}\n`);
}

const SCOPE = "mcp:tools";
const CLIENT_ID = "dpop-agent";
const CLIENT_SECRET = randomBytes(24).toString("base64url");

async function signingKey(alg) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), alg, use: "sig", kid: `${alg.toLowerCase()}-key` };
}

const httpServer = http.createServer();
await new Promise((resolve, reject) => {
  httpServer.once("error", reject);
  httpServer.listen(0, "127.0.0.1", resolve);
});
const issuer = `http://127.0.0.1:${httpServer.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: "client_secret_basic",
      scope: SCOPE,
    },
  ],
  cookies: { keys: [randomBytes(32).toString("base64url")] },
  jwks: { keys: [await signingKey("RS256"), await signingKey("ES256")] },
  scopes: [SCOPE],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => ({
        scope: SCOPE,
        audience: resource,
        accessTokenFormat: "jwt",
        accessTokenTTL: 300,
        jwt: { sign: { alg: "ES256" } },
      }),
    },
  },
});
httpServer.on("request", provider.callback());

const stop = () => {
  httpServer.closeAllConnections?.();
  httpServer.close(() => process.exit(0));
};
process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

process.stdout.write(
  `${JSON.stringify({
    pid: process.pid,
    issuer,
    tokenEndpoint: `${issuer}/token`,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
  })}\n`,
);
