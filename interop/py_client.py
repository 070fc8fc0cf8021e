"""Drives an MCP server over stdio or Streamable HTTP with the official Python SDK's client.

Usage: python interop/py_client.py <server program> [args...]
       python interop/py_client.py --http <server URL>

It declares sampling, elicitation and roots, answers those requests with fixed values, lists
and calls every tool, reads every resource and one templated URI, gets every prompt, asks for
completions, and prints a JSON summary of everything it saw to stdout. It exits with status 1
when any step failed (the summary's ``failures`` says which). mcpwire's interop tests run it
against the ``everything`` example.
"""

import json
import re
import sys
import traceback
from datetime import timedelta
from typing import Any

import anyio
import mcp.types as types
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import McpError
from pydantic import AnyUrl

# Arguments for the tools of mcpwire's `everything` example; other tools get none.
TOOL_ARGUMENTS: dict[str, dict[str, Any]] = {
    "add": {"a": 2, "b": 3.5},
    "count_down": {"steps": 3},
}
# Arguments for the prompts of the `everything` example; other prompts get their required
# arguments filled with "example".
PROMPT_ARGUMENTS: dict[str, dict[str, str]] = {
    "review_code": {"code": "fn main() {}", "language": "rust"},
}
TEMPLATED_URI = "mcpwire://greeting/Ada"
ROOT = types.Root(uri=AnyUrl("file:///interop/workspace"), name="interop workspace")
REQUEST_TIMEOUT = timedelta(seconds=30)
OVERALL_TIMEOUT_SECONDS = 90


def dump(model: Any) -> Any:
    """A pydantic model as the JSON it was sent as."""
    if model is None:
        return None
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


class Summary:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {
            "sdk": "python",
            "failures": [],
            "handled": {"sampling": [], "elicitation": [], "roots": 0},
            "logs": [],
            "tools": {},
            "resources": {},
            "templated": None,
            "prompts": {},
            "completions": {},
        }

    async def attempt(self, what: str, action: Any) -> Any:
        try:
            return await action()
        except Exception:  # Every failure is recorded, and the run goes on.
            self.data["failures"].append(f"{what}: {traceback.format_exc()}")
            return None


async def run(program: str, arguments: list[str]) -> dict[str, Any]:
    summary = Summary()
    data = summary.data

    async def sampling(context: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        data["handled"]["sampling"].append(dump(params))
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="Ownership is clear; / lifetimes end where scopes end; / no data races here."),
            model="py-interop-model",
            stopReason="endTurn",
        )

    async def elicitation(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        data["handled"]["elicitation"].append(dump(params))
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    async def list_roots(context: Any) -> types.ListRootsResult:
        data["handled"]["roots"] += 1
        return types.ListRootsResult(roots=[ROOT])

    async def logging(params: types.LoggingMessageNotificationParams) -> None:
        data["logs"].append(dump(params))

    async def on_message(message: Any) -> None:
        # The session hands its errors outside any request here, such as an invalid message.
        if isinstance(message, Exception):
            data["failures"].append(f"protocol error: {message!r}")

    if program == "--http":
        connection = streamable_http_client(arguments[0])
    else:
        connection = stdio_client(StdioServerParameters(command=program, args=arguments))
    async with connection as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(
            read,
            write,
            read_timeout_seconds=REQUEST_TIMEOUT,
            sampling_callback=sampling,
            elicitation_callback=elicitation,
            list_roots_callback=list_roots,
            logging_callback=logging,
            message_handler=on_message,
            client_info=types.Implementation(name="mcpwire-interop-py", version="0.0.0"),
        ) as session:
            initialized = await session.initialize()
            data["protocolVersion"] = initialized.protocolVersion
            data["serverInfo"] = dump(initialized.serverInfo)
            data["serverCapabilities"] = dump(initialized.capabilities)
            data["instructions"] = initialized.instructions

            await summary.attempt("ping", session.send_ping)
            await summary.attempt("logging/setLevel", lambda: session.set_logging_level("debug"))

            listed = await summary.attempt("tools/list", session.list_tools)
            tools = listed.tools if listed else []
            data["toolList"] = [dump(tool) for tool in tools]
            for tool in tools:
                progress: list[dict[str, Any]] = []

                async def on_progress(value: float, total: float | None, message: str | None) -> None:
                    progress.append({"progress": value, "total": total, "message": message})

                result = await summary.attempt(
                    f"tools/call {tool.name}",
                    lambda tool=tool, on_progress=on_progress: session.call_tool(
                        tool.name, TOOL_ARGUMENTS.get(tool.name, {}), progress_callback=on_progress
                    ),
                )
                if result is not None and result.isError:
                    data["failures"].append(f"tools/call {tool.name} returned a tool error: {dump(result)}")
                data["tools"][tool.name] = {"result": dump(result), "progress": progress}

            # Errors as each side of the spec expects them: an unknown tool and a missing
            # resource are JSON-RPC errors, invalid arguments a tool execution error.
            async def expect_error(what: str, action: Any) -> dict[str, Any] | None:
                try:
                    await action()
                except McpError as error:
                    return dump(error.error)
                data["failures"].append(f"{what} succeeded although it should have failed")
                return None

            data["errors"] = {
                "unknownTool": await expect_error(
                    "tools/call no_such_tool", lambda: session.call_tool("no_such_tool", {})
                ),
                "missingResource": await expect_error(
                    "resources/read mcpwire://missing", lambda: session.read_resource(AnyUrl("mcpwire://missing"))
                ),
                "invalidArguments": dump(
                    await summary.attempt(
                        "tools/call add with invalid arguments",
                        lambda: session.call_tool("add", {"a": "two", "b": 3}),
                    )
                ),
            }
            if initialized.capabilities.resources and initialized.capabilities.resources.subscribe:
                await summary.attempt("resources/subscribe", lambda: session.subscribe_resource(AnyUrl("mcpwire://readme")))
                await summary.attempt(
                    "resources/unsubscribe", lambda: session.unsubscribe_resource(AnyUrl("mcpwire://readme"))
                )

            listed = await summary.attempt("resources/list", session.list_resources)
            resources = listed.resources if listed else []
            data["resourceList"] = [dump(resource) for resource in resources]
            for resource in resources:
                data["resources"][str(resource.uri)] = dump(
                    await summary.attempt(
                        f"resources/read {resource.uri}",
                        lambda resource=resource: session.read_resource(resource.uri),
                    )
                )
            listed = await summary.attempt("resources/templates/list", session.list_resource_templates)
            templates = listed.resourceTemplates if listed else []
            data["templateList"] = [dump(template) for template in templates]
            data["templated"] = dump(
                await summary.attempt(
                    f"resources/read {TEMPLATED_URI}", lambda: session.read_resource(AnyUrl(TEMPLATED_URI))
                )
            )

            listed = await summary.attempt("prompts/list", session.list_prompts)
            prompts = listed.prompts if listed else []
            data["promptList"] = [dump(prompt) for prompt in prompts]
            for prompt in prompts:
                fallback = {argument.name: "example" for argument in prompt.arguments or [] if argument.required}
                data["prompts"][prompt.name] = dump(
                    await summary.attempt(
                        f"prompts/get {prompt.name}",
                        lambda prompt=prompt, fallback=fallback: session.get_prompt(
                            prompt.name, PROMPT_ARGUMENTS.get(prompt.name, fallback)
                        ),
                    )
                )

            if initialized.capabilities.completions is not None:
                for template in templates:
                    variable = re.search(r"\{[+#./;?&]?([A-Za-z0-9_]+)", template.uriTemplate)
                    if variable:
                        reference = types.ResourceTemplateReference(type="ref/resource", uri=template.uriTemplate)
                        data["completions"][template.uriTemplate] = dump(
                            await summary.attempt(
                                f"completion/complete {template.uriTemplate}",
                                lambda reference=reference, name=variable.group(1): session.complete(
                                    reference, {"name": name, "value": "A"}
                                ),
                            )
                        )
                for prompt in prompts:
                    candidates = prompt.arguments or []
                    argument = next((candidate for candidate in candidates if not candidate.required), None)
                    argument = argument or (candidates[0] if candidates else None)
                    if argument:
                        reference = types.PromptReference(type="ref/prompt", name=prompt.name)
                        data["completions"][f"prompt:{prompt.name}"] = dump(
                            await summary.attempt(
                                f"completion/complete prompt {prompt.name}",
                                lambda reference=reference, name=argument.name: session.complete(
                                    reference, {"name": name, "value": "r"}
                                ),
                            )
                        )
    return data


async def main() -> int:
    if len(sys.argv) < 2:
        print("usage: python py_client.py <server program> [args...] | --http <URL>", file=sys.stderr)
        return 2
    with anyio.fail_after(OVERALL_TIMEOUT_SECONDS):
        data = await run(sys.argv[1], sys.argv[2:])
    print(json.dumps(data, indent=2))
    return 0 if not data["failures"] else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))
