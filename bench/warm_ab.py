"""bench/warm_ab.py - warm sandbox calls through the helper alone (no nginx,
no database), A/B between builds, beside the bare interpreter start.

  python3 bench/warm_ab.py BUILD_DIR [BUILD_DIR ...]

Each BUILD_DIR holds toolgate-sandbox and sandbox-drive (e.g. build/ of this
checkout and of a base commit built elsewhere). Per build: one
`sandbox-drive --lines --warm-strict` per simulated worker (one helper
--serve and one zygote each, as a worker has), a trivial tool
(`def main(): return 1`; TOOL_SLEEP_MS=N makes it sleep N ms first,
a call long enough for the next child to be parked while it runs).

  c=1  : one call at a time, round-robin over the builds and the bare start
         (/usr/bin/python3.11 -I -S -c pass), so load on the host hits every
         row alike; GAP_MS (default 5) of idle time between calls stands in
         for what nginx, the worker and the database do between two calls
  c=4  : four drivers of one build for BENCH_SECONDS (5), builds alternated
         ROUNDS (2) times; calls/s and p50/p99
Prints one table; the load average at the start and the end. As root, every
driver runs as nobody (the worker's situation). Not part of `make check`.
"""
import json
import os
import subprocess
import sys
import threading
import time

RUNS = int(os.environ.get("BENCH_RUNS", "150"))
GAP = float(os.environ.get("GAP_MS", "5")) / 1000
SECS = float(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("ROUNDS", "2"))
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
AS_USER = (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
           if os.geteuid() == 0 else [])
SLEEP = float(os.environ.get("TOOL_SLEEP_MS", "0")) / 1000
CODE = ("import time\ndef main():\n    time.sleep(%r)\n    return 1\n" % SLEEP
        if SLEEP else "def main():\n    return 1\n")
LINE = (json.dumps({"request": {"mode": "run", "code": CODE,
                                "allowed_modules": ["*"]},
                    "flags": []}) + "\n").encode()


class Driver:
    def __init__(self, build):
        self.p = subprocess.Popen(
            AS_USER + [os.path.join(build, "sandbox-drive"), "--helper",
                       os.path.join(build, "toolgate-sandbox"),
                       "--warm-strict", "--lines"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=ENV)

    def call(self):
        self.p.stdin.write(LINE)
        self.p.stdin.flush()
        d = json.loads(self.p.stdout.readline() or b"null") or {}
        if d.get("result") != 1 or d.get("sandbox") != "warm":
            sys.exit("call failed: %r" % d)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def bare():
    subprocess.run(["/usr/bin/python3.11", "-I", "-S", "-c", "pass"],
                   check=True, env=ENV)


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] if xs else 0.0


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def c4(build):
    drivers = [Driver(build) for _ in range(4)]
    for d in drivers:
        for _ in range(5):
            d.call()
    lat = []
    stop = time.perf_counter() + SECS
    lock = threading.Lock()

    def loop(d):
        while time.perf_counter() < stop:
            ms = timed(d.call)
            with lock:
                lat.append(ms)

    t0 = time.perf_counter()
    ths = [threading.Thread(target=loop, args=(d,)) for d in drivers]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    el = time.perf_counter() - t0
    for d in drivers:
        d.close()
    return len(lat) / el, pct(lat, 0.5), pct(lat, 0.99)


def main():
    builds = sys.argv[1:]
    if not builds:
        sys.exit(__doc__)
    load0 = open("/proc/loadavg").read().split()[:3]
    drivers = [Driver(b) for b in builds]
    for d in drivers:
        for _ in range(10):
            d.call()
    xs = [[] for _ in builds]
    xb = []
    for _ in range(RUNS):
        for i, d in enumerate(drivers):
            time.sleep(GAP)
            xs[i].append(timed(d.call))
        xb.append(timed(bare))
    for d in drivers:
        d.close()
    tp = [[] for _ in builds]
    for _ in range(ROUNDS):
        for i, b in enumerate(builds):
            tp[i].append(c4(b))
    load1 = open("/proc/loadavg").read().split()[:3]
    b50 = pct(xb, 0.5)
    print("load average %s at the start, %s at the end; bare start p50 "
          "%.1f ms; c=1 gap %.0f ms, %d calls each, tool sleeps %.0f ms" % (
              " ".join(load0), " ".join(load1), b50, GAP * 1000, RUNS,
              SLEEP * 1000))
    print("| build | c=1 p50 ms | c=1 p90 ms | p50 / bare | "
          "c=4 calls/s (each round) | c=4 p50 / p99 ms |")
    print("|---|---|---|---|---|---|")
    for i, b in enumerate(builds):
        p50 = pct(xs[i], 0.5)
        print("| %s | %.1f | %.1f | %.2f× | %s | %s |" % (
            b, p50, pct(xs[i], 0.9), p50 / b50 if b50 else 0,
            " / ".join("%.0f" % r[0] for r in tp[i]),
            " , ".join("%.1f / %.1f" % (r[1], r[2]) for r in tp[i])))


if __name__ == "__main__":
    main()
