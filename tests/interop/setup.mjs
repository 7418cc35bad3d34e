// setup.mjs - creates the conformance fixture tools over REST (as admin):
// a server "conformance" with an empty tool prefix, the tools the MCP
// conformance scenarios call by exact name, submitted, approved, started.
// Prints an API key for the SDK client on stdout.
const base = process.env.TG_BASE_URL;
const j = (r) => r.text().then((t) => { try { return JSON.parse(t); } catch { return t; } });
async function api(method, path, token, body) {
  const r = await fetch(base + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const b = await j(r);
  if (!r.ok) throw new Error(`${method} ${path} -> ${r.status} ${JSON.stringify(b)}`);
  return b;
}
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=';
const tools = [
  // Listed first (tools/list is ordered by name): conformance 0.2
  // http-header-validation calls the first tool with empty arguments, which
  // json_schema_2020_12_tool's schema rejects.
  ['aa_no_arguments', 'Takes no arguments', "def main():\n    return 'ok'\n"],
  ['test_simple_text', 'Returns simple text', "def main():\n    return 'This is a simple text response for testing.'\n"],
  ['test_error_handling', 'Always raises', "def main():\n    raise Exception('This tool intentionally returns an error for testing')\n"],
  ['test_image_content', 'Returns an image', `def main():\n    return [{'type': 'image', 'data': '${PNG}', 'mimeType': 'image/png'}]\n`],
  ['test_audio_content', 'Returns audio', `def main():\n    return [{'type': 'audio', 'data': '${WAV}', 'mimeType': 'audio/wav'}]\n`],
  ['test_embedded_resource', 'Returns an embedded resource', "def main():\n    return [{'type': 'resource', 'resource': {'uri': 'test://embedded-resource', 'mimeType': 'text/plain', 'text': 'This is an embedded resource content.'}}]\n"],
  ['test_multiple_content_types', 'Returns mixed content', `def main():\n    return [{'type': 'text', 'text': 'Multiple content types test:'}, {'type': 'image', 'data': '${PNG}', 'mimeType': 'image/png'}, {'type': 'resource', 'resource': {'uri': 'test://mixed-content-resource', 'mimeType': 'application/json', 'text': '{"test": "data", "value": 123}'}}]\n`],
  ['test_tool_with_logging', 'Sends three log messages while it runs', "import time\nimport toolgate\ndef main():\n    toolgate.log('info', 'Tool execution started')\n    time.sleep(0.05)\n    toolgate.log('info', 'Tool processing data')\n    time.sleep(0.05)\n    toolgate.log('info', 'Tool execution completed')\n    return 'Tool with logging executed successfully'\n"],
  ['test_tool_with_progress', 'Reports progress 0, 50, 100 of 100', "import time\nimport toolgate\ndef main():\n    toolgate.progress(0, 100)\n    time.sleep(0.05)\n    toolgate.progress(50, 100)\n    time.sleep(0.05)\n    toolgate.progress(100, 100)\n    return 'Tool with progress executed successfully'\n"],
  // 2025 server-sse-polling (SEP-1699) calls it by name: a log message makes
  // the response an SSE stream, which opens with the priming event (id, empty
  // data) and retry:. toolgate never closes a tool call's stream before its
  // result (docs/mcp.md "Resumability"), so the result arrives on that stream.
  ['test_reconnection', 'Logs once, then answers on the same SSE stream', "import time\nimport toolgate\ndef main():\n    toolgate.log('info', 'reconnection test started')\n    time.sleep(0.1)\n    return 'Reconnection test completed'\n"],
  // 2026-07-28 server-stateless: a call without _meta logLevel must not log.
  ['test_logging_tool', 'Logs while it runs (only sent when the request asks for a level)', "import toolgate\ndef main():\n    toolgate.log('info', 'logging tool ran')\n    return 'logged'\n"],
  // The schema of conformance 0.2 (SEP-1613 and SEP-2106: $anchor, allOf/anyOf,
  // if/then/else), a superset of what 0.1.16 checks.
  ['json_schema_2020_12_tool', 'Tool with JSON Schema 2020-12 features', "def main(name: str = '', address: dict = None, contactMethod: str = '', phone: str = '', email: str = ''):\n    return {'name': name, 'address': address}\n", {
    $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object',
    $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
    properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' }, contactMethod: { type: 'string', enum: ['phone', 'email'] }, phone: { type: 'string' }, email: { type: 'string' } },
    allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
    if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
    then: { required: ['phone'] },
    else: { required: ['email'] },
    additionalProperties: false,
  }],
];
// JSON with sorted keys, to compare a stored schema with the wanted one.
const canon = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x));
const login = await api('POST', '/api/v1/auth/login', null, { username: process.env.TG_ADMIN_USER, password: process.env.TG_ADMIN_PASSWORD });
const tok = login.access_token;
let srv = (await api('GET', '/api/v1/servers?limit=200', tok)).items.find((s) => s.name === 'conformance');
if (!srv) srv = await api('POST', '/api/v1/servers', tok, { name: 'conformance', description: 'MCP conformance fixtures', tool_prefix: '' });
const have = (await api('GET', `/api/v1/servers/${srv.id}/tools?limit=200`, tok)).items;
for (const [name, description, code, input_schema] of tools) {
  let t = have.find((x) => x.name === name);
  if (!t) t = await api('POST', `/api/v1/servers/${srv.id}/tools`, tok, { name, description, code, ...(input_schema ? { input_schema } : {}) });
  else if (input_schema && canon(t.input_schema) !== canon(input_schema)) // fixtures of an older run
    t = await api('PATCH', `/api/v1/tools/${t.id}`, tok, { code, input_schema, change_summary: 'conformance fixture update' });
  if (t.status === 'draft' || t.status === 'rejected') t = await api('POST', `/api/v1/tools/${t.id}/submit`, tok, {});
  if (t.status === 'pending_review') await api('POST', `/api/v1/tools/${t.id}/approve`, tok, { version: t.current_version });
}
if (srv.status !== 'running') await api('POST', `/api/v1/servers/${srv.id}/start`, tok, {});
const key = await api('POST', '/api/v1/api-keys', tok, { name: `interop-${Date.now()}`, role: 'admin' });
process.stdout.write(key.key + '\n');
