#!/usr/bin/env python3
"""index_server.py PORT ROOT PIDFILE - serves ROOT (make_index.py) on
127.0.0.1:PORT as a PEP 503 simple index, and POST /v1/querybatch as a stub
of OSV's querybatch API: {"queries": [{"package": {"name", "ecosystem"},
"version"}]} -> {"results": [{"vulns": [{"id", "modified"}]} | {}]} from
ROOT/osv.json ({name: [ids]}); a 500 for any batch that names tgosvdown.
The page of tgslow comes after 20 s until ROOT/tgslow.fast exists. A
download of a file of NAME (files/NAME-VERSION-...) is held back while
ROOT/NAME.hold exists (at most 10 minutes); ROOT/NAME.held is written when
one arrives (an install in progress, for the tests of asynchronous
approval). Tests only."""
import functools
import http.server
import json
import os
import sys
import time


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path.startswith("/simple/tgslow") and not os.path.exists(
                os.path.join(self.directory, "tgslow.fast")):
            time.sleep(20)
        if self.path.startswith("/files/"):
            name = os.path.basename(self.path).split("-")[0]
            hold = os.path.join(self.directory, name + ".hold")
            if name and os.path.exists(hold):
                with open(os.path.join(self.directory, name + ".held"), "w"):
                    pass
                t0 = time.time()
                while os.path.exists(hold) and time.time() - t0 < 600:
                    time.sleep(0.1)
        super().do_GET()

    def do_POST(self):
        if self.path != "/v1/querybatch":
            self.send_error(404)
            return
        n = int(self.headers.get("Content-Length") or 0)
        q = json.loads(self.rfile.read(n) or b"{}")
        with open(os.path.join(self.directory, "osv.json")) as f:
            known = json.load(f)
        names = [i.get("package", {}).get("name") for i in q.get("queries", [])]
        if "tgosvdown" in names:
            self.send_error(500)
            return
        res = []
        for item in q.get("queries", []):
            ids = known.get(item.get("package", {}).get("name"), [])
            res.append({"vulns": [{"id": i, "modified": "2025-01-01T00:00:00Z"}
                                  for i in ids]} if ids else {})
        body = json.dumps({"results": res}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    port, root, pidfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    srv = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Handler, directory=root))
    with open(pidfile, "w") as f:
        f.write("%d\n" % os.getpid())
    srv.serve_forever()


if __name__ == "__main__":
    main()
