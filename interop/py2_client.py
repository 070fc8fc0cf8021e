"""Drives an MCP server with the official Python SDK 2.x's client through a fixed script, in either
protocol era, and prints one JSON line per step to stdout.

Usage: python interop/py2_client.py [--era auto|modern|legacy] <server program> [args...]
       python interop/py2_client.py [--era auto|modern|legacy] --http <server URL>

Run it with the venv of ``interop/requirements-v2.txt``. ``--era`` picks the SDK's connect mode:
``legacy`` runs the 2025 ``initialize`` handshake, ``modern`` adopts 2026-07-28 directly (the
SDK sends no ``server/discover`` then: it starts with ``tools/list``, and knows no server info,
so the connect line's ``serverInfo`` is null), ``auto`` (the default, as in the SDK) probes with
``server/discover`` and falls back to ``initialize``.

The script and its output are those of ``interop/ts2_client.mjs`` (see there), with
``"sdk":"python"`` on the connect line; the exit status is 1 when any step failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.session import ClientRequestContext, IncomingMessage
from mcp.shared.subscriptions import ToolsListChanged
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    Implementation,
    ListRootsResult,
    Root,
    TextContent,
    ToolListChangedNotification,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

MODERN = "2026-07-28"
REQUEST_TIMEOUT_SECONDS = 30
NOTIFICATION_TIMEOUT_SECONDS = 5
# The handlers' fixed answers, the same in every interop client.
ELICITED_NAME = "Ada"
SAMPLING_MODEL = "interop-model"
SAMPLING_REPLY = "Fixed reply."
ROOT = Root(uri="file:///interop/root", name="interop root")
USAGE = "usage: python py2_client.py [--era auto|modern|legacy] (<server program> [args...] | --http <server URL>)"

failures: list[str] = []
handled = {"elicitation": 0, "sampling": 0, "roots": 0}
tools_changed = anyio.Event()


def describe(error: BaseException) -> str:
    """The error's type and message; for an exception group, those of each exception in it."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(inner) for inner in error.exceptions)
    return f"{type(error).__name__}: {error}"


def emit(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def step(name: str, fields: dict[str, Any], action: Callable[[], Awaitable[dict[str, Any]]]) -> None:
    try:
        result = await action()
    except Exception as error:  # noqa: BLE001 - every failure is reported, and the script goes on
        message = describe(error)
        failures.append(f"{name} {json.dumps(fields)}: {message}")
        emit({"step": name, **fields, "error": message})
    else:
        emit({"step": name, **fields, **result})


def text_of(content: list[Any]) -> str:
    return "".join(block.text if isinstance(block, TextContent) else f"[{block.type}]" for block in content)


async def on_elicit(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    handled["elicitation"] += 1
    return ElicitResult(action="accept", content={"name": ELICITED_NAME})


async def on_sample(context: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
    handled["sampling"] += 1
    return CreateMessageResult(
        role="assistant",
        content=TextContent(type="text", text=SAMPLING_REPLY),
        model=SAMPLING_MODEL,
        stop_reason="endTurn",
    )


async def on_roots(context: ClientRequestContext) -> ListRootsResult:
    handled["roots"] += 1
    return ListRootsResult(roots=[ROOT])


async def on_message(message: IncomingMessage) -> None:
    if isinstance(message, ToolListChangedNotification):
        tools_changed.set()
    elif isinstance(message, Exception):
        failures.append(f"transport error: {message!r}")


async def run(era: str, target: str | StdioServerParameters) -> None:
    mode = {"auto": "auto", "legacy": "legacy", "modern": MODERN}[era]
    client = Client(
        target,
        mode=mode,
        read_timeout_seconds=REQUEST_TIMEOUT_SECONDS,
        client_info=Implementation(name="mcpwire-interop-py2", version="0.0.0"),
        elicitation_callback=on_elicit,
        sampling_callback=on_sample,
        list_roots_callback=on_roots,
        message_handler=on_message,
    )
    try:
        await client.__aenter__()
    except Exception as error:  # noqa: BLE001
        message = describe(error)
        emit({"step": "connect", "error": message})
        emit({"step": "failed", "failures": [f"connect: {message}"]})
        sys.exit(1)
    try:
        await script(client)
    finally:
        try:
            await client.__aexit__(None, None, None)
        except Exception as error:  # noqa: BLE001
            failures.append(f"close: {error!r}")


async def script(client: Client) -> None:
    modern = client.protocol_version in MODERN_PROTOCOL_VERSIONS
    server_info = client.server_info
    emit(
        {
            "step": "connect",
            "sdk": "python",
            "era": "modern" if modern else "legacy",
            "protocolVersion": client.protocol_version,
            "serverInfo": server_info.model_dump(by_alias=True, exclude_none=True) if server_info else None,
        }
    )

    async def list_tools() -> dict[str, Any]:
        names: list[str] = []
        cursor = None
        while True:
            page = await client.list_tools(cursor=cursor)
            names.extend(tool.name for tool in page.tools)
            cursor = page.next_cursor
            if cursor is None:
                return {"tools": sorted(names)}

    await step("tools/list", {}, list_tools)

    async def call_tool(
        name: str, arguments: dict[str, Any], extra: Callable[[], Awaitable[dict[str, Any]]] | None = None
    ) -> None:
        before = dict(handled)

        async def action() -> dict[str, Any]:
            result = await client.call_tool(name, arguments)
            if result.is_error:
                raise RuntimeError(f"tool error: {text_of(result.content)}")
            fields: dict[str, Any] = {"text": text_of(result.content)}
            if extra is not None:
                fields.update(await extra())
            fields["handled"] = {kind: count - before[kind] for kind, count in handled.items()}
            return fields

        await step("tools/call", {"tool": name}, action)

    await call_tool("echo", {"text": "hello"})
    await call_tool("add", {"a": 2, "b": 3.5})
    await call_tool("elicit_name", {})
    await call_tool("sample_text", {"prompt": "Say something."})
    await call_tool("list_roots", {})
    await call_tool("region_echo", {"region": "eu-west", "text": "hi"})

    if modern:
        # A modern server delivers change notifications only on a `subscriptions/listen` stream.
        opened = False

        async def trigger_and_listen() -> None:
            nonlocal opened
            async with client.listen(tools_list_changed=True) as subscription:
                opened = True
                emit(
                    {
                        "step": "subscriptions/listen",
                        "honored": subscription.honored.model_dump(by_alias=True, exclude_none=True),
                    }
                )

                async def wait_for_event() -> dict[str, Any]:
                    with anyio.fail_after(NOTIFICATION_TIMEOUT_SECONDS):
                        event = await subscription.__anext__()
                    if not isinstance(event, ToolsListChanged):
                        raise RuntimeError(f"unexpected event {event!r}")
                    return {"listChanged": True}

                await call_tool("trigger_tools_changed", {}, wait_for_event)

        try:
            await trigger_and_listen()
        except Exception as error:  # noqa: BLE001
            message = describe(error)
            name = "subscriptions/listen" if not opened else "subscriptions/listen close"
            failures.append(f"{name}: {message}")
            emit({"step": name, "error": message})
    else:

        async def wait_for_notification() -> dict[str, Any]:
            with anyio.fail_after(NOTIFICATION_TIMEOUT_SECONDS):
                await tools_changed.wait()
            return {"listChanged": True}

        await call_tool("trigger_tools_changed", {}, wait_for_notification)

    async def read_resource() -> dict[str, Any]:
        result = await client.read_resource("interop://about")
        return {"text": "".join(getattr(content, "text", "") for content in result.contents)}

    await step("resources/read", {"uri": "interop://about"}, read_resource)

    async def get_prompt() -> dict[str, Any]:
        result = await client.get_prompt("greet", {"name": ELICITED_NAME})
        return {"text": "\n".join(text_of([message.content]) for message in result.messages)}

    await step("prompts/get", {"prompt": "greet"}, get_prompt)


def main() -> None:
    arguments = sys.argv[1:]
    era = "auto"
    if arguments[:1] == ["--era"]:
        era = arguments[1] if len(arguments) > 1 else ""
        arguments = arguments[2:]
    if era not in ("auto", "modern", "legacy") or not arguments or (arguments[0] == "--http" and len(arguments) != 2):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    target: str | StdioServerParameters
    if arguments[0] == "--http":
        target = arguments[1]
    else:
        target = StdioServerParameters(command=arguments[0], args=arguments[1:])
    anyio.run(run, era, target)
    if failures:
        emit({"step": "failed", "failures": failures})
        sys.exit(1)
    emit({"step": "ok"})


if __name__ == "__main__":
    main()
