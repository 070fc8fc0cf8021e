"""A small MCP server over stdio for the conformance suite's own tests of its stdio checks.

Run as `python3 stdio_server.py FLAW`: with `sound` it follows the stdio transport's rules;
any other flaw breaks one of them, so that each stdio check is seen to fail.
"""

import json
import sys
import time

FLAW = sys.argv[1] if len(sys.argv) > 1 else "sound"
held = []


def send(message):
    if FLAW == "pretty":
        text = json.dumps(message, indent=2)
    else:
        text = json.dumps(message)
    if FLAW == "two-per-line" and message.get("id") == 2:
        held.append(text)
        return
    if held:
        text = held.pop() + " " + text
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def answer(request):
    method = request.get("method")
    ident = request.get("id")
    if method == "initialize":
        version = request.get("params", {}).get("protocolVersion", "2025-11-25")
        send({"jsonrpc": "2.0", "id": ident, "result": {
            "protocolVersion": version,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "stdio-" + FLAW, "version": "1.0.0"},
        }})
        if FLAW == "early-request":
            send({"jsonrpc": "2.0", "id": "s1", "method": "roots/list"})
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": ident, "result": {}})
    elif method == "tools/list":
        if FLAW == "drops-pipelined":
            return
        send({"jsonrpc": "2.0", "id": ident, "result": {"tools": []}})
    else:
        send({"jsonrpc": "2.0", "id": ident,
              "error": {"code": -32601, "message": "Method not found"}})


def main():
    if FLAW == "log-on-stdout":
        sys.stdout.write("server starting\n")
        sys.stdout.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
        except ValueError:
            send({"jsonrpc": "2.0", "id": None,
                  "error": {"code": -32700, "message": "Parse error"}})
            continue
        if isinstance(message, dict) and "method" in message and "id" in message:
            answer(message)
    if FLAW == "ignores-eof":
        time.sleep(10)


main()
