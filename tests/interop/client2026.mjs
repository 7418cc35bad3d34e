// client2026.mjs - the official TypeScript SDK v2 client
// (@modelcontextprotocol/client, 2026-07-28) against toolgate through nginx,
// stateless: server/discover at connect (version pinned to 2026-07-28, and
// once more with 'auto' negotiation), tools/list, tools/call of the
// conformance fixture tools (text, error, progress, logging on request), an
// unknown tool; subscriptions/listen (held by toolgate's stream process:
// acknowledged, then notifications/tools/list_changed when a server start
// over REST makes an approved tool visible); every POST is watched on the wire (MCP-Protocol-Version,
// Mcp-Method, Mcp-Name, no Mcp-Session-Id either way). A 2025-11-25 session of
// the v1 SDK stays open throughout and is used before and after, to show
// both eras served side by side. Prints "ok <step>" / "FAIL <step>: why" and
// a last line "N passed, N failed".
import { Client, StreamableHTTPClientTransport, LOG_LEVEL_META_KEY } from '@modelcontextprotocol/client';
import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as Transport1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const V = '2026-07-28';
const base = process.env.TG_BASE_URL, key = process.env.TG_API_KEY;
const auth = { Authorization: `Bearer ${key}` };
let passed = 0, failed = 0;
async function step(name, fn) {
  try { await fn(); passed++; console.log(`ok ${name}`); }
  catch (e) { failed++; console.log(`FAIL ${name}: ${e && e.message ? e.message : e}`); }
}
function check(c, msg) { if (!c) throw new Error(msg); }

// The wire: every request and response header set the v2 client exchanges.
const wire = [];
async function watched(url, init) {
  const h = new Headers(init && init.headers);
  const body = init && typeof init.body === 'string' ? JSON.parse(init.body) : null;
  const res = await fetch(url, init);
  wire.push({ method: (init && init.method) || 'GET', h, body, status: res.status, rh: res.headers });
  return res;
}
function modern(opts) {
  const client = new Client({ name: 'toolgate-interop-2026', version: '1.0.0' }, { versionNegotiation: opts });
  const transport = new StreamableHTTPClientTransport(new URL(base + '/mcp'), { requestInit: { headers: auth }, fetch: watched });
  return { client, transport };
}

// A 2025-era session, open before the modern client connects.
const old = new Client1({ name: 'toolgate-interop-2025', version: '1.0.0' });
const oldT = new Transport1(new URL(base + '/mcp'), { requestInit: { headers: auth } });
await step('2025-11-25 session opened (v1 SDK)', async () => {
  await old.connect(oldT);
  check(oldT.sessionId && oldT.sessionId.length === 64, 'no session id');
  check(oldT.protocolVersion === '2025-11-25', 'negotiated ' + oldT.protocolVersion);
});

const { client, transport } = modern({ mode: { pin: V } });
await step('connect: server/discover, pinned to 2026-07-28', async () => {
  await client.connect(transport);
  check(client.getNegotiatedProtocolVersion() === V, 'negotiated ' + client.getNegotiatedProtocolVersion());
  const d = client.getDiscoverResult();
  check(d && d.supportedVersions.includes(V) && d.supportedVersions.includes('2025-11-25'), 'supportedVersions ' + JSON.stringify(d && d.supportedVersions));
  check(d.capabilities && d.capabilities.tools, 'no tools capability');
  check(client.getServerVersion()?.name === 'toolgate', 'serverInfo ' + JSON.stringify(client.getServerVersion()));
  check(wire.length === 1 && wire[0].body.method === 'server/discover', 'connect sent ' + wire.map((w) => w.body && w.body.method).join(','));
  check(!wire.some((w) => w.body && w.body.method === 'initialize'), 'initialize sent');
});
let tools = [];
await step('tools/list', async () => {
  const r = await client.listTools();
  tools = r.tools.map((t) => t.name);
  for (const n of ['test_simple_text', 'test_error_handling', 'test_tool_with_progress', 'test_tool_with_logging'])
    check(tools.includes(n), `${n} not listed: ${tools.join(',')}`);
  const w = wire.findLast((x) => x.body && x.body.method === 'tools/list');
  check(w && w.status === 200, 'tools/list not on the wire');
});
await step('tools/call test_simple_text', async () => {
  const r = await client.callTool({ name: 'test_simple_text', arguments: {} });
  check(!r.isError && r.content[0].type === 'text' && r.content[0].text === 'This is a simple text response for testing.', JSON.stringify(r));
  const w = wire.findLast((x) => x.body && x.body.method === 'tools/call');
  check(w.h.get('mcp-name') === 'test_simple_text', 'Mcp-Name ' + w.h.get('mcp-name'));
});
await step('tools/call of a failing tool: isError', async () => {
  const r = await client.callTool({ name: 'test_error_handling', arguments: {} });
  check(r.isError === true, JSON.stringify(r));
});
await step('tools/call with progress (SSE)', async () => {
  const seen = [];
  const r = await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, { onprogress: (p) => seen.push(p.progress) });
  check(!r.isError, JSON.stringify(r));
  check(seen.join(',') === '0,50,100', 'progress ' + seen.join(','));
});
await step('logging only when the request asks for a level', async () => {
  const logs = [];
  client.setNotificationHandler('notifications/message', (n) => { logs.push(n.params.data); });
  await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
  check(logs.length === 0, 'logged without logLevel: ' + JSON.stringify(logs));
  await client.callTool({ name: 'test_tool_with_logging', arguments: {}, _meta: { [LOG_LEVEL_META_KEY]: 'info' } });
  check(logs.length === 3, 'with logLevel info: ' + JSON.stringify(logs));
});
await step('unknown tool: -32602', async () => {
  let code;
  try { await client.callTool({ name: 'no_such_tool_i26', arguments: {} }); } catch (e) { code = e.code; }
  check(code === -32602, 'code ' + code);
});
await step('every POST stateless (headers on the wire)', async () => {
  check(wire.length >= 8, 'only ' + wire.length + ' requests');
  for (const w of wire) {
    check(w.method === 'POST', w.method + ' sent');
    check(w.h.get('mcp-protocol-version') === V, 'MCP-Protocol-Version ' + w.h.get('mcp-protocol-version'));
    check(w.h.get('mcp-method') === w.body.method, `Mcp-Method ${w.h.get('mcp-method')} for ${w.body.method}`);
    check(w.body.params && w.body.params._meta && w.body.params._meta['io.modelcontextprotocol/protocolVersion'] === V, '_meta version missing');
    check(!w.h.has('mcp-session-id') && !w.rh.has('mcp-session-id'), 'Mcp-Session-Id on the wire');
  }
});
async function rest(method, path, body) {
  const r = await fetch(base + path, { method, headers: { 'Content-Type': 'application/json', ...auth }, body: body ? JSON.stringify(body) : undefined });
  const t = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} -> ${r.status} ${t}`);
  return JSON.parse(t);
}
await step('subscriptions/listen: acknowledged, list_changed on a server start over REST', async () => {
  const srv = await rest('POST', '/api/v1/servers', { name: `listen${Date.now() % 100000000}` });
  const t = await rest('POST', `/api/v1/servers/${srv.id}/tools`, { name: 'echo', description: 'Echo', code: 'def main(x: str = "") -> str:\n    return x\n' });
  await rest('POST', `/api/v1/tools/${t.id}/submit`, {});
  await rest('POST', `/api/v1/tools/${t.id}/approve`, { version: t.current_version || 1 });
  const seen = [];
  client.setNotificationHandler('notifications/tools/list_changed', (n) => { seen.push(n); });
  const sub = await client.listen({ toolsListChanged: true, promptsListChanged: true });
  check(sub.honoredFilter && sub.honoredFilter.toolsListChanged === true, 'honored: ' + JSON.stringify(sub.honoredFilter));
  check(!sub.honoredFilter.promptsListChanged, 'prompts are not served, yet honored');
  const t0 = Date.now();
  await rest('POST', `/api/v1/servers/${srv.id}/start`, {});
  while (seen.length === 0 && Date.now() - t0 < 15000) await new Promise((r) => setTimeout(r, 20));
  check(seen.length > 0, 'no notifications/tools/list_changed within 15 s of the start');
  console.log(`  list_changed ${Date.now() - t0} ms after the start request was sent`);
  await sub.close();
  check((await sub.closed) === 'local', 'closed');
  const listenPost = wire.find((w) => w.body && w.body.method === 'subscriptions/listen');
  check(listenPost && listenPost.h.get('mcp-method') === 'subscriptions/listen', 'listen POST headers');
});
await step('close', async () => { await client.close(); });

await step("'auto' negotiation picks 2026-07-28", async () => {
  const m = modern({ mode: 'auto' });
  await m.client.connect(m.transport);
  check(m.client.getNegotiatedProtocolVersion() === V, 'negotiated ' + m.client.getNegotiatedProtocolVersion());
  const r = await m.client.callTool({ name: 'test_simple_text', arguments: {} });
  check(!r.isError, JSON.stringify(r));
  await m.client.close();
});

await step('the 2025-11-25 session still works', async () => {
  await old.ping();
  const r = await old.callTool({ name: 'test_simple_text', arguments: {} });
  check(!r.isError && r.content[0].text === 'This is a simple text response for testing.', JSON.stringify(r));
  await oldT.terminateSession();
  await old.close();
});
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
