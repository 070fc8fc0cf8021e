"""A small MCP client over Streamable HTTP for the conformance suite's own tests of client mode.

Run as `python3 http_client.py FLAW URL`, with `MCP_CONFORMANCE_SCENARIO` set to `initialize` or
`tools_call`, as the suite runs a client: with `sound` it follows the rules of the lifecycle and
the transport; any other flaw breaks one of them, so that the suite's checks are seen to fail.
"""

import json
import os
import sys
import urllib.request

FLAW = sys.argv[1] if len(sys.argv) > 2 else "sound"
URL = sys.argv[-1]
SCENARIO = os.environ.get("MCP_CONFORMANCE_SCENARIO", "")
VERSION = os.environ.get("MCP_CONFORMANCE_PROTOCOL_VERSION", "2025-11-25")
state = {"version": None, "session": None, "next_id": 1}


def post(message):
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
    }
    if FLAW == "json-only":
        headers["Accept"] = "application/json"
    if state["version"] and FLAW != "no-version-header":
        headers["MCP-Protocol-Version"] = state["version"]
    if state["session"]:
        headers["Mcp-Session-Id"] = state["session"]
    body = json.dumps(message).encode()
    request = urllib.request.Request(URL, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        session = response.headers.get("Mcp-Session-Id")
        if session:
            state["session"] = session
        text = response.read(1024 * 1024).decode()
        if response.headers.get("Content-Type", "").startswith("text/event-stream"):
            for line in text.splitlines():
                if line.startswith("data:") and line[5:].strip():
                    return json.loads(line[5:])
            return None
        return json.loads(text) if text else None


def request(method, params):
    ident = state["next_id"]
    if FLAW != "reused-id":
        state["next_id"] += 1
    answer = post({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
    if answer is None or "result" not in answer:
        raise RuntimeError(f"{method}: {answer}")
    return answer["result"]


def main():
    result = request("initialize", {
        "protocolVersion": VERSION,
        "capabilities": {},
        "clientInfo": {"name": "http-client-" + FLAW, "version": "1.0.0"},
    })
    state["version"] = result["protocolVersion"]
    if FLAW != "no-initialized":
        post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    tools = request("tools/list", {})["tools"]
    if SCENARIO == "tools_call":
        for tool in tools:
            if tool["name"] == "add_numbers":
                request("tools/call", {"name": "add_numbers", "arguments": {"a": 5, "b": 3}})
    elif SCENARIO != "initialize":
        sys.stderr.write(f"http_client.py: unknown scenario `{SCENARIO}`\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
