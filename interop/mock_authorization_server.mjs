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
