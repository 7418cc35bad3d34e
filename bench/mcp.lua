-- wrk script: POST one JSON-RPC request to /mcp (or any URL) with the headers
-- given in the environment, e.g.
--   BENCH_BODY='{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
--   BENCH_HEADERS='Authorization: Bearer tgk_...|Mcp-Session-Id: ...|MCP-Protocol-Version: 2025-11-25'
-- Non-2xx responses are counted by wrk as errors ("Non-2xx or 3xx responses").
-- With BENCH_TOOL_ERRORS=1 a 200 whose body is a tool error ("isError":true,
-- e.g. "every tool slot is busy") or has no "result" counts as an error too.
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

local threads = {}
local check = os.getenv("BENCH_TOOL_ERRORS") == "1"

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  tool_errors = 0
end

if check then
  function response(status, headers, body)
    if status == 200 and (string.find(body, '"isError":true', 1, true) or
        not string.find(body, '"result"', 1, true)) then
      tool_errors = tool_errors + 1
    end
  end
end

done = function(summary, latency, requests)
  local terr = 0
  for _, t in ipairs(threads) do
    terr = terr + (t:get("tool_errors") or 0)
  end
  io.write(string.format("BENCH rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f errors=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout + terr,
    summary.requests))
end
