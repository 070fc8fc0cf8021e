"""A small MCP server written with the official Python SDK 2.x (MCPServer), serving both eras.

Usage: python interop/py2_server.py              (stdio)
       python interop/py2_server.py --http PORT  (Streamable HTTP on 127.0.0.1:PORT, path /mcp;
                                                  PORT 0 picks a free port)

Run it with the venv of ``interop/requirements-v2.txt``. Over HTTP it prints
``listening on http://127.0.0.1:PORT/mcp`` to stderr once it accepts connections. The era is the
client's choice: over stdio the first request decides it for the connection (an ``initialize``
handshake or a modern request carrying the ``_meta`` envelope); over HTTP each request is
classified on its own (legacy requests get a session, modern ones are served one by one).

It offers the same surface as ``interop/ts2_server.mjs``, so that one test drives either:

- tools: ``echo {text}``, ``add {a, b}``, ``elicit_name`` (form elicitation of ``{name}``),
  ``sample_text {prompt}`` (sampling), ``list_roots`` (roots), ``region_echo {region, text}``
  (``region`` carries ``x-mcp-header: Region``, mirrored as the ``Mcp-Param-Region`` header on
  modern HTTP) and ``trigger_tools_changed`` (sends ``notifications/tools/list_changed``);
- a resource ``interop://about``;
- a prompt ``greet {name}``.

The elicitation, sampling and roots tools ask through ``Resolve(...)`` resolvers: on a modern
request the SDK answers with an ``InputRequiredResult`` and the client retries with
``inputResponses``; on a legacy connection it sends the real server-to-client request.
"""

from __future__ import annotations

import socket
import sys
from typing import Annotated

import anyio
import uvicorn
from mcp.server.mcpserver import (
    AcceptedElicitation,
    Context,
    Elicit,
    ElicitationResult,
    ListRoots,
    MCPServer,
    Resolve,
    Sample,
)
from mcp.types import (
    CreateMessageResult,
    ListRootsResult,
    SamplingMessage,
    TextContent,
    ToolListChangedNotification,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, Field

ABOUT_URI = "interop://about"
ABOUT_TEXT = "An interop peer of mcpwire."

server = MCPServer(
    "py2-interop-server",
    version="0.0.0",
    instructions="A Python SDK 2.x server for mcpwire's interop tests.",
    log_level="WARNING",
)


class Name(BaseModel):
    name: str = Field(description="Your name")


def ask_name() -> Elicit[Name]:
    return Elicit("What is your name?", Name)


def ask_model(prompt: str) -> Sample:
    return Sample([SamplingMessage(role="user", content=TextContent(type="text", text=prompt))], max_tokens=50)


def ask_roots() -> ListRoots:
    return ListRoots()


def format_number(value: float) -> str:
    """Formats a number as JavaScript's `String(number)` does for the values the tests use."""
    return str(int(value)) if value == int(value) else repr(value)


@server.tool()
def echo(text: str) -> str:
    """Echoes `text`."""
    return text


@server.tool()
def add(a: float, b: float) -> str:
    """Adds two numbers."""
    return format_number(a + b)


@server.tool()
def elicit_name(answer: Annotated[ElicitationResult[Name], Resolve(ask_name)]) -> str:
    """Asks the user for their name (form elicitation)."""
    if isinstance(answer, AcceptedElicitation):
        return f"Hello, {answer.data.name}!"
    return answer.action


@server.tool()
def sample_text(prompt: str, reply: Annotated[CreateMessageResult, Resolve(ask_model)]) -> str:
    """Asks the client's model to answer `prompt` (sampling)."""
    blocks = reply.content if isinstance(reply.content, list) else [reply.content]
    text = "".join(block.text if isinstance(block, TextContent) else f"[{block.type}]" for block in blocks)
    return f"{reply.model}: {text}"


@server.tool()
def list_roots(roots: Annotated[ListRootsResult, Resolve(ask_roots)]) -> str:
    """Lists the client's roots."""
    return "\n".join(str(root.uri) for root in roots.roots)


@server.tool()
def region_echo(region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})], text: str) -> str:
    """Echoes `text` prefixed with `region`, which travels as the Mcp-Param-Region header."""
    return f"{region}: {text}"


@server.tool()
async def trigger_tools_changed(ctx: Context) -> str:
    """Sends notifications/tools/list_changed (the list itself stays the same)."""
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        # Delivered on the client's `subscriptions/listen` streams.
        await ctx.notify_tools_changed()
    else:
        # Related to this request, so that it rides this request's response stream over HTTP.
        await ctx.session.send_notification(ToolListChangedNotification(), related_request_id=ctx.request_id)
    return "tools changed"


@server.resource(ABOUT_URI, name="about", description="What this server is", mime_type="text/plain")
def about() -> str:
    return ABOUT_TEXT


@server.prompt()
def greet(name: str) -> str:
    """Asks for a greeting."""
    return f"Say hello to {name}."


async def serve_http(port: int) -> None:
    # Bind first, so that the printed URL names the port really listened on (PORT 0).
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    app = server.streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    http_server = uvicorn.Server(config)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/mcp"

    async def announce() -> None:
        while not http_server.started:
            await anyio.sleep(0.01)
        print(f"listening on {url}", file=sys.stderr, flush=True)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(announce)
        await http_server.serve(sockets=[listener])


def main() -> None:
    arguments = sys.argv[1:]
    if not arguments:
        server.run("stdio")
    elif len(arguments) == 2 and arguments[0] == "--http" and arguments[1].isdigit():
        anyio.run(serve_http, int(arguments[1]))
    else:
        print("usage: python py2_server.py [--http PORT]", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
