// Drives the tasks of an MCP server with `@modelcontextprotocol/ext-tasks`, the requestor of the
// tasks extension that the Inspector 2 uses, on the TypeScript SDK v2's client, over Streamable
// HTTP in the modern era (2026-07-28, extension `io.modelcontextprotocol/tasks`). Prints one
// JSON line per step to stdout.
//
// Usage: node interop/ts_tasks_client.mjs <server URL>
//
// The server must offer three tools that go on as tasks: `slow` (works until the test lets it
// finish, then answers "slow done"), `ask` (asks one form elicitation with a string field
// `answer`, then answers "Hello, <answer>!") and `hold` (waits until it is cancelled).
//
//   connect   {"step":"connect","era":…,"extension":true|false}  (the server declared the extension)
//   slow      {"step":"slow","kind":"task","taskId":…}            (the server made a task; the
//                                                                 test lets the tool finish now)
//   slow done {"step":"slow-done","status":"completed","text":"slow done","statuses":[…]}
//   ask       {"step":"ask-done","status":"completed","text":"Hello, Ada!","inputs":[…]}
//             (the input request answered through `tasks/update` with {answer: "Ada"})
//   hold      {"step":"hold","kind":"task","taskId":…}, then after `cancel()`:
//             {"step":"hold-done","status":"cancelled","snapshot":"cancelled"}
//   end       {"step":"ok"} — or {"step":"failed","failures":[…]} and exit status 1
//
// ext-tasks sends `tools/call` and the `tasks/*` methods of a 2026-07-28 server through a
// dispatcher of the host's own (`rawDispatch`), because the SDK's codecs do not know the
// extension's wire shapes; this script's dispatcher POSTs each request with the modern headers
// (and `Mcp-Name`, which ext-tasks sets to the task id of a `tasks/*` request).

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import {
  DispatchError,
  createTaskSessionFromClient,
} from "@modelcontextprotocol/ext-tasks/client";

const MODERN = "2026-07-28";
const EXTENSION = "io.modelcontextprotocol/tasks";
const REQUEST_TIMEOUT_MS = 30_000;
const ELICITED_ANSWER = "Ada";
const CLIENT_INFO = { name: "mcpwire-interop-ext-tasks", version: "0.0.0" };
const CLIENT_CAPABILITIES = { elicitation: { form: {} } };

const [url] = process.argv.slice(2);
if (!url) {
  console.error("usage: node ts_tasks_client.mjs <server URL>");
  process.exit(2);
}

const failures = [];

function emit(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function fail(step, error) {
  const message = String(error?.stack ?? error);
  failures.push(`${step}: ${message}`);
  emit({ step, error: message });
}

function textOf(result) {
  return (result?.content ?? [])
    .filter((block) => block.type === "text")
    .map((block) => block.text)
    .join("");
}

// One JSON-RPC message of an SSE body: the one answering `id`.
function answerInEventStream(body, id) {
  for (const event of body.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).trimStart())
      .join("\n");
    if (data === "") continue;
    const message = JSON.parse(data);
    if (message.id === id) return message;
  }
  return undefined;
}

let nextRequestId = 1;
async function rawDispatch(request, options = {}) {
  const id = `ext-tasks-${nextRequestId++}`;
  const headers = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": MODERN,
    "mcp-method": request.method,
  };
  for (const [name, value] of Object.entries(options.context?.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  if (request.method === "tools/call" && headers["mcp-name"] === undefined) {
    headers["mcp-name"] = request.params.name;
  }
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id, ...request }),
      signal: options.signal,
    });
  } catch (error) {
    throw new DispatchError(`POST ${request.method} failed`, true, { cause: error });
  }
  const body = await response.text();
  const message = (response.headers.get("content-type") ?? "").includes("text/event-stream")
    ? answerInEventStream(body, id)
    : body.length > 0
      ? JSON.parse(body)
      : undefined;
  if (message?.error !== undefined) return { kind: "error", error: message.error };
  if (message?.result === undefined) {
    throw new DispatchError(`HTTP ${response.status} to ${request.method} without an answer`);
  }
  return { kind: "result", result: message.result };
}

const inputs = [];
async function onInputRequest(request, context) {
  inputs.push({ kind: request.kind, delivery: context.delivery, message: request.params?.message });
  if (request.kind !== "elicitation") throw new Error(`unexpected input request ${request.kind}`);
  return { action: "accept", content: { answer: ELICITED_ANSWER } };
}

const client = new Client(CLIENT_INFO, {
  capabilities: CLIENT_CAPABILITIES,
  versionNegotiation: { mode: { pin: MODERN } },
});
client.onerror = (error) => failures.push(`protocol error: ${error?.stack ?? error}`);

let session;
try {
  await client.connect(new StreamableHTTPClientTransport(new URL(url)), { timeout: REQUEST_TIMEOUT_MS });
  const extension = client.getServerCapabilities()?.extensions?.[EXTENSION];
  emit({ step: "connect", era: client.getProtocolEra(), extension: extension !== undefined });
  session = createTaskSessionFromClient(client, {
    endpointId: "mcpwire-interop",
    rawDispatch,
    v2RequestFraming: {
      protocolVersion: MODERN,
      clientInfo: CLIENT_INFO,
      clientCapabilities: CLIENT_CAPABILITIES,
    },
    onInputRequest,
    onError: (error) => failures.push(`ext-tasks: ${error?.stack ?? error}`),
  });
} catch (error) {
  fail("connect", error);
}

const callOptions = { task: { preference: "require" }, requestTimeoutMs: REQUEST_TIMEOUT_MS };

if (session !== undefined) {
  try {
    const execution = await session.callTool("slow", {}, callOptions);
    emit({ step: "slow", kind: execution.kind, taskId: execution.handle?.taskId ?? null });
    const statuses = [];
    const { outcome } = await execution.settle({
      onEvent: (event) => {
        const status = event.type === "task" ? event.task.status : event.outcome.status;
        if (statuses.at(-1) !== status) statuses.push(status);
      },
    });
    emit({ step: "slow-done", status: outcome.status, text: textOf(outcome.result), statuses });
  } catch (error) {
    fail("slow", error);
  }

  try {
    const execution = await session.callTool("ask", {}, callOptions);
    const { outcome } = await execution.settle();
    emit({ step: "ask-done", kind: execution.kind, status: outcome.status, text: textOf(outcome.result), inputs });
  } catch (error) {
    fail("ask", error);
  }

  try {
    const execution = await session.callTool("hold", {}, callOptions);
    const taskId = execution.handle?.taskId ?? null;
    emit({ step: "hold", kind: execution.kind, taskId });
    await execution.cancel();
    const outcome = await execution.result();
    const snapshot = await session.task(taskId).snapshot();
    emit({ step: "hold-done", status: outcome.status, snapshot: snapshot.status });
  } catch (error) {
    fail("hold", error);
  }

  await session.close().catch((error) => failures.push(`close: ${error}`));
}
await client.close().catch(() => {});

if (failures.length === 0) {
  emit({ step: "ok" });
} else {
  emit({ step: "failed", failures });
  process.exitCode = 1;
}
