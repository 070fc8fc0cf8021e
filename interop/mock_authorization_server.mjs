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
import { OAuth2Server, Events } from "oauth2-mock-server";

const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");

server.service.on(Events.BeforeTokenSigning, (token, req) => {
  const body = req.body ?? {};
  // The first token signed for a request is its access token; an ID token follows.
  req.mcpwireSigned = (req.mcpwireSigned ?? 0) + 1;
  if (req.mcpwireSigned > 1) {
    return;
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

await server.start(0, "127.0.0.1");
process.stdout.write(JSON.stringify({ issuer: server.issuer.url, pid: process.pid }) + "\n");

const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
