// What the two TypeScript-SDK-protected interop servers (`ts_auth_server.mjs` for SDK v1,
// `ts2_auth_server.mjs` for v2) share, apart from the SDK: the authorization server's metadata
// and keys, a loopback listener, the JWT access-token verifier, the `whoami` answer, and the
// announcement line and stop signals.

import http from "node:http";

import { createRemoteJWKSet, jwtVerify } from "jose";

/** The scope both servers require. */
export const SCOPE = "mcp:tools";

const METADATA_TIMEOUT_MS = 10_000;

/** The issuer named on the command line; exits with a usage line otherwise. */
export function issuerArgument(script) {
  const [issuer, ...extra] = process.argv.slice(2);
  if (!issuer || extra.length !== 0) {
    console.error(`usage: node ${script} <issuer>`);
    process.exit(2);
  }
  return issuer;
}

/** The issuer's metadata (OpenID Connect Discovery), checked, and its JWKS. */
export async function issuerMetadata(issuer) {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`, {
    signal: AbortSignal.timeout(METADATA_TIMEOUT_MS),
  });
  if (!response.ok) {
    throw new Error(`the authorization server's metadata answered ${response.status}`);
  }
  const oauthMetadata = await response.json();
  if (oauthMetadata.issuer !== issuer) {
    throw new Error(`the metadata names the issuer ${oauthMetadata.issuer}, not ${issuer}`);
  }
  return { oauthMetadata, keys: createRemoteJWKSet(new URL(oauthMetadata.jwks_uri)) };
}

/** An HTTP server listening on a random loopback port, and the URL of its `/mcp` endpoint. */
export async function listenOnLoopback() {
  const httpServer = http.createServer();
  await new Promise((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(0, "127.0.0.1", resolve);
  });
  const resourceUrl = new URL(`http://127.0.0.1:${httpServer.address().port}/mcp`);
  return { httpServer, resourceUrl };
}

/**
 * The `OAuthTokenVerifier` of the SDKs' `requireBearerAuth`: JWT access tokens (RFC 9068) of
 * `issuer` for `resourceUrl`, checked with `jose` (signature, `iss`, `aud`, `typ: at+jwt`,
 * `exp`). `invalid(message)` makes the SDK's invalid-token error.
 */
export function jwtVerifier({ issuer, keys, resourceUrl, invalid }) {
  return {
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
        throw invalid(`the token was refused (${error.code ?? error.name})`);
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
}

/** A text tool result. */
export function text(value) {
  return { content: [{ type: "text", text: value }] };
}

/** The `whoami` tool's answer: what the server knows of the request's token. */
export function whoami(auth) {
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

/** Prints the announcement line, and stops on the end of standard input or SIGTERM. */
export function announceAndServe(httpServer, resourceUrl) {
  process.stdout.write(JSON.stringify({ url: resourceUrl.href, pid: process.pid }) + "\n");
  const stop = () => {
    httpServer.close();
    httpServer.closeAllConnections();
    process.exit(0);
  };
  process.stdin.on("end", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
}
