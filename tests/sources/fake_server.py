#!/usr/bin/python3
"""fake_server.py - a misbehaving MCP server for tests/integration/test_sources.c.

Listens on 127.0.0.1:<port> (argv[1]). Paths:
  /mcp        a minimal, correct MCP server (initialize, tools/list with one
              tool "t1", tools/call) whose tools/call answer follows the mode
              set with POST /control {"mode": ...}
  /redirect /hang /huge /garbage /badrpc /sse-garbage /sse-noreply
              the mode applied to every request (initialize included)
  /target     where the redirect points; GET /hits counts requests to it
  GET /trace  the traceparent/tracestate headers of the last tools/call
Modes: ok, redirect, hang (never answers), huge (10 MiB without
Content-Length), garbage (not JSON), badrpc (JSON, not a JSON-RPC response),
sse-garbage (an event that is not JSON), sse-noreply (events, never the
response, then close).
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"mode": "ok", "target_hits": 0, "traceparent": "", "tracestate": ""}
TOOL = {"name": "t1", "description": "fake tool",
        "inputSchema": {"type": "object", "properties": {"x": {"type": "string"}}}}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, obj=None, headers=None, raw=None, ctype="application/json"):
        body = raw if raw is not None else (json.dumps(obj).encode() if obj is not None else b"")
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if code != 202 or body:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/hits":
            self.reply(200, {"target": STATE["target_hits"]})
        elif self.path == "/trace":
            # tests/integration/test_trace.c: the W3C Trace Context headers
            # of the last tools/call
            self.reply(200, {"traceparent": STATE["traceparent"],
                             "tracestate": STATE["tracestate"]})
        elif self.path == "/target":
            STATE["target_hits"] += 1
            self.reply(200, {"jsonrpc": "2.0", "id": 1, "result": {}})
        else:
            self.reply(405, {})

    def misbehave(self, mode, msg):
        if mode == "redirect":
            port = self.server.server_address[1]
            self.reply(302, headers={"Location": "http://127.0.0.1:%d/target" % port}, raw=b"")
        elif mode == "hang":
            time.sleep(60)
            self.close_connection = True
        elif mode == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                self.wfile.write(b'{"jsonrpc":"2.0","id":%d,"result":{"content":[{"type":"text","text":"' % msg.get("id", 0))
                chunk = b"x" * 65536
                for _ in range(160):
                    self.wfile.write(chunk)
                self.wfile.write(b'"}]}}')
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif mode == "garbage":
            self.reply(200, raw=b"<html>this is {not json")
        elif mode == "badrpc":
            self.reply(200, {"hello": "world", "id": "nope"})
        elif mode == "sse-garbage":
            self.reply(200, raw=b"event: message\ndata: {broken\n\n", ctype="text/event-stream")
        elif mode == "sse-noreply":
            self.reply(200, raw=b": hi\n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\n\n",
                       ctype="text/event-stream")
        else:
            return False
        return True

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path == "/control":
            ctl = json.loads(body)
            STATE["mode"] = ctl.get("mode", STATE["mode"])
            if "description" in ctl:
                TOOL["description"] = ctl["description"]
            self.reply(200, {"mode": STATE["mode"]})
            return
        if self.path == "/target":
            STATE["target_hits"] += 1
            self.reply(200, {"jsonrpc": "2.0", "id": 1, "result": {}})
            return
        try:
            msg = json.loads(body)
        except ValueError:
            self.reply(400, {})
            return
        method = msg.get("method", "")
        if self.path != "/mcp":
            if self.misbehave(self.path.strip("/"), msg):
                return
            self.reply(404, {})
            return
        if method == "initialize":
            self.reply(200, {"jsonrpc": "2.0", "id": msg["id"], "result": {
                "protocolVersion": msg["params"]["protocolVersion"],
                "capabilities": {"tools": {}}, "serverInfo": {"name": "fake", "version": "1"}}},
                headers={"Mcp-Session-Id": "fake-session-1"})
        elif method.startswith("notifications/"):
            self.reply(202)
        elif self.headers.get("Mcp-Session-Id") != "fake-session-1":
            self.reply(404, {})
        elif method == "tools/list":
            self.reply(200, {"jsonrpc": "2.0", "id": msg["id"], "result": {"tools": [TOOL]}})
        elif method == "ping":
            self.reply(200, {"jsonrpc": "2.0", "id": msg["id"], "result": {}})
        elif method == "tools/call":
            STATE["traceparent"] = self.headers.get("traceparent", "")
            STATE["tracestate"] = self.headers.get("tracestate", "")
            if STATE["mode"] != "ok" and self.misbehave(STATE["mode"], msg):
                return
            x = msg.get("params", {}).get("arguments", {}).get("x", "")
            self.reply(200, {"jsonrpc": "2.0", "id": msg["id"], "result": {
                "content": [{"type": "text", "text": "fake says " + x}]}})
        else:
            self.reply(200, {"jsonrpc": "2.0", "id": msg["id"],
                             "error": {"code": -32601, "message": "Method not found"}})


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
