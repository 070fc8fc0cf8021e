// A task-capable MCP server written with the TypeScript SDK v1 (`@modelcontextprotocol/sdk`) and
// its experimental tasks (protocol 2025-11-25: `task`-augmented `tools/call`, `tasks/get`,
// `tasks/result`, `tasks/list`, `tasks/cancel`), over stdio.
//
// Usage: node interop/ts_tasks_server.mjs
//
// The tools run only as tasks (`execution.taskSupport: "required"`), kept in the SDK's
// `InMemoryTaskStore` with a poll interval of 20 ms:
//
// - `slow` works until the client calls `release`, then answers "slow done";
// - `ask` asks one form elicitation with a string field `answer` (the SDK queues the request
//   and delivers it while a `tasks/result` of the task is pending, with the task
//   `input_required` meanwhile), then answers "Hello, <answer>!";
// - `hold` never ends by itself: only `tasks/cancel` ends it.
//
// Two plain tools let the test steer and watch the server: `release` lets `slow` finish, and
// `seen` answers with what the task store saw, as JSON text: an array of lines such as
// `created slow ttl=60000`, `status <taskId> input_required`, `result <taskId> completed` and
// `status <taskId> cancelled`. The server exits when its standard input closes.

import {
  InMemoryTaskMessageQueue,
  InMemoryTaskStore,
} from "@modelcontextprotocol/sdk/experimental/tasks";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ElicitResultSchema } from "@modelcontextprotocol/sdk/types.js";

const POLL_INTERVAL_MS = 20;

const seen = [];

// The SDK's store, recording each change of a task's state that the server makes.
class RecordingTaskStore extends InMemoryTaskStore {
  async updateTaskStatus(taskId, status, statusMessage, sessionId) {
    await super.updateTaskStatus(taskId, status, statusMessage, sessionId);
    seen.push(`status ${taskId} ${status}`);
  }

  async storeTaskResult(taskId, status, result, sessionId) {
    await super.storeTaskResult(taskId, status, result, sessionId);
    seen.push(`result ${taskId} ${status}`);
  }
}

function text(value) {
  return { content: [{ type: "text", text: value }] };
}

// Creates the task of a call, noting the time to live the client asked for.
async function createTask(tool, extra) {
  const ttl = extra.taskRequestedTtl ?? null;
  seen.push(`created ${tool} ttl=${ttl}`);
  return extra.taskStore.createTask({ ttl, pollInterval: POLL_INTERVAL_MS });
}

// The handlers of a task tool whose work `start(task, extra)` runs in the background.
function taskTool(name, start) {
  return {
    createTask: async (extra) => {
      const task = await createTask(name, extra);
      start(task, extra);
      return { task };
    },
    getTask: async (extra) => extra.taskStore.getTask(extra.taskId),
    getTaskResult: async (extra) => extra.taskStore.getTaskResult(extra.taskId),
  };
}

// Stores the outcome of a task's work, unless the task already ended (cancelled).
async function finish(extra, taskId, work) {
  let status = "completed";
  let result;
  try {
    result = await work();
  } catch (error) {
    status = "failed";
    result = { ...text(String(error?.message ?? error)), isError: true };
  }
  const task = await extra.taskStore.getTask(taskId).catch(() => null);
  if (task && !["completed", "failed", "cancelled"].includes(task.status)) {
    await extra.taskStore.storeTaskResult(taskId, status, result);
  }
}

let releaseSlow = null;

const server = new McpServer(
  { name: "ts-tasks-server", version: "0.0.0" },
  {
    capabilities: {
      tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
    },
    taskStore: new RecordingTaskStore(),
    taskMessageQueue: new InMemoryTaskMessageQueue(),
  },
);

const required = { taskSupport: "required" };

server.experimental.tasks.registerToolTask(
  "slow",
  { description: "Works until `release` is called", execution: required },
  taskTool("slow", (task, extra) => {
    const released = new Promise((resolve) => {
      releaseSlow = resolve;
    });
    finish(extra, task.taskId, async () => {
      await released;
      return text("slow done");
    });
  }),
);

server.experimental.tasks.registerToolTask(
  "ask",
  { description: "Asks who is there, then greets them", execution: required },
  taskTool("ask", (task, extra) => {
    finish(extra, task.taskId, async () => {
      const answer = await extra.sendRequest(
        {
          method: "elicitation/create",
          params: {
            mode: "form",
            message: "Who is there?",
            requestedSchema: {
              type: "object",
              properties: { answer: { type: "string" } },
              required: ["answer"],
            },
          },
        },
        ElicitResultSchema,
        { relatedTask: { taskId: task.taskId } },
      );
      seen.push(`elicited ${answer.action} ${answer.content?.answer}`);
      return text(`Hello, ${answer.content?.answer}!`);
    });
  }),
);

server.experimental.tasks.registerToolTask(
  "hold",
  { description: "Waits until it is cancelled", execution: required },
  taskTool("hold", () => {}),
);

server.registerTool("release", { description: "Lets `slow` finish" }, async () => {
  if (!releaseSlow) {
    return { ...text("nothing to release"), isError: true };
  }
  releaseSlow();
  releaseSlow = null;
  return text("released");
});

server.registerTool("seen", { description: "What the task store saw" }, async () =>
  text(JSON.stringify(seen)),
);

process.stdin.on("end", () => process.exit(0));
await server.connect(new StdioServerTransport());
