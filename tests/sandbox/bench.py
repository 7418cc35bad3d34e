"""bench-sandbox: wall time of a trivial tool through toolgate-sandbox, beside
the bare interpreter, measured in the same run, as the same (non-root) user.

  trivial tool : def main(): return 1   (helper: namespaces, mounts, rlimits,
                 landlock, seccomp, runner.py, JSON in and out)
  client       : the same through build/sandbox-drive (lib/sandbox_client.c)
  bare         : /usr/bin/python3.11 -I -S -c pass
  bare+json    : /usr/bin/python3.11 -I -S -c "import json"  (what the runner
                 itself needs; for reference)

Prints median and p90 in ms for each, and the helper's median overhead over
the bare interpreter. The rows run round-robin (one run of each per round),
so a busy host inflates them alike. "via client" includes exec'ing
build/sandbox-drive, which a worker (the client in-process) does not pay.
As root, re-executes itself as nobody.
"""
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
HELPER = os.path.join(ROOT, "build", "toolgate-sandbox")
DRIVE = os.path.join(ROOT, "build", "sandbox-drive")
RUNS = int(os.environ.get("BENCH_RUNS", "60"))
WARM = 5
REQ = b'{"mode":"run","code":"def main():\\n    return 1\\n"}'
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def measure(fns):
    """Median and p90 of each function, run round-robin (one of each per
    round) so that load on the host affects every row alike."""
    for _ in range(WARM):
        for fn in fns:
            fn()
    xs = [[] for _ in fns]
    for _ in range(RUNS):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            xs[i].append((time.perf_counter() - t0) * 1000)
    out = []
    for x in xs:
        x.sort()
        out.append((x[len(x) // 2], x[min(len(x) - 1, int(len(x) * 0.9))]))
    return out


def helper():
    r, w = os.pipe()
    p = subprocess.run([HELPER, "--status-fd", str(w)], input=REQ,
                       stdout=subprocess.DEVNULL, pass_fds=(w,), env=ENV)
    os.close(w)
    out = os.read(r, 65536)
    os.close(r)
    if p.returncode != 0 or b'"ok":true' not in out:
        sys.exit("helper failed: %r" % out[:300])


def client():
    p = subprocess.run([DRIVE, "--helper", HELPER], input=REQ,
                       capture_output=True, env=ENV)
    if b'"ok":true' not in p.stdout:
        sys.exit("client failed: %r" % p.stdout[:300])


def bare():
    subprocess.run(["/usr/bin/python3.11", "-I", "-S", "-c", "pass"],
                   check=True, env=ENV)


def bare_json():
    subprocess.run(["/usr/bin/python3.11", "-I", "-S", "-c", "import json"],
                   check=True, env=ENV)


def as_nobody(script):
    """As root, re-execute script as nobody (the worker's situation)."""
    if os.geteuid() == 0:
        os.execv("/usr/bin/setpriv", ["setpriv", "--reuid=65534",
                 "--regid=65534", "--clear-groups", "/usr/bin/python3.11",
                 "-I", "-S", os.path.abspath(script)])


def main():
    as_nobody(__file__)
    names = ["trivial tool via helper", "trivial tool via client",
             "bare python3.11 -I -S -c pass",
             "bare python3.11 -I -S import json"]
    rows = list(zip(names, measure([helper, client, bare, bare_json])))
    print("%-36s %9s %9s   (%d runs, %d warm-up, uid %d)" % (
        "", "median", "p90", RUNS, WARM, os.getuid()))
    for name, (med, p90) in rows:
        print("%-36s %7.1fms %7.1fms" % (name, med, p90))
    print("helper overhead over bare interpreter (median): %.1f ms" % (
        rows[0][1][0] - rows[2][1][0]))


if __name__ == "__main__":
    main()
