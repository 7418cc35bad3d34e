"""phases-sandbox: where a trivial tool call's wall time goes, phase by phase.

Runs build/toolgate-sandbox-timing (built with -DSBX_TIMING: every SBX_MARK
writes "sbx-mark <CLOCK_MONOTONIC ns> <name>" on fd 2) RUNS times on the
trivial tool of bench.py, adds "spawn" (just before the helper is started)
and "end" (helper reaped) from this process's own CLOCK_MONOTONIC, sorts the
marks of each run by time and prints the median length of every interval
between consecutive marks. Marks of the child after its fds are set up come
back in the status document's "stderr". As root, re-executes itself as
nobody (the worker's situation).

Interval names are "<previous mark> -> <mark>"; "child.exec -> helper.eof.*"
is Python start-up plus the runner, "helper.eof.result -> helper.exited" is
the runner's exit and pid 1's teardown, "helper.status -> end" is the
helper's own exit as seen by its parent.
"""
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# the trivial tool, run counts, environment and user of bench.py
from bench import ENV, REQ, ROOT, RUNS, WARM, as_nobody  # noqa: E402

HELPER = os.path.join(ROOT, "build", "toolgate-sandbox-timing")


def marks(text):
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "sbx-mark":
            out.append((int(parts[1]), parts[2]))
    return out


def one():
    r, w = os.pipe()
    t0 = time.monotonic_ns()
    p = subprocess.run([HELPER, "--status-fd", str(w)], input=REQ,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       pass_fds=(w,), env=ENV)
    t1 = time.monotonic_ns()
    os.close(w)
    out = os.read(r, 65536)
    os.close(r)
    st = json.loads(out)
    if p.returncode != 0 or not st.get("ok"):
        sys.exit("helper failed: %r" % out[:300])
    ms = [(t0, "spawn")] + marks(p.stderr.decode()) + \
        marks(st.get("stderr", "")) + [(t1, "end")]
    ms.sort()
    return ms


def main():
    as_nobody(__file__)
    for _ in range(WARM):
        one()
    spans = {}
    order = []
    totals = []
    for _ in range(RUNS):
        ms = one()
        totals.append((ms[-1][0] - ms[0][0]) / 1e6)
        for (ta, a), (tb, b) in zip(ms, ms[1:]):
            key = "%s -> %s" % (a, b)
            if key not in spans:
                spans[key] = []
                order.append(key)
            spans[key].append((tb - ta) / 1e6)
    def q(xs, f):
        return xs[min(len(xs) - 1, int(len(xs) * f))]

    print("%-44s %8s %8s %8s %5s   (%d runs, uid %d)" % (
        "interval", "p10", "median", "p90", "seen", RUNS, os.getuid()))
    for key in order:
        xs = sorted(spans[key])
        print("%-44s %6.2fms %6.2fms %6.2fms %5d" % (
            key, q(xs, 0.1), q(xs, 0.5), q(xs, 0.9), len(xs)))
    totals.sort()
    print("%-44s %6.2fms %6.2fms %6.2fms" % ("total (spawn -> end)",
          q(totals, 0.1), q(totals, 0.5), q(totals, 0.9)))


if __name__ == "__main__":
    main()
