// A client of the TypeScript SDK v1 that plays the official conformance suite's core client
// scenarios, the way a conformance client does: the server's URL is the last argument, the
// scenario is `MCP_CONFORMANCE_SCENARIO`, and the exit status says whether it was done. The
// agreement of `cargo xtask conformance` runs it under the official suite and under
// `mcpwire conform client`, to compare their verdicts on a client that is not ours.
//
// Scenarios: `initialize`, `tools_call`, `elicitation-sep1034-client-defaults`, `sse-retry`.
// Any other (the authorization ones) exits 1: this client does no OAuth.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const url = process.argv[process.argv.length - 1];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? "";

async function connect(capabilities = {}) {
  const client = new Client({ name: "ts-conformance-client", version: "1.0.0" }, { capabilities });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport };
}

async function close({ client, transport }) {
  await transport.terminateSession().catch(() => {});
  await client.close();
}

async function run() {
  switch (scenario) {
    case "initialize": {
      const session = await connect();
      await session.client.listTools();
      await close(session);
      return;
    }
    case "tools_call": {
      const session = await connect();
      await session.client.listTools();
      await session.client.callTool({ name: "add_numbers", arguments: { a: 5, b: 3 } });
      await close(session);
      return;
    }
    case "elicitation-sep1034-client-defaults": {
      const session = await connect({ elicitation: { form: { applyDefaults: true } } });
      session.client.setRequestHandler(ElicitRequestSchema, async () => ({
        action: "accept",
        content: {},
      }));
      await session.client.listTools();
      await session.client.callTool({ name: "test_client_elicitation_defaults", arguments: {} });
      await close(session);
      return;
    }
    case "sse-retry": {
      const session = await connect();
      await session.client.listTools();
      await session.client.callTool({ name: "test_reconnection", arguments: {} });
      await close(session);
      return;
    }
    default:
      throw new Error(`scenario ${scenario} is not played by this client`);
  }
}

const limit = setTimeout(() => {
  console.error(`ts-conformance-client: ${scenario} did not finish in time`);
  process.exit(1);
}, 25000);
run().then(
  () => {
    clearTimeout(limit);
    process.exit(0);
  },
  (error) => {
    console.error(`ts-conformance-client: ${error?.message ?? error}`);
    process.exit(1);
  },
);
