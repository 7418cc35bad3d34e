"""Tiny local HTTP server for the egress tests (127.0.0.1 only, test use).

Prints its port on stdout, then serves:
  /ok             200 "hello"
  /json           200 {"answer": 42}
  /echo           200 echoes method, a header and the request body as JSON
  /redirect-same  302 -> /ok on the same host and port
  /redirect-other 302 -> http://localhost:<port>/ok (another host name)
  /big            200 with a 6 MiB body
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def _send(self, code, body, ctype="text/plain", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the proxy hangs up on oversized bodies
            pass

    def do_GET(self):
        port = self.server.server_address[1]
        if self.path == "/ok":
            self._send(200, b"hello")
        elif self.path == "/json":
            self._send(200, b'{"answer": 42}', "application/json")
        elif self.path == "/redirect-same":
            self._send(302, b"", extra={"Location": "/ok"})
        elif self.path == "/redirect-other":
            self._send(302, b"", extra={
                "Location": "http://localhost:%d/ok" % port})
        elif self.path == "/big":
            self._send(200, b"x" * (6 * 1024 * 1024))
        else:
            self._send(404, b"no")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        self._send(200, json.dumps({
            "method": "POST", "x_test": self.headers.get("X-Test"),
            "body": body.decode()}).encode(), "application/json")


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
sys.stdout.close()
srv.serve_forever()
