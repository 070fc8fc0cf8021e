"""A small MCP server written with the official Python SDK (FastMCP), served over stdio.

Usage: python interop/py_server.py            (stdio)
       python interop/py_server.py --http PORT  (Streamable HTTP on 127.0.0.1:PORT, path /mcp)

mcpwire's interop tests drive it with mcpwire's client. It offers:

- tools: ``add`` (structured output), ``describe_point`` (structured output from a model),
  ``slow_count`` (progress and logging), ``ask_color`` (elicitation), ``summarize``
  (sampling) and ``list_roots`` (roots);
- a resource ``py://about`` and a resource template ``py://greeting/{name}`` with completion;
- a prompt ``greet`` with a required and an optional argument, with completion.
"""

import sys

from mcp.server.fastmcp import Context, FastMCP
from mcp.types import (
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
    SamplingMessage,
    TextContent,
)
from pydantic import BaseModel, Field

server = FastMCP("py-interop-server", instructions="A Python SDK server for mcpwire's interop tests.")

NAMES = ["Ada", "Alan", "Grace"]
STYLES = ["formal", "friendly"]


class Point(BaseModel):
    """A point and its distance from the origin."""

    x: float
    y: float
    distance: float = Field(description="Euclidean distance from the origin")


class Color(BaseModel):
    color: str = Field(description="Your favourite colour")


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


@server.tool()
def describe_point(x: float, y: float) -> Point:
    """Describes a point in the plane."""
    return Point(x=x, y=y, distance=(x * x + y * y) ** 0.5)


@server.tool()
async def slow_count(steps: int, ctx: Context) -> str:
    """Counts to `steps`, reporting progress and logging each step."""
    for step in range(1, min(steps, 20) + 1):
        await ctx.report_progress(step, steps, f"step {step}")
        await ctx.info(f"counted {step}")
    return f"counted to {steps}"


@server.tool()
async def ask_color(ctx: Context) -> str:
    """Asks the user for their favourite colour (elicitation)."""
    answer = await ctx.elicit("What is your favourite colour?", schema=Color)
    if answer.action == "accept":
        return f"accepted: {answer.data.color}"
    return answer.action


@server.tool()
async def summarize(text: str, ctx: Context) -> str:
    """Asks the client's model to summarize `text` (sampling)."""
    result = await ctx.session.create_message(
        messages=[SamplingMessage(role="user", content=TextContent(type="text", text=f"Summarize: {text}"))],
        max_tokens=50,
        system_prompt="You summarize briefly.",
    )
    content = result.content
    summary = content.text if isinstance(content, TextContent) else repr(content)
    return f"{result.model}: {summary}"


@server.tool()
async def list_roots(ctx: Context) -> str:
    """Lists the client's roots."""
    roots = await ctx.session.list_roots()
    return "\n".join(str(root.uri) for root in roots.roots)


@server.resource("py://about", mime_type="text/plain", description="What this server is")
def about() -> str:
    return "A Python SDK server."


@server.resource("py://greeting/{name}", mime_type="text/plain", description="A greeting for anyone")
def greeting(name: str) -> str:
    return f"Hi, {name}!"


@server.prompt()
def greet(name: str, style: str = "friendly") -> str:
    """Asks for a greeting."""
    return f"Write a {style} greeting for {name}."


@server.completion()
async def complete(
    ref: PromptReference | ResourceTemplateReference,
    argument: CompletionArgument,
    context: CompletionContext | None,
) -> Completion | None:
    if isinstance(ref, ResourceTemplateReference) and argument.name == "name":
        candidates = NAMES
    elif isinstance(ref, PromptReference) and argument.name == "style":
        candidates = STYLES
    else:
        return None
    return Completion(values=[value for value in candidates if value.startswith(argument.value)])


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if not arguments:
        server.run("stdio")
    elif len(arguments) == 2 and arguments[0] == "--http" and arguments[1].isdigit():
        server.settings.host = "127.0.0.1"
        server.settings.port = int(arguments[1])
        server.run("streamable-http")
    else:
        print("usage: python py_server.py [--http PORT]", file=sys.stderr)
        sys.exit(2)
