-- wrk script: POST one JSON-RPC request to /mcp (or any URL) with the headers
-- given in the environment, e.g.
--   BENCH_BODY='{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
--   BENCH_HEADERS='Authorization: Bearer tgk_...|Mcp-Session-Id: ...|MCP-Protocol-Version: 2025-11-25'
-- Non-2xx responses are counted by wrk as errors ("Non-2xx or 3xx responses").
wrk.method = os.getenv("BENCH_METHOD") or "POST"
if wrk.method == "POST" then
  wrk.body = os.getenv("BENCH_BODY") or '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
end
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
local extra = os.getenv("BENCH_HEADERS") or ""
for pair in string.gmatch(extra, "[^|]+") do
  local k, v = string.match(pair, "^%s*([^:]+):%s*(.*)$")
  if k then wrk.headers[k] = v end
end

done = function(summary, latency, requests)
  io.write(string.format("BENCH rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f errors=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
