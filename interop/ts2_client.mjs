// Drives an MCP server with the official TypeScript SDK v2's client
// (`@modelcontextprotocol/client`) through a fixed script, in either protocol era, and prints one
// JSON line per step to stdout.
//
// Usage: node interop/ts2_client.mjs [--era auto|modern|legacy] <server program> [args…]
//        node interop/ts2_client.mjs [--era auto|modern|legacy] --http <server URL>
//
// --era picks the SDK's version negotiation: `legacy` runs the 2025 `initialize` handshake
// (the SDK's default), `modern` pins 2026-07-28 (a `server/discover` that must offer it, no
// fallback), `auto` (the default here) probes with `server/discover` and falls back to
// `initialize`. Over stdio, `auto` and `modern` probe on a short-lived second process started
// from the same command line, then start the server for the session.
//
// The script, identical to `interop/py2_client.py`'s (the servers `interop/ts2_server.mjs` and
// `interop/py2_server.py` offer what it needs):
//
//   connect                  {"step":"connect","sdk":"typescript","era":…,"protocolVersion":…,"serverInfo":…}
//   tools/list               {"step":"tools/list","tools":[sorted names]}
//   echo {text:"hello"}      {"step":"tools/call","tool":"echo","text":"hello","handled":{…}}
//   add {a:2,b:3.5}          … "text":"5.5"
//   elicit_name              … "text":"Hello, Ada!"             (elicitation answered {name:"Ada"})
//   sample_text {prompt}     … "text":"interop-model: Fixed reply." (sampling answered)
//   list_roots               … "text":"file:///interop/root"    (roots answered)
//   region_echo              … "text":"eu-west: hi"
//   trigger_tools_changed    … "text":"tools changed","listChanged":true (notification seen; on a
//                            modern connection through a `subscriptions/listen` stream)
//   resources/read           {"step":"resources/read","uri":"interop://about","text":…}
//   prompts/get greet        {"step":"prompts/get","prompt":"greet","text":"Say hello to Ada."}
//   end                      {"step":"ok"} — or {"step":"failed","failures":[…]} and exit status 1
//
// A step that fails prints {"step":…,"error":…} and the script goes on. `handled` counts the
// sampling, elicitation and roots requests the client's handlers answered during the step.

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

const MODERN = "2026-07-28";
const REQUEST_TIMEOUT_MS = 30_000;
const NOTIFICATION_TIMEOUT_MS = 5_000;
// The handlers' fixed answers, the same in every interop client.
const ELICITED_NAME = "Ada";
const SAMPLING_MODEL = "interop-model";
const SAMPLING_REPLY = "Fixed reply.";
const ROOT = { uri: "file:///interop/root", name: "interop root" };

const usage = "usage: node ts2_client.mjs [--era auto|modern|legacy] (<server program> [args…] | --http <server URL>)";
const argv = process.argv.slice(2);
let era = "auto";
if (argv[0] === "--era") {
  era = argv[1];
  argv.splice(0, 2);
}
const [program, ...programArguments] = argv;
if (!["auto", "modern", "legacy"].includes(era) || !program || (program === "--http" && programArguments.length !== 1)) {
  console.error(usage);
  process.exit(2);
}

const failures = [];
const handled = { elicitation: 0, sampling: 0, roots: 0 };
let toolsChanged = 0;

function emit(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function step(name, fields, action) {
  const before = { ...handled };
  try {
    const result = await action();
    emit({ step: name, ...fields, ...result });
  } catch (error) {
    const message = String(error?.stack ?? error);
    failures.push(`${name} ${JSON.stringify(fields)}: ${message}`);
    emit({ step: name, ...fields, error: message });
  }
  return before;
}

function textOf(content) {
  return (content ?? []).map((block) => (block.type === "text" ? block.text : `[${block.type}]`)).join("");
}

/** Resolves once `count()` exceeds `floor`, or rejects after `ms`. */
async function waitFor(count, floor, ms) {
  const deadline = Date.now() + ms;
  while (count() <= floor) {
    if (Date.now() > deadline) throw new Error(`no notification within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const client = new Client(
  { name: "mcpwire-interop-ts2", version: "0.0.0" },
  {
    capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
    versionNegotiation: { mode: era === "modern" ? { pin: MODERN } : era },
  },
);

client.setRequestHandler("elicitation/create", async () => {
  handled.elicitation += 1;
  return { action: "accept", content: { name: ELICITED_NAME } };
});
client.setRequestHandler("sampling/createMessage", async () => {
  handled.sampling += 1;
  return {
    role: "assistant",
    content: { type: "text", text: SAMPLING_REPLY },
    model: SAMPLING_MODEL,
    stopReason: "endTurn",
  };
});
client.setRequestHandler("roots/list", async () => {
  handled.roots += 1;
  return { roots: [ROOT] };
});
client.setNotificationHandler("notifications/tools/list_changed", () => {
  toolsChanged += 1;
});
client.onerror = (error) => {
  failures.push(`protocol error: ${error?.stack ?? error}`);
};

const transport =
  program === "--http"
    ? new StreamableHTTPClientTransport(new URL(programArguments[0]))
    : new StdioClientTransport({ command: program, args: programArguments, stderr: "inherit" });
const options = { timeout: REQUEST_TIMEOUT_MS };

await step("connect", {}, async () => {
  await client.connect(transport, options);
  return {
    sdk: "typescript",
    era: client.getProtocolEra(),
    protocolVersion: client.getNegotiatedProtocolVersion(),
    serverInfo: client.getServerVersion() ?? null,
  };
});
if (failures.length > 0) {
  emit({ step: "failed", failures });
  process.exit(1);
}
const modern = client.getProtocolEra() === "modern";

await step("tools/list", {}, async () => {
  const { tools } = await client.listTools(undefined, options);
  return { tools: tools.map((tool) => tool.name).sort() };
});

async function callTool(name, args, extra) {
  const before = { ...handled };
  await step("tools/call", { tool: name }, async () => {
    const result = await client.callTool({ name, arguments: args }, options);
    if (result.isError) throw new Error(`tool error: ${JSON.stringify(result.content)}`);
    const fields = { text: textOf(result.content) };
    Object.assign(fields, await extra?.());
    fields.handled = Object.fromEntries(Object.entries(handled).map(([kind, n]) => [kind, n - before[kind]]));
    return fields;
  });
}

await callTool("echo", { text: "hello" });
await callTool("add", { a: 2, b: 3.5 });
await callTool("elicit_name", {});
await callTool("sample_text", { prompt: "Say something." });
await callTool("list_roots", {});
await callTool("region_echo", { region: "eu-west", text: "hi" });

// A modern server delivers change notifications only on a `subscriptions/listen` stream.
let subscription;
if (modern) {
  await step("subscriptions/listen", {}, async () => {
    subscription = await client.listen({ toolsListChanged: true }, options);
    return { honored: subscription.honoredFilter };
  });
}
const seen = toolsChanged;
await callTool("trigger_tools_changed", {}, async () => {
  await waitFor(() => toolsChanged, seen, NOTIFICATION_TIMEOUT_MS);
  return { listChanged: true };
});
await subscription?.close();

await step("resources/read", { uri: "interop://about" }, async () => {
  const { contents } = await client.readResource({ uri: "interop://about" }, options);
  return { text: contents.map((content) => content.text ?? "").join("") };
});

await step("prompts/get", { prompt: "greet" }, async () => {
  const { messages } = await client.getPrompt({ name: "greet", arguments: { name: ELICITED_NAME } }, options);
  return { text: messages.map((message) => textOf([message.content])).join("\n") };
});

try {
  await client.close();
} catch (error) {
  failures.push(`close: ${error?.stack ?? error}`);
}
if (failures.length === 0) {
  emit({ step: "ok" });
} else {
  emit({ step: "failed", failures });
  process.exitCode = 1;
}
