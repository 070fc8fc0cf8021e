"""A task-capable MCP server written with the Python SDK 1.x and its experimental tasks.

Protocol 2025-11-25: `task`-augmented `tools/call`, `tasks/get`, `tasks/result`, `tasks/list`
and `tasks/cancel`, over stdio. Run with the venv of `interop/requirements.txt`:

    python interop/py_tasks_server.py

It offers the surface of `interop/ts_tasks_server.mjs`, so that one test drives either. The
tools `slow`, `ask` and `hold` run only as tasks (`execution.taskSupport: "required"`; a plain
call is a tool error), kept in the SDK's `InMemoryTaskStore` with a poll interval of 20 ms:

- `slow` works until the client calls `release`, then answers "slow done";
- `ask` asks one form elicitation with a string field `answer` (the SDK queues the request and
  delivers it while a `tasks/result` of the task is pending, with the task `input_required`
  meanwhile), then answers "Hello, <answer>!";
- `hold` never ends by itself: only `tasks/cancel` ends it.

The plain tool `release` lets `slow` finish, and `seen` answers with what the task store saw, as
JSON text: an array of lines such as `created slow ttl=60000`, `status <taskId> input_required`,
`result <taskId> completed` (the store took the task's result) and `status <taskId> cancelled`.
"""

import json

import anyio
from mcp import types
from mcp.server.experimental.task_context import ServerTaskContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.experimental.tasks.in_memory_task_store import InMemoryTaskStore

POLL_INTERVAL_MS = 20
TASK_TOOLS = {
    "slow": "Works until `release` is called",
    "ask": "Asks who is there, then greets them",
    "hold": "Waits until it is cancelled",
}

seen: list[str] = []


class RecordingTaskStore(InMemoryTaskStore):
    """The SDK's store, with a short poll interval, recording each change the server makes."""

    def __init__(self) -> None:
        super().__init__()
        self.ended: dict[str, anyio.Event] = {}

    async def create_task(self, metadata, task_id=None):
        task = await super().create_task(metadata, task_id)
        self._tasks[task.taskId].task.pollInterval = POLL_INTERVAL_MS
        self.ended[task.taskId] = anyio.Event()
        return await self.get_task(task.taskId)

    async def update_task(self, task_id, status=None, status_message=None):
        task = await super().update_task(task_id, status, status_message)
        if status is not None:
            seen.append(f"status {task_id} {status}")
            if status in ("completed", "failed", "cancelled"):
                self.ended[task_id].set()
        return task

    async def store_result(self, task_id, result):
        await super().store_result(task_id, result)
        seen.append(f"result {task_id} stored")


store = RecordingTaskStore()
server = Server("py-tasks-server")
server.experimental.enable_tasks(store=store)
slow_released = anyio.Event()


def text(value: str, is_error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=value)], isError=is_error)


@server.list_tools()
async def list_tools() -> list[types.Tool]:
    required = types.ToolExecution(taskSupport="required")
    empty = {"type": "object", "properties": {}}
    tools = [
        types.Tool(name=name, description=description, inputSchema=empty, execution=required)
        for name, description in TASK_TOOLS.items()
    ]
    tools.append(types.Tool(name="release", description="Lets `slow` finish", inputSchema=empty))
    tools.append(types.Tool(name="seen", description="What the task store saw", inputSchema=empty))
    return tools


async def slow(task: ServerTaskContext) -> types.CallToolResult:
    await slow_released.wait()
    return text("slow done")


async def ask(task: ServerTaskContext) -> types.CallToolResult:
    answer = await task.elicit(
        message="Who is there?",
        requestedSchema={
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
        },
    )
    name = (answer.content or {}).get("answer")
    seen.append(f"elicited {answer.action} {name}")
    return text(f"Hello, {name}!")


async def hold(task: ServerTaskContext) -> types.CallToolResult:
    # The SDK's `tasks/cancel` only marks the task cancelled in the store; the work ends when it
    # sees so. Its context still holds the task as `working` and would then complete the
    # cancelled task, which the store refuses with an exception that escapes the SDK's task
    # group; updating the status message first brings the context's copy up to date.
    await store.ended[task.task_id].wait()
    await task.update_status("stopped after cancellation", notify=False)
    return text("cancelled")


WORK = {"slow": slow, "ask": ask, "hold": hold}


@server.call_tool()
async def call_tool(name: str, arguments: dict):
    if name == "release":
        if slow_released.is_set():
            return text("nothing to release", is_error=True)
        slow_released.set()
        return text("released")
    if name == "seen":
        return text(json.dumps(seen))
    if name not in WORK:
        return text(f"unknown tool {name}", is_error=True)
    context = server.request_context
    metadata = context.experimental.task_metadata
    if metadata is None:
        return text(f"{name} runs only as a task", is_error=True)
    seen.append(f"created {name} ttl={json.dumps(metadata.ttl)}")
    return await context.experimental.run_task(WORK[name])


async def main() -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
