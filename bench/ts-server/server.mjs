// The official TypeScript SDK's Streamable HTTP server with 50 trivial tools,
// stateless (a fresh Server + transport per request, as the SDK documents for
// stateless mode), JSON responses. Started on loopback by bench/run.sh.
import http from "node:http";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { ListToolsRequestSchema, CallToolRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const port = Number(process.env.PORT || 18790);
const tools = Array.from({ length: 50 }, (_, i) => ({
  name: `bench__tool_${String(i).padStart(2, "0")}`,
  description: `Trivial benchmark tool number ${i}: echoes its text argument.`,
  inputSchema: {
    type: "object",
    properties: { text: { type: "string", description: "text to echo" } },
    required: ["text"],
  },
}));

function makeServer() {
  const s = new Server({ name: "bench-ts", version: "1.0.0" }, { capabilities: { tools: {} } });
  s.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  s.setRequestHandler(CallToolRequestSchema, async (req) => ({
    content: [{ type: "text", text: String(req.params.arguments?.text ?? "") }],
  }));
  return s;
}

http
  .createServer(async (req, res) => {
    if (req.method !== "POST" || req.url !== "/mcp") {
      res.writeHead(405).end();
      return;
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const server = makeServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  })
  .listen(port, "127.0.0.1", () => console.log(`bench-ts listening on 127.0.0.1:${port}`));
