// Drives an MCP server over stdio with the official TypeScript SDK's client and prints a JSON
// summary of everything it saw to stdout.
//
// Usage: node interop/ts_client.mjs <server program> [args…]
//        node interop/ts_client.mjs --http <server URL>
//        node interop/ts_client.mjs --sse <SSE endpoint URL>   (the HTTP+SSE transport of 2024-11-05)
//
// It declares sampling, elicitation (form) and roots, answers those requests with fixed
// values, lists and calls every tool, reads every resource and one templated URI, gets every
// prompt, asks for completions, and exits with status 1 when any step failed (the summary's
// `failures` says which). mcpwire's interop tests run it against the `everything` example.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

// Arguments for the tools of mcpwire's `everything` example; other tools get none.
const TOOL_ARGUMENTS = {
  add: { a: 2, b: 3.5 },
  count_down: { steps: 3 },
};
// Arguments for the prompts of the `everything` example; other prompts get their required
// arguments filled with "example".
const PROMPT_ARGUMENTS = {
  review_code: { code: "fn main() {}", language: "rust" },
};
// The steps of the `count_down` call that the client cancels.
const CANCELLED_STEPS = 20;
const TEMPLATED_URI = "mcpwire://greeting/Ada";
const ROOT = { uri: "file:///interop/workspace", name: "interop workspace" };
const REQUEST_TIMEOUT_MS = 30_000;

const [program, ...programArguments] = process.argv.slice(2);
const byUrl = program === "--http" || program === "--sse";
if (!program || (byUrl && programArguments.length !== 1)) {
  console.error("usage: node ts_client.mjs <server program> [args…] | --http <server URL> | --sse <SSE URL>");
  process.exit(2);
}

const summary = {
  sdk: "typescript",
  failures: [],
  handled: { sampling: [], elicitation: [], roots: 0 },
  logs: [],
  tools: {},
  resources: {},
  templated: null,
  prompts: {},
  completions: {},
};

async function attempt(what, action) {
  try {
    return await action();
  } catch (error) {
    summary.failures.push(`${what}: ${error?.stack ?? error}`);
    return undefined;
  }
}

const client = new Client(
  { name: "mcpwire-interop-ts", version: "0.0.0" },
  {
    capabilities: {
      sampling: {},
      elicitation: { form: {} },
      roots: { listChanged: true },
    },
  },
);

client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
  summary.handled.sampling.push(request.params);
  return {
    role: "assistant",
    content: { type: "text", text: "Borrowed, never owned; / the checker keeps its promise; / memory stays safe." },
    model: "ts-interop-model",
    stopReason: "endTurn",
  };
});

client.setRequestHandler(ElicitRequestSchema, async (request) => {
  summary.handled.elicitation.push(request.params);
  return { action: "accept", content: { name: "Ada" } };
});

client.setRequestHandler(ListRootsRequestSchema, async () => {
  summary.handled.roots += 1;
  return { roots: [ROOT] };
});

client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
  summary.logs.push(notification.params);
});

// Errors the SDK reports outside any request, such as a response to an unknown (for
// example cancelled) request.
let closing = false;
// The progress token of the call the client cancels.
let cancelledToken;
client.onerror = (error) => {
  // Over HTTP+SSE the answer to the last request travels on the stream and may arrive before
  // the `202 Accepted` of its POST; closing then aborts that POST, which is no fault.
  if (closing && error?.name === "AbortError") {
    return;
  }
  // Progress the server sent before the cancellation reached it may arrive after the SDK
  // forgot the call: the spec asks both sides to bear that race.
  if (isProgressOf(error, cancelledToken)) {
    summary.lateProgressAfterCancel = (summary.lateProgressAfterCancel ?? 0) + 1;
    return;
  }
  summary.failures.push(`protocol error: ${error?.stack ?? error}`);
};

function isProgressOf(error, token) {
  const prefix = "Received a progress notification for an unknown token: ";
  const message = String(error?.message ?? "");
  if (token === undefined || !message.startsWith(prefix)) {
    return false;
  }
  try {
    return JSON.parse(message.slice(prefix.length)).params?.progressToken === token;
  } catch {
    return false;
  }
}

function connectTransport() {
  switch (program) {
    case "--http":
      return new StreamableHTTPClientTransport(new URL(programArguments[0]));
    case "--sse":
      return new SSEClientTransport(new URL(programArguments[0]));
    default:
      return new StdioClientTransport({ command: program, args: programArguments, stderr: "inherit" });
  }
}
const transport = connectTransport();
// Notes the progress token of the call that will be cancelled, as it leaves.
const send = transport.send.bind(transport);
transport.send = (message, options) => {
  const params = message.params;
  if (message.method === "tools/call" && params?.name === "count_down" && params.arguments?.steps === CANCELLED_STEPS) {
    cancelledToken = params._meta?.progressToken;
  }
  return send(message, options);
};
// The client tells the transport the negotiated revision through this optional hook; the
// HTTP transport needs it for its protocol-version header, so it is wrapped, not replaced.
const setProtocolVersion = transport.setProtocolVersion?.bind(transport);
transport.setProtocolVersion = (version) => {
  summary.protocolVersion = version;
  setProtocolVersion?.(version);
};

try {
  await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
} catch (error) {
  console.error(`connecting failed: ${error?.stack ?? error}`);
  process.exit(1);
}

summary.serverInfo = client.getServerVersion();
summary.serverCapabilities = client.getServerCapabilities();
summary.instructions = client.getInstructions();
const options = { timeout: REQUEST_TIMEOUT_MS };

await attempt("ping", () => client.ping(options));
await attempt("logging/setLevel", () => client.setLoggingLevel("debug", options));

const tools = (await attempt("tools/list", () => client.listTools({}, options)))?.tools ?? [];
summary.toolList = tools;
for (const tool of tools) {
  const progress = [];
  const result = await attempt(`tools/call ${tool.name}`, () =>
    client.callTool(
      { name: tool.name, arguments: TOOL_ARGUMENTS[tool.name] ?? {} },
      CallToolResultSchema,
      { ...options, onprogress: (update) => progress.push(update) },
    ),
  );
  if (result?.isError) {
    summary.failures.push(`tools/call ${tool.name} returned a tool error: ${JSON.stringify(result.content)}`);
  }
  summary.tools[tool.name] = { result, progress };
}

// Cancellation: abort `count_down` at its first progress update. The server must send no
// response for it; one would reach `client.onerror` above.
if (tools.some((tool) => tool.name === "count_down")) {
  const controller = new AbortController();
  const progress = [];
  try {
    await client.callTool({ name: "count_down", arguments: { steps: CANCELLED_STEPS } }, CallToolResultSchema, {
      ...options,
      signal: controller.signal,
      onprogress: (update) => {
        progress.push(update);
        controller.abort(new Error("cancelled by the interop client"));
      },
    });
    summary.failures.push("count_down finished although it was cancelled");
  } catch (error) {
    summary.cancellation = { error: String(error?.message ?? error), progress };
  }
}

// Errors as each side of the spec expects them: an unknown tool and a missing resource are
// JSON-RPC errors, invalid arguments a tool execution error.
async function expectError(what, action) {
  try {
    await action();
    summary.failures.push(`${what} succeeded although it should have failed`);
    return null;
  } catch (error) {
    return { code: error?.code, message: String(error?.message ?? error), data: error?.data };
  }
}
summary.errors = {
  unknownTool: await expectError("tools/call no_such_tool", () =>
    client.callTool({ name: "no_such_tool", arguments: {} }, CallToolResultSchema, options),
  ),
  missingResource: await expectError("resources/read mcpwire://missing", () =>
    client.readResource({ uri: "mcpwire://missing" }, options),
  ),
  invalidArguments: await attempt("tools/call add with invalid arguments", () =>
    client.callTool({ name: "add", arguments: { a: "two", b: 3 } }, CallToolResultSchema, options),
  ),
};
if (summary.serverCapabilities?.resources?.subscribe) {
  await attempt("resources/subscribe", () => client.subscribeResource({ uri: "mcpwire://readme" }, options));
  await attempt("resources/unsubscribe", () => client.unsubscribeResource({ uri: "mcpwire://readme" }, options));
}

// The client's roots changed: the server may ask again, and must keep serving.
await attempt("notifications/roots/list_changed", () => client.sendRootsListChanged());
await attempt("ping after roots/list_changed", () => client.ping(options));

const resources = (await attempt("resources/list", () => client.listResources({}, options)))?.resources ?? [];
summary.resourceList = resources;
for (const resource of resources) {
  summary.resources[resource.uri] = await attempt(`resources/read ${resource.uri}`, () =>
    client.readResource({ uri: resource.uri }, options),
  );
}
summary.templateList =
  (await attempt("resources/templates/list", () => client.listResourceTemplates({}, options)))?.resourceTemplates ?? [];
summary.templated = await attempt(`resources/read ${TEMPLATED_URI}`, () =>
  client.readResource({ uri: TEMPLATED_URI }, options),
);

const prompts = (await attempt("prompts/list", () => client.listPrompts({}, options)))?.prompts ?? [];
summary.promptList = prompts;
for (const prompt of prompts) {
  const fallback = Object.fromEntries(
    (prompt.arguments ?? []).filter((argument) => argument.required).map((argument) => [argument.name, "example"]),
  );
  summary.prompts[prompt.name] = await attempt(`prompts/get ${prompt.name}`, () =>
    client.getPrompt({ name: prompt.name, arguments: PROMPT_ARGUMENTS[prompt.name] ?? fallback }, options),
  );
}

if (summary.serverCapabilities?.completions) {
  for (const template of summary.templateList) {
    const variable = /\{[+#./;?&]?([A-Za-z0-9_]+)/.exec(template.uriTemplate)?.[1];
    if (variable) {
      summary.completions[template.uriTemplate] = await attempt(`completion/complete ${template.uriTemplate}`, () =>
        client.complete(
          { ref: { type: "ref/resource", uri: template.uriTemplate }, argument: { name: variable, value: "A" } },
          options,
        ),
      );
    }
  }
  for (const prompt of prompts) {
    const argument = prompt.arguments?.find((candidate) => !candidate.required) ?? prompt.arguments?.[0];
    if (argument) {
      summary.completions[`prompt:${prompt.name}`] = await attempt(`completion/complete prompt ${prompt.name}`, () =>
        client.complete(
          { ref: { type: "ref/prompt", name: prompt.name }, argument: { name: argument.name, value: "r" } },
          options,
        ),
      );
    }
  }
}

closing = true;
await attempt("close", () => client.close());
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
process.exitCode = summary.failures.length === 0 ? 0 : 1;
