// A small MCP server written with the official TypeScript SDK v2 (`@modelcontextprotocol/server`),
// serving both protocol eras: the modern one (2026-07-28: `server/discover`, a `_meta` envelope on
// every request, multi round-trip requests) and the legacy one (the `initialize` handshake).
//
// Usage: node interop/ts2_server.mjs [--era both|modern|legacy]              (stdio)
//        node interop/ts2_server.mjs [--era both|modern|legacy] --http PORT  (Streamable HTTP on
//                                     127.0.0.1:PORT, path /mcp; PORT 0 picks a free port)
//
// --era restricts the eras served (default: both). `modern` uses the SDK's strict mode
// (`legacy: 'reject'`: a legacy request gets the unsupported-protocol-version error);
// `legacy` serves like a 2025 server, with the plain stdio or sessionful HTTP transport and no
// era entry in front, so a modern request meets a server that knows only `initialize`.
//
// Over HTTP it prints `listening on http://127.0.0.1:PORT/mcp` to stderr once it accepts
// connections. The era is the client's choice: `serveStdio` pins a connection to the era of its
// first message; over HTTP, `isLegacyRequest` routes each request, modern ones to
// `createMcpHandler` (a fresh server instance per request) and legacy ones to a sessionful
// 2025-style transport (one server instance per `Mcp-Session-Id`). `createMcpHandler`'s own
// legacy fallback is stateless: without the `initialize` capabilities it cannot send a legacy
// client the elicitation, sampling and roots requests.
//
// It offers the same surface as `interop/py2_server.py`, so that one test drives either:
//
// - tools: `echo {text}`, `add {a, b}`, `elicit_name` (form elicitation of `{name}`),
//   `sample_text {prompt}` (sampling), `list_roots` (roots), `region_echo {region, text}`
//   (`region` carries `x-mcp-header: Region`, mirrored as the `Mcp-Param-Region` header on
//   modern HTTP) and `trigger_tools_changed` (sends `notifications/tools/list_changed`);
// - a resource `interop://about`;
// - a prompt `greet {name}`.
//
// The elicitation, sampling and roots tools ask through `inputRequired(...)`: the client answers
// with `inputResponses` on a retry (modern era), or the SDK's legacy shim sends the real
// server-to-client request (legacy era).

import { randomUUID } from "node:crypto";
import http from "node:http";
import { Readable } from "node:stream";

import {
  McpServer,
  WebStandardStreamableHTTPServerTransport,
  createMcpHandler,
  fromJsonSchema,
  inputRequired,
  inputResponse,
  isLegacyRequest,
} from "@modelcontextprotocol/server";
import { StdioServerTransport, serveStdio } from "@modelcontextprotocol/server/stdio";

const SERVER_INFO = { name: "ts2-interop-server", version: "0.0.0" };
const ABOUT_URI = "interop://about";
const ABOUT_TEXT = "An interop peer of mcpwire.";

const args = process.argv.slice(2);
let era = "both";
if (args[0] === "--era") {
  era = args[1];
  args.splice(0, 2);
}
let port;
if (args.length === 2 && args[0] === "--http" && /^\d+$/.test(args[1])) {
  port = Number(args[1]);
} else if (args.length !== 0 || !["both", "modern", "legacy"].includes(era)) {
  console.error("usage: node ts2_server.mjs [--era both|modern|legacy] [--http PORT]");
  process.exit(2);
}

/** The modern HTTP handler, once created: its `notify` reaches the `subscriptions/listen` streams. */
let httpHandler;

/** The legacy HTTP sessions: the transport of each `Mcp-Session-Id`. */
const legacySessions = new Map();

function text(value) {
  return { content: [{ type: "text", text: value }] };
}

/** A JSON Schema object of string properties, all required unless listed in `optional`. */
function objectSchema(properties, optional = []) {
  return fromJsonSchema({
    type: "object",
    properties,
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
  });
}

/** Whether the request being handled is a modern-era one (it carries the `_meta` envelope). */
function isModern(ctx) {
  return ctx.mcpReq.envelope !== undefined && Object.keys(ctx.mcpReq.envelope).length > 0;
}

function createServer() {
  const server = new McpServer(SERVER_INFO, {
    capabilities: { tools: { listChanged: true } },
    instructions: "A TypeScript SDK v2 server for mcpwire's interop tests.",
  });

  server.registerTool(
    "echo",
    { description: "Echoes `text`.", inputSchema: objectSchema({ text: { type: "string" } }) },
    async ({ text: value }) => text(value),
  );

  server.registerTool(
    "add",
    {
      description: "Adds two numbers.",
      inputSchema: objectSchema({ a: { type: "number" }, b: { type: "number" } }),
    },
    async ({ a, b }) => text(String(a + b)),
  );

  server.registerTool(
    "elicit_name",
    { description: "Asks the user for their name (form elicitation)." },
    async (ctx) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, "name");
      if (answer.kind === "missing") {
        return inputRequired({
          inputRequests: {
            name: inputRequired.elicit({
              message: "What is your name?",
              requestedSchema: {
                type: "object",
                properties: { name: { type: "string", description: "Your name" } },
                required: ["name"],
              },
            }),
          },
        });
      }
      if (answer.kind === "elicit" && answer.action === "accept") {
        return text(`Hello, ${answer.content?.name}!`);
      }
      return text(answer.kind === "elicit" ? answer.action : `unexpected ${answer.kind} answer`);
    },
  );

  server.registerTool(
    "sample_text",
    {
      description: "Asks the client's model to answer `prompt` (sampling).",
      inputSchema: objectSchema({ prompt: { type: "string" } }),
    },
    async ({ prompt }, ctx) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, "reply");
      if (answer.kind === "missing") {
        return inputRequired({
          inputRequests: {
            reply: inputRequired.createMessage({
              messages: [{ role: "user", content: { type: "text", text: prompt } }],
              maxTokens: 50,
            }),
          },
        });
      }
      if (answer.kind !== "sampling") return text(`unexpected ${answer.kind} answer`);
      const blocks = [answer.result.content].flat();
      const reply = blocks.map((block) => (block.type === "text" ? block.text : `[${block.type}]`)).join("");
      return text(`${answer.result.model}: ${reply}`);
    },
  );

  server.registerTool("list_roots", { description: "Lists the client's roots." }, async (ctx) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, "roots");
    if (answer.kind === "missing") {
      return inputRequired({ inputRequests: { roots: inputRequired.listRoots() } });
    }
    if (answer.kind !== "roots") return text(`unexpected ${answer.kind} answer`);
    return text(answer.roots.map((root) => root.uri).join("\n"));
  });

  server.registerTool(
    "region_echo",
    {
      description: "Echoes `text` prefixed with `region`, which travels as the Mcp-Param-Region header.",
      inputSchema: objectSchema({
        region: { type: "string", "x-mcp-header": "Region" },
        text: { type: "string" },
      }),
    },
    async ({ region, text: value }) => text(`${region}: ${value}`),
  );

  server.registerTool(
    "trigger_tools_changed",
    { description: "Sends notifications/tools/list_changed (the list itself stays the same)." },
    async (ctx) => {
      if (!isModern(ctx)) {
        // Related to this request, so that it also reaches a stateless legacy HTTP client (on
        // the response stream of this POST; there is no standalone GET stream).
        await ctx.mcpReq.notify({ method: "notifications/tools/list_changed" });
      } else if (httpHandler !== undefined) {
        httpHandler.notify.toolsChanged();
      } else {
        // stdio: the entry routes the instance's change notification onto the connection's
        // `subscriptions/listen` streams.
        await server.server.sendToolListChanged();
      }
      return text("tools changed");
    },
  );

  server.registerResource(
    "about",
    ABOUT_URI,
    { description: "What this server is", mimeType: "text/plain" },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: "text/plain", text: ABOUT_TEXT }] }),
  );

  server.registerPrompt(
    "greet",
    { description: "Asks for a greeting.", argsSchema: objectSchema({ name: { type: "string" } }) },
    async ({ name }) => ({
      messages: [{ role: "user", content: { type: "text", text: `Say hello to ${name}.` } }],
    }),
  );

  return server;
}

const onerror = (error) => console.error(`ts2_server: ${error?.stack ?? error}`);

if (port === undefined && era === "legacy") {
  const transport = new StdioServerTransport();
  transport.onerror = onerror;
  await createServer().connect(transport);
} else if (port === undefined) {
  serveStdio(createServer, { legacy: era === "modern" ? "reject" : "serve", onerror });
} else {
  httpHandler = createMcpHandler(createServer, { legacy: "reject", onerror });
  const listener = http.createServer((req, res) => {
    serveHttp(req, res).catch((error) => {
      onerror(error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  listener.listen(port, "127.0.0.1", () => {
    console.error(`listening on http://127.0.0.1:${listener.address().port}/mcp`);
  });
  const stop = () => {
    const closing = [httpHandler.close(), ...[...legacySessions.values()].map((transport) => transport.close())];
    Promise.allSettled(closing).finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/** Serves one node HTTP request through the web-standard handler. */
async function serveHttp(req, res) {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (url.pathname !== "/mcp") {
    res.writeHead(404).end();
    return;
  }
  const abort = new AbortController();
  res.on("close", () => abort.abort());
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const item of [value].flat()) if (item !== undefined) headers.append(name, item);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const request = new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? Readable.toWeb(req) : undefined,
    duplex: "half",
    signal: abort.signal,
  });
  const legacy = era === "legacy" || (era === "both" && (await isLegacyRequest(request)));
  const response = legacy ? await serveLegacy(request) : await httpHandler.fetch(request);
  res.writeHead(response.status, [...response.headers].flat());
  res.flushHeaders();
  if (response.body === null) {
    res.end();
    return;
  }
  Readable.fromWeb(response.body).on("error", () => res.end()).pipe(res);
}

/** Serves a legacy (2025-era) request on its session, or opens a session for an `initialize`. */
async function serveLegacy(request) {
  const sessionId = request.headers.get("mcp-session-id");
  if (sessionId !== null) {
    const transport = legacySessions.get(sessionId);
    if (transport === undefined) {
      return Response.json(
        { jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } },
        { status: 404 },
      );
    }
    return transport.handleRequest(request);
  }
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => legacySessions.set(id, transport),
    onsessionclosed: (id) => legacySessions.delete(id),
  });
  transport.onerror = onerror;
  await createServer().connect(transport);
  return transport.handleRequest(request);
}
