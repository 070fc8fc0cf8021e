// A real OAuth 2 authorization server for mcpwire-auth's resource-server tests:
// `oauth2-mock-server` on a random loopback port, signing JWTs with an RS256 key of its own
// JWKS. It prints one JSON line, {"issuer": …, "pid": …}, then serves until its standard
// input closes or it is terminated.
//
// The token endpoint takes extra form parameters, so that a test can ask for the token it
// needs; they apply to the access token only (an ID token is left as the server makes it):
//
// - `resource` (RFC 8707): becomes the access token's `aud`;
// - `mcpwire_typ`: the JWS `typ` (default `at+jwt`, as RFC 9068 asks);
// - `mcpwire_header`: a JSON object merged into the JWS header (for example a `kid`);
// - `mcpwire_claims`: a JSON object merged into the claims, `null` removing a claim.
//
// The authorization endpoint grants the `scope` it is asked for without a user: it redirects at
// once with a code. The tokens of that code, and of the refresh tokens issued with them, carry
// that scope (in the token and in the response's `scope`); the mock alone would grant `dummy`
// to a token request without a `scope`, as those of the authorization code flow are.
//
// oauth2-mock-server does the `client_credentials` grant but never authenticates the client.
// With `MCPWIRE_CLIENT_ID` and `MCPWIRE_CLIENT_PUBLIC_KEY` (a PEM public key) set, this
// server authenticates it by `private_key_jwt` (RFC 7523 §2.2): it advertises that method
// alone, with ES256 and RS256, and refuses with `invalid_client` a `client_credentials`
// request whose client assertion is not signed by that key, or lacks `iss` and `sub` equal
// to the client id, `aud` equal to the issuer, an `exp` within five minutes, or a `jti` not
// seen before.
import { createPublicKey, verify } from "node:crypto";
import { OAuth2Server, Events } from "oauth2-mock-server";

const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");

// The scope granted with each unused authorization code, and with each refresh token.
const grantedScopes = new Map();

server.service.on(Events.BeforeAuthorizeRedirect, ({ url }, req) => {
  const code = url.searchParams.get("code");
  if (code !== null && typeof req.query.scope === "string") {
    grantedScopes.set(code, req.query.scope);
  }
});

const clientId = process.env.MCPWIRE_CLIENT_ID;
const clientKey = process.env.MCPWIRE_CLIENT_PUBLIC_KEY
  ? createPublicKey(process.env.MCPWIRE_CLIENT_PUBLIC_KEY)
  : undefined;
const seenJtis = new Set();

// Why the client assertion of a token request is refused, or `undefined` when it is good.
function refuseClientAssertion(body, issuer) {
  if (body.client_assertion_type !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
    return "client_assertion_type is not jwt-bearer";
  }
  const parts = String(body.client_assertion ?? "").split(".");
  if (parts.length !== 3) {
    return "the client assertion is not a compact JWS";
  }
  const [encodedHeader, encodedClaims, signature] = parts;
  let header;
  let claims;
  try {
    header = JSON.parse(Buffer.from(encodedHeader, "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(encodedClaims, "base64url").toString("utf8"));
  } catch {
    return "the client assertion is not JSON";
  }
  const key =
    header.alg === "ES256"
      ? { key: clientKey, dsaEncoding: "ieee-p1363" }
      : header.alg === "RS256"
        ? clientKey
        : undefined;
  if (key === undefined) {
    return `the algorithm ${header.alg} is not ES256 or RS256`;
  }
  let verified = false;
  try {
    const signed = Buffer.from(`${encodedHeader}.${encodedClaims}`);
    verified = verify("sha256", signed, key, Buffer.from(signature, "base64url"));
  } catch {
    verified = false;
  }
  if (!verified) {
    return "the signature is not the client's";
  }
  const now = Math.floor(Date.now() / 1000);
  if (claims.iss !== clientId || claims.sub !== clientId) {
    return "iss and sub are not the client id";
  }
  if (claims.aud !== issuer) {
    return "aud is not the issuer";
  }
  if (typeof claims.exp !== "number" || claims.exp <= now || claims.exp > now + 300) {
    return "exp is not within five minutes";
  }
  if (typeof claims.jti !== "string" || seenJtis.has(claims.jti)) {
    return "jti is missing or replayed";
  }
  seenJtis.add(claims.jti);
  return undefined;
}

if (clientKey !== undefined) {
  server.service.on(Events.BeforeWellKnownOpenIdConfiguration, (response) => {
    response.body.token_endpoint_auth_methods_supported = ["private_key_jwt"];
    response.body.token_endpoint_auth_signing_alg_values_supported = ["ES256", "RS256"];
  });
  server.service.on(Events.BeforeResponse, (response, req) => {
    const body = req.body ?? {};
    if (body.grant_type !== "client_credentials") {
      return;
    }
    const refused = refuseClientAssertion(body, server.issuer.url);
    if (refused !== undefined) {
      response.statusCode = 401;
      response.body = { error: "invalid_client", error_description: refused };
    }
  });
}

server.service.on(Events.BeforeTokenSigning, (token, req) => {
  const body = req.body ?? {};
  // The first token signed for a request is its access token; an ID token follows.
  req.mcpwireSigned = (req.mcpwireSigned ?? 0) + 1;
  if (req.mcpwireSigned > 1) {
    return;
  }
  const grant = { authorization_code: body.code, refresh_token: body.refresh_token }[body.grant_type];
  if (body.scope === undefined && grantedScopes.has(grant)) {
    req.mcpwireScope = grantedScopes.get(grant);
    grantedScopes.delete(grant);
    token.payload.scope = req.mcpwireScope;
  }
  token.header.typ = body.mcpwire_typ ?? "at+jwt";
  if (typeof body.resource === "string") {
    token.payload.aud = body.resource;
  }
  if (typeof body.mcpwire_header === "string") {
    Object.assign(token.header, JSON.parse(body.mcpwire_header));
  }
  if (typeof body.mcpwire_claims === "string") {
    for (const [name, value] of Object.entries(JSON.parse(body.mcpwire_claims))) {
      if (value === null) {
        delete token.payload[name];
      } else {
        token.payload[name] = value;
      }
    }
  }
});

server.service.on(Events.BeforeResponse, (response, req) => {
  if (req.mcpwireScope === undefined || response.statusCode !== 200) {
    return;
  }
  response.body.scope = req.mcpwireScope;
  if (typeof response.body.refresh_token === "string") {
    grantedScopes.set(response.body.refresh_token, req.mcpwireScope);
  }
});

await server.start(0, "127.0.0.1");
process.stdout.write(JSON.stringify({ issuer: server.issuer.url, pid: process.pid }) + "\n");

const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
