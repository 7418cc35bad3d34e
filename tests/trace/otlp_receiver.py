#!/usr/bin/python3
"""otlp_receiver.py - a small OTLP/HTTP (JSON) trace receiver on loopback for
tests/integration/test_trace.c.

usage: otlp_receiver.py PORT PIDFILE

  POST /v1/traces   an ExportTraceServiceRequest (JSON); its spans are kept
                    (mode "ok": 200 {}; "error": 503; "hang": no answer for
                    60 s, then the connection is closed)
  GET  /spans?trace=<32 hex>[&min=N]   {"spans": [...]} of that trace,
                    each span as received plus "resource" (its resource
                    attributes as a flat object) and flat "attrs"; with min,
                    once it holds N of them or after 20 s (exporters batch)
  GET  /stats       {"requests": n, "spans": n, "mode": m}
  POST /control     {"mode": "ok" | "error" | "hang" | "sink"}
                    ("sink": 200 without parsing or keeping anything, a
                    collector that costs this host nothing: make bench)
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()
ARRIVED = threading.Condition(LOCK)  # notified when spans arrive
STATE = {"mode": "ok", "requests": 0, "spans": []}


def flat(attrs):
    out = {}
    for a in attrs or []:
        v = a.get("value", {})
        for k in ("stringValue", "intValue", "boolValue", "doubleValue"):
            if k in v:
                out[a["key"]] = v[k]
    return out


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urlparse(self.path)
        if u.path == "/spans":
            q = parse_qs(u.query)
            want = q.get("trace", [""])[0]
            least = int(q.get("min", ["0"])[0])

            def of_trace():
                return [s for s in STATE["spans"] if s.get("traceId") == want]
            with LOCK:
                ARRIVED.wait_for(lambda: len(of_trace()) >= least, timeout=20)
                spans = of_trace()
            self.reply(200, {"spans": spans})
        elif u.path == "/stats":
            with LOCK:
                self.reply(200, {"requests": STATE["requests"],
                                 "spans": len(STATE["spans"]), "mode": STATE["mode"]})
        else:
            self.reply(404, {})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path == "/control":
            with LOCK:
                STATE["mode"] = json.loads(body).get("mode", STATE["mode"])
            self.reply(200, {"mode": STATE["mode"]})
            return
        if self.path != "/v1/traces":
            self.reply(404, {})
            return
        with LOCK:
            STATE["requests"] += 1
            mode = STATE["mode"]
        if mode == "hang":
            time.sleep(60)
            self.close_connection = True
            return
        if mode == "error":
            self.reply(503, {})
            return
        if mode == "sink":
            self.reply(200, {})
            return
        if self.headers.get("Content-Type", "") != "application/json":
            self.reply(415, {})
            return
        try:
            doc = json.loads(body)
        except ValueError:
            self.reply(400, {"error": "not JSON"})
            return
        got = []
        for rs in doc.get("resourceSpans", []):
            res = flat(rs.get("resource", {}).get("attributes"))
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    s["resource"] = res
                    s["attrs"] = flat(s.get("attributes"))
                    got.append(s)
        with LOCK:
            STATE["spans"].extend(got)
            del STATE["spans"][:-20000]
            ARRIVED.notify_all()
        self.reply(200, {})


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
    srv.daemon_threads = True
    with open(sys.argv[2], "w") as f:
        f.write(str(os.getpid()))
    srv.serve_forever()


if __name__ == "__main__":
    main()
