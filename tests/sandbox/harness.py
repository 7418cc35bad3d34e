"""Sandbox test harness: attack cases and functional tests through the real
helper (build/toolgate-sandbox) and the real client (build/sandbox-drive,
which is lib/sandbox_client.c). Run by tests/sandbox/run.sh; builds nothing.

Attack cases (tests/sandbox/attacks/*.py) are tool bodies that print
ESCAPED only when the attack worked; they may use the helpers of CASE_LIB
(reached: the paths a case could read, list or write; holds: a file's text
holds a string), which the harness puts before each case. Header comments
tune a case:
  # limits: {...}        request limits
  # expect: {...}        fields the result must have ("error.type" = nested)
  # expect-any: A | B    one of several expectation sets
  # flags: ...           extra helper flags
  # setup: leak-fds      leak fds 9-11 (a canary file, a dir fd, a socket)
  # repeat: N            run N times (persistence between runs)
  # secrets: {...}       the run's secrets
A case passes when the client returned a result, no ESCAPED appears in it,
the expectations hold, no process of the run's pid namespace is left, and
the case proves it ran to its end: the harness calls the case's main()
through a wrapper (CASE_END, appended to the code) whose result carries an
end marker, so a main() that raises (an unrelated ImportError, OSError or
NameError before or while trying its attack) fails the case. A case that
the sandbox is meant to stop (a timeout, the memory limit, a seccomp kill)
does not return; it must say so with an expect/expect-any header, and its
run must then end in one of SANDBOX_ENDINGS, never a Python exception.
A case that ends itself through the result channel (12_output_injection)
writes the marker into the result it forges.

As root, every helper runs as nobody (setpriv); the helper refusing root is
itself a test. No network: the egress tests use a local server and the
test-only --egress-test-allow flag.

Two helpers: the production build/toolgate-sandbox runs everything (every
attack case among them) but the cases that need a test hook
(TEST_HOOK_FLAGS: --egress-test-allow, --test-ready-first,
--test-child-delay-ms), which run build/tests/toolgate-sandbox-test, the
same helper built with -DTG_SANDBOX_TEST_HOOKS (docs/sandbox.md "Test
hooks"). That the production helper refuses each hook is itself a test.
"""
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HELPER = os.path.join(ROOT, "build", "toolgate-sandbox")
HELPER_TEST = os.path.join(ROOT, "build", "tests", "toolgate-sandbox-test")
# the options only HELPER_TEST has
TEST_HOOK_FLAGS = ("--egress-test-allow", "--test-ready-first",
                   "--test-child-delay-ms")
DRIVE = os.path.join(ROOT, "build", "sandbox-drive")
AS_USER = (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
           if os.geteuid() == 0 else [])
WORKER_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
              "TOOLGATE_SECRET_CANARY": "CANARY-OTHER-SERVER-SECRET",
              "PGPASSWORD": "OTHER-SERVER-SECRET"}
PIDNS_PREFIX = ('import os as _tg_os\n_tg_os.write(2, ("PIDNS=" + '
                '_tg_os.readlink("/proc/self/ns/pid") + "\\n").encode())\n'
                'del _tg_os\n')

# Put before every attack case (after PIDNS_PREFIX): what several cases do.
CASE_LIB = (
    "def reached(paths, mode='r'):\n"
    "    \"\"\"The paths the case got at: mode 'r' read (a file) or listed (a\n"
    "    directory), 'w' or 'a' opened for writing and written to.\"\"\"\n"
    "    import os\n"
    "    hits = []\n"
    "    for p in paths:\n"
    "        try:\n"
    "            if mode == 'r' and os.path.isdir(p):\n"
    "                os.listdir(p)\n"
    "            else:\n"
    "                with open(p, mode) as f:\n"
    "                    f.read() if mode == 'r' else f.write('# pwned\\n')\n"
    "            hits.append(p)\n"
    "        except OSError:\n"
    "            pass\n"
    "    return hits\n\n\n"
    "def holds(path, text):\n"
    "    \"\"\"True when the file path could be read and holds text.\"\"\"\n"
    "    try:\n"
    "        with open(path) as f:\n"
    "            return text in f.read()\n"
    "    except OSError:\n"
    "        return False\n\n\n")

# Appended to every attack case: the entry point the harness calls.
CASE_END = (
    "\n\ndef _tg_case_end(**kw):\n"
    "    return {'tg_case_end': True, 'value': main(**kw)}\n")
# error.type values of runs the sandbox ended (sandbox/helper.c), as opposed
# to an exception raised by the case's own code.
SANDBOX_ENDINGS = ("Timeout", "MemoryLimit", "OutputLimit", "CpuLimit",
                   "Killed", "ResultTooLarge")

passed = failed = 0
# "cold": a helper per call; "warm": every call through one long-lived
# client (sandbox-drive --lines --warm-strict), i.e. one helper --serve and
# its zygote, as in a worker (docs/sandbox.md "Warm sandboxes").
MODE = "cold"
# flags that select a mode warm sandboxes do not have (cold only)
COLD_ONLY_FLAGS = ("--force-degraded", "--no-mount")


def report(name, ok, why=""):
    global passed, failed
    if MODE == "warm":
        name = "[warm] " + name
    if ok:
        passed += 1
        print("PASS %s" % name, flush=True)
    else:
        failed += 1
        print("FAIL %s: %s" % (name, why), flush=True)


class WarmDriver:
    """One sandbox-drive --lines process: every call through one client,
    so through one long-lived helper and its zygote."""

    def __init__(self, extra=(), helper=HELPER):
        self.p = subprocess.Popen(
            AS_USER + [DRIVE, "--helper", helper, "--warm-strict", "--lines"]
            + list(extra), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=WORKER_ENV)

    def run(self, req, flags=()):
        line = json.dumps({"request": req, "flags": list(flags)}) + "\n"
        try:
            self.p.stdin.write(line.encode())
            self.p.stdin.flush()
            out = self.p.stdout.readline()
        except OSError as e:
            return {"client_error": "drive died", "diag": str(e)}
        try:
            return json.loads(out.decode() or "null")
        except ValueError:
            return {"client_error": "unparseable", "diag": out[:300]}

    def helper_pid(self):
        """The long-lived helper (a child of the drive process)."""
        for pid in children(self.p.pid):
            try:
                if b"--serve" in open("/proc/%d/cmdline" % pid, "rb").read():
                    return pid
            except OSError:
                pass
            for sub in children(pid):  # setpriv in between as root
                try:
                    if b"--serve" in open("/proc/%d/cmdline" % sub,
                                          "rb").read():
                        return sub
                except OSError:
                    pass
        return None

    def zygotes(self):
        """pids of the zygotes of this driver's helper."""
        h = self.helper_pid()
        out = []
        for pid in children(h) if h else []:
            try:
                if b"--zygote" in open("/proc/%d/cmdline" % pid, "rb").read():
                    out.append(pid)
            except OSError:
                pass
        return out

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def proc_select(pred):
    """PIDs of /proc for which pred(pid as a string) holds; a process that
    went away or cannot be read is left out."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if pred(d):
                out.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return out


def children(pid):
    return proc_select(lambda d: int(open("/proc/%s/stat" % d).read().rsplit(
        ")", 1)[1].split()[1]) == pid)


WARM = None  # the WarmDriver of the warm pass
WARM_TEST = None  # ... and its twin on HELPER_TEST, once a case needs it


def helper_for(flags):
    """HELPER_TEST for a call that needs a test hook, else HELPER."""
    return HELPER_TEST if any(f in TEST_HOOK_FLAGS for f in flags) \
        else HELPER


def running(pid, start=None):
    """pid is alive (a zombie waiting for init to reap it is dead) and, with
    start, is still the process that started then (not a reused pid)."""
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return f[0] != "Z" and (start is None or f[19] == start)
    except (OSError, IndexError):
        return False


def tree(pid):
    """[(pid, depth, start time)] of every descendant of pid."""
    out, todo = [], [(pid, 0)]
    while todo:
        p, d = todo.pop()
        for k in children(p):
            try:
                st = open("/proc/%d/stat" % k).read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            out.append((k, d + 1, st[19]))
            todo.append((k, d + 1))
    return out


def drive(req, flags=(), leak=False, helper=None, grace=None, timeout=120):
    """Run one request through sandbox-drive; returns the parsed output.
    helper: by default HELPER, or HELPER_TEST when flags hold a test
    hook."""
    global WARM_TEST
    ours = helper is None
    if ours:
        helper = helper_for(flags)
    if MODE == "warm" and ours and grace is None and not leak:
        if helper == HELPER:
            return WARM.run(req, flags)
        if WARM_TEST is None:
            WARM_TEST = WarmDriver(helper=HELPER_TEST)
        return WARM_TEST.run(req, flags)
    cmd = AS_USER + [DRIVE, "--helper", helper]
    if MODE == "warm" and ours:
        cmd.append("--warm-strict")
    if grace is not None:
        cmd += ["--grace", str(grace)]
    if flags:
        cmd += ["--"] + list(flags)
    pass_fds = ()
    if leak:
        import fcntl
        f = tempfile.TemporaryFile()
        f.write(b"CANARY leaked file")
        f.flush()
        d = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
        s1, s2 = socket.socketpair()
        high = [fcntl.fcntl(x, fcntl.F_DUPFD, 50)
                for x in (f.fileno(), d, s1.fileno())]
        f.close()
        os.close(d)
        s1.close()
        s2.close()
        for src, dst in zip(high, (9, 10, 11)):
            os.dup2(src, dst, inheritable=True)
            os.close(src)
        pass_fds = (9, 10, 11)
    try:
        p = subprocess.run(cmd, input=json.dumps(req).encode(),
                           capture_output=True, env=WORKER_ENV,
                           pass_fds=pass_fds, timeout=timeout)
    finally:
        if leak:
            for fd in pass_fds:
                os.close(fd)
    try:
        return json.loads(p.stdout.decode() or "null")
    except ValueError:
        return {"client_error": "unparseable", "diag": p.stdout[:300]}


def get(doc, dotted):
    cur = doc
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return "<missing>"
        cur = cur[part]
    return cur


def expect_ok(doc, exp):
    bad = ["%s=%r (want %r)" % (k, get(doc, k), v) for k, v in exp.items()
           if get(doc, k) != v]
    return "; ".join(bad)


def leftovers(pidns):
    """PIDs still alive in the given pid namespace."""
    return proc_select(lambda d: os.readlink("/proc/%s/ns/pid" % d) == pidns)


def parse_header(code):
    meta = {}
    for line in code.splitlines():
        m = re.match(r"#\s*(limits|expect|expect-any|flags|setup|repeat|"
                     r"secrets):\s*(.*)$", line)
        if m:
            meta[m.group(1)] = m.group(2).strip()
    return meta


# ---- attack cases -------------------------------------------------------

def case_end(doc, meta):
    """'' when the case ran to its end (see the module comment)."""
    err = doc.get("error") if isinstance(doc.get("error"), dict) else {}
    if doc.get("ok") is True:
        res = doc.get("result")
        if isinstance(res, dict) and res.get("tg_case_end") is True:
            return ""
        return "main() returned but the end marker is missing (result %r)" % (
            json.dumps(res)[:200],)
    if "expect" not in meta and "expect-any" not in meta:
        return ("did not run to its end: %s: %s" % (
            err.get("type"), (err.get("message") or "")[:200]))
    if err.get("type") not in SANDBOX_ENDINGS:
        return ("ended by %s (%s), not by the sandbox (%s)" % (
            err.get("type"), (err.get("message") or "")[:200],
            ", ".join(SANDBOX_ENDINGS)))
    return ""


def run_attacks(ctx):
    for path in sorted(glob.glob(os.path.join(HERE, "attacks", "*.py"))):
        name = os.path.basename(path)[:-3]
        code = open(path).read()
        meta = parse_header(code)
        degraded = "--force-degraded" in meta.get("flags", "")
        req = {"mode": "run", "code": ("" if degraded else PIDNS_PREFIX) +
               CASE_LIB + code + CASE_END, "entry": "_tg_case_end",
               "allowed_modules": ["*"],
               "arguments": ctx["args"].get(name, {})}
        if "limits" in meta:
            req["limits"] = json.loads(meta["limits"])
        if "secrets" in meta:
            req["secrets"] = json.loads(meta["secrets"])
        flags = meta.get("flags", "").split()
        if MODE == "warm" and any(f in COLD_ONLY_FLAGS for f in flags):
            continue  # degraded mode and --no-mount are cold only
        why = ""
        for _ in range(int(meta.get("repeat", "1"))):
            t0 = time.time()
            doc = drive(req, flags, leak=meta.get("setup") == "leak-fds")
            if not isinstance(doc, dict) or "client_error" in doc:
                why = "client error: %r" % (doc,)
                break
            blob = json.dumps(doc)
            if "ESCAPED" in blob:
                why = "escaped: " + (doc.get("stdout") or "")[:300]
                break
            if doc.get("sandbox") != MODE:
                why = "ran %r, not %s" % (doc.get("sandbox"), MODE)
                break
            if "expect" in meta:
                why = expect_ok(doc, json.loads(meta["expect"]))
            if "expect-any" in meta:
                alts = [json.loads(a) for a in meta["expect-any"].split("|")]
                if all(expect_ok(doc, a) for a in alts):
                    why = "none of %s matched (got ok=%r signal=%r error=%r)" % (
                        meta["expect-any"], doc.get("ok"), doc.get("signal"),
                        doc.get("error"))
            if why:
                break
            why = case_end(doc, meta)
            if why:
                break
            m = re.search(r"PIDNS=(pid:\[\d+\])", doc.get("stderr") or "")
            if not degraded:
                if not m:
                    why = "no PIDNS marker (stderr %r, error %r)" % (
                        (doc.get("stderr") or "")[:200], doc.get("error"))
                    break
                left = leftovers(m.group(1))
                if left:
                    why = "processes left behind: %r" % left
                    for pid in left:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except OSError:
                            pass
                    break
            if time.time() - t0 > 30:
                why = "took %.1fs" % (time.time() - t0)
                break
        report("attack " + name, not why, why)


def case_end_selftest():
    """The end check itself: a case that raises before its attack, and one
    whose main() returns, through the real helper."""
    def one(code, meta=None):
        req = {"mode": "run", "code": code + CASE_END, "entry": "_tg_case_end",
               "allowed_modules": ["*"], "arguments": {}}
        return case_end(drive(req), meta or {})
    why = one("import no_such_module_tg\ndef main():\n    return 1\n")
    report("harness: a case that raises before its attack fails",
           "ModuleNotFoundError" in why or "ImportError" in why, why)
    why = one("def main():\n    import ctypes\n    ctypes.nope()\n    return 1\n")
    report("harness: a case that raises midway fails", "AttributeError" in why,
           why)
    why = one("def main():\n    raise OSError(1, 'x')\n",
              {"expect": "{}"})
    report("harness: an expected kill is not an exception",
           "not by the sandbox" in why, why)
    why = one("def main():\n    return [1]\n")
    report("harness: a case that returns reaches its end", why == "", why)


# ---- functional tests ---------------------------------------------------

def run_req(code, **kw):
    req = {"mode": kw.pop("mode", "run"), "code": code}
    req.update(kw)
    return req


def returned(value):
    """A check: the run returned value."""
    return lambda d: d["ok"] and d["result"] == value


def failed_with(error_type):
    """A check: the run failed with that error.type."""
    return lambda d: not d["ok"] and d["error"]["type"] == error_type


def functional(ctx):
    port = ctx["port"]
    tests = []

    def t(name, req, check, flags=()):
        tests.append((name, req, check, flags))

    t("result and stdout", run_req(
        "def main(x: int = 1):\n    print('hello')\n    return {'x': x * 2}\n",
        arguments={"x": 21}),
        lambda d: d["ok"] and d["result"] == {"x": 42} and
        d["stdout"] == "hello\n" and d["isolation"] == "full" and
        d["exit_code"] == 0 and d["wall_ms"] >= 0 and "cpu_ms" in d and
        d["peak_rss_kb"] > 0)
    t("exception with trimmed traceback", run_req(
        "def helper():\n    raise ValueError('bad input')\n\n"
        "def main():\n    helper()\n"),
        lambda d: not d["ok"] and d["error"]["type"] == "ValueError" and
        d["error"]["message"] == "bad input" and
        'File "tool.py", line 2' in d["error"]["traceback"] and
        "runner.py" not in d["error"]["traceback"])
    t("async main", run_req(
        "import asyncio\nasync def main(n: int):\n    await asyncio.sleep(0.01)"
        "\n    return n + 1\n", arguments={"n": 1}),
        returned(2))
    t("allow-list refuses an import", run_req(
        "def main():\n    import subprocess\n"),
        lambda d: not d["ok"] and d["error"]["type"] == "ImportError" and
        "not allowed" in d["error"]["message"])
    # security (#14.9): __import__ without globals judged by its caller
    t("allow-list refuses __builtins__['__import__'] without globals",
      run_req("def main():\n"
              "    return __builtins__['__import__']('o' + 's').getcwd()\n"),
      lambda d: not d["ok"] and d["error"]["type"] == "ImportError" and
      "toolgate_request_module" in d["error"]["message"] and
      "review aid" in d["error"]["message"])
    t("allow-list refuses from-import", run_req(
        "from os import path\ndef main():\n    return 1\n"),
        lambda d: not d["ok"] and "not allowed" in d["error"]["message"])
    t("allow-list admits an approved module", run_req(
        "import os.path\ndef main():\n    return os.path.join('a', 'b')\n",
        allowed_modules=["os"]),
        returned("a/b"))
    t("base modules need no approval", run_req(
        "import json, re, math, datetime\nfrom urllib.parse import quote\n"
        "def main():\n    return quote('a b')\n"),
        returned("a%20b"))
    t("non-serialisable result", run_req(
        "def main():\n    return object()\n"),
        failed_with("SerializationError"))
    t("NaN is not JSON", run_req(
        "def main():\n    return float('nan')\n"),
        failed_with("SerializationError"))
    t("MCP content blocks pass through", run_req(
        "def main():\n    return [{'type': 'text', 'text': 'hi'}, "
        "{'type': 'image', 'data': 'aGk=', 'mimeType': 'image/png'}]\n"),
        lambda d: d["ok"] and d["content"][0] == {"type": "text", "text": "hi"}
        and d["result"] is None)
    t("secrets are a read-only mapping", run_req(
        "import toolgate\ndef main():\n    try:\n        SECRETS['k'] = 'x'\n"
        "        return 'writable'\n    except TypeError:\n"
        "        return [SECRETS['k'], toolgate.secrets['k']]\n",
        secrets={"k": "v"}),
        lambda d: d["ok"] and d["result"] == ["v", "v"])
    t("syntax error", run_req("def main(:\n    pass\n"),
      failed_with("SyntaxError"))
    t("missing entry point", run_req("def other():\n    return 1\n"),
      failed_with("EntryPointError"))
    t("custom entry point", run_req("def go():\n    return 7\n", entry="go"),
      returned(7))
    t("wrong arguments", run_req("def main(a):\n    return a\n",
                                 arguments={"b": 1}),
      failed_with("TypeError"))
    t("sys.exit is reported", run_req(
        "import sys\ndef main():\n    sys.exit(3)\n", allowed_modules=["sys"]),
        failed_with("SystemExit"))
    t("unicode and NUL in output", run_req(
        "import sys\ndef main():\n    sys.stdout.buffer.write(b'\\xff\\x00ok')"
        "\n    return 'h\\u00e9\\x00'\n", allowed_modules=["sys"]),
        lambda d: d["ok"] and d["result"] == "h\u00e9\x00" and
        d["stdout"].endswith("ok"))
    t("output cap keeps the head", run_req(
        "def main():\n    print('x' * 5000)\n    return 1\n",
        limits={"output_bytes": 1024}),
        lambda d: d["ok"] and d["truncated"] and len(d["stdout"]) == 1024)
    t("stdin is empty", run_req(
        "import sys\ndef main():\n    return sys.stdin.read()\n",
        allowed_modules=["sys"]),
        returned(""))
    t("validate: schema from signature and docstring", run_req(
        "from typing import Literal, Optional\n"
        "def main(city: str, days: int = 3, units: Literal['c', 'f'] = 'c',"
        " tags: list[str] | None = None, x: Optional[float] = None) -> dict:\n"
        "    \"\"\"Weather forecast.\n\n    Args:\n        city: The city name.\n"
        "        days (int): How many days.\n    \"\"\"\n    return {}\n",
        mode="validate"),
        lambda d: d["ok"] and d["errors"] == [] and
        d["description"] == "Weather forecast." and
        d["input_schema"]["required"] == ["city"] and
        d["input_schema"]["properties"]["city"] == {
            "type": "string", "description": "The city name."} and
        d["input_schema"]["properties"]["days"]["default"] == 3 and
        d["input_schema"]["properties"]["units"]["enum"] == ["c", "f"] and
        d["input_schema"]["properties"]["tags"] == {
            "anyOf": [{"type": "array", "items": {"type": "string"}},
                      {"type": "null"}], "default": None} and
        d["input_schema"]["properties"]["x"]["type"] == ["number", "null"] and
        d["input_schema"]["additionalProperties"] is False)
    t("validate: syntax error with line and column", run_req(
        "def main():\n    x = (1,\n    return x\n", mode="validate"),
        lambda d: not d["ok"] and d["errors"][0]["line"] in (2, 3) and
        d["errors"][0]["column"] and "syntax" in d["errors"][0]["message"])
    t("validate: missing main", run_req("x = 1\n", mode="validate"),
      lambda d: not d["ok"] and "no function 'main'" in
      d["errors"][0]["message"])
    t("validate: main is not a function", run_req("main = 3\n",
                                                  mode="validate"),
      lambda d: not d["ok"] and d["errors"][0]["line"] == 1)
    t("validate: imports outside the allow-list", run_req(
        "import json\nimport subprocess\n\ndef main():\n"
        "    from socket import socket\n    __import__('ctypes')\n",
        mode="validate"),
        lambda d: not d["ok"] and [e["line"] for e in d["errors"]] ==
        [2, 5, 6])
    t("validate: approved module is fine", run_req(
        "import requests\ndef main(**kw):\n    return 1\n", mode="validate",
        allowed_modules=["requests"]),
        lambda d: d["ok"] and "additionalProperties" not in
        d["input_schema"])
    t("validate: does not execute code", run_req(
        "print('ran')\nraise SystemExit(1)\ndef main():\n    pass\n",
        mode="validate"),
        lambda d: d["ok"] and d["stdout"] == "")
    t("bad request is refused", {"mode": "run"},
      lambda d: d.get("client_error") == "bad_request")
    t("unknown field is refused", run_req("def main(): pass\n", bogus=1),
      lambda d: d.get("client_error") == "bad_request")
    t("limit out of range is refused", run_req(
        "def main(): pass\n", limits={"timeout_ms": 10 ** 9}),
        lambda d: d.get("client_error") == "bad_request")
    t("code over 256 KiB is refused", run_req(
        "x = 1\n" * 50000 + "def main(): pass\n"),
        lambda d: d.get("client_error") == "too_large")
    t("degraded mode refused unless enabled", run_req(
        "def main():\n    return 1\n"),
        lambda d: d.get("client_error") == "unavailable" and
        "degraded" in d.get("diag", ""), flags=["--force-degraded"])
    t("degraded mode runs when enabled", run_req(
        "def main():\n    return 1\n"),
        lambda d: d["ok"] and d["isolation"] == "degraded" and
        not glob.glob("/tmp/toolgate-sbx-*"),
        flags=["--force-degraded", "--allow-degraded"])
    t("degraded mode enabled by the request", run_req(
        "def main():\n    return 2\n", allow_degraded=True),
        lambda d: d["ok"] and d["isolation"] == "degraded",
        flags=["--force-degraded"])
    # packages (docs/packages.md): the request's "packages" directory is
    # bound read-only at /run/toolgate/packages, after the standard library
    # on sys.path. Cold and warm: with --packages-root (the worker's
    # TOOLGATE_PACKAGES_DIR) a tree <root>/<64 hex> runs warm, each child
    # seeing only its call's tree (the zygote's view of all trees is
    # unmounted in the child before the call)
    if True:
        import atexit
        import shutil
        # not under /tmp: the new root is mounted there (refused, below)
        pkgroot = tempfile.mkdtemp(prefix="tg-pkgs-", dir="/var/tmp")
        atexit.register(shutil.rmtree, pkgroot, True)
        os.chmod(pkgroot, 0o755)
        trees = {}
        for tree, files in (("a" * 64, (("tgpkgmod.py", "V = 7\n"),
                                        ("calendar.py", "SHADOWED = True\n"))),
                            ("b" * 64, (("tgpkgother.py", "W = 8\n"),))):
            trees[tree] = os.path.join(pkgroot, tree)
            os.mkdir(trees[tree])
            os.chmod(trees[tree], 0o755)
            for fn, text in files:
                with open(os.path.join(trees[tree], fn), "w") as f:
                    f.write(text)
                os.chmod(os.path.join(trees[tree], fn), 0o644)
        pkgdir = trees["a" * 64]
        proot = ["--packages-root", pkgroot]
        t("packages: importable, read-only, no stdlib shadowing", run_req(
            "import tgpkgmod\nimport calendar\n"
            "def main():\n    out = [tgpkgmod.V, tgpkgmod.__file__,\n"
            "           hasattr(calendar, 'SHADOWED')]\n"
            "    for p in (tgpkgmod.__file__, '/run/toolgate/packages/new.py'):\n"
            "        try:\n            open(p, 'a').write('x')\n"
            "            out.append('wrote')\n"
            "        except OSError as e:\n            out.append(e.errno)\n"
            "    return out\n",
            allowed_modules=["tgpkgmod", "calendar"], packages=pkgdir),
            lambda d: d["ok"] and d["result"][:3] == [
                7, "/run/toolgate/packages/tgpkgmod.py", False] and
            "wrote" not in d["result"], flags=proot)
        see = ("import os\ndef main():\n    out = []\n"
               "    for p in ('/run/toolgate/packages', '/run/toolgate/.trees'):\n"
               "        try:\n            out.append(sorted(os.listdir(p)))\n"
               "        except OSError as e:\n            out.append(e.errno)\n"
               "    try:\n        import tgpkgmod\n        out.append('a')\n"
               "    except ImportError:\n        out.append('no a')\n"
               "    return out\n")
        t("packages: a call sees only its own tree", run_req(
            see, allowed_modules=["os", "tgpkgmod"],
            packages=trees["b" * 64]),
            lambda d: d["ok"] and d["result"][0] == ["tgpkgother.py"] and
            d["result"][1] in ([], 2) and d["result"][2] == "no a",
            flags=proot)
        t("packages: a call without a package set sees none", run_req(
            see, allowed_modules=["os", "tgpkgmod"]),
            lambda d: d["ok"] and d["result"][0] in ([], 2) and
            d["result"][1] in ([], 2) and d["result"][2] == "no a",
            flags=proot)
        t("packages: outside --packages-root runs cold", run_req(
            "import tgpkgmod\ndef main():\n    return tgpkgmod.V\n",
            allowed_modules=["tgpkgmod"], packages=pkgdir),
            lambda d: (d.get("ok") and d["result"] == 7 and
                       d["sandbox"] == "cold") if MODE == "cold" else
            d.get("client_error") is not None and "strict" in d.get("diag", ""))
        t("packages: a directory under /tmp is refused", run_req(
            "def main(): pass\n", packages="/tmp"),
            lambda d: d.get("client_error") == "bad_request" and
            "/tmp" in d.get("diag", ""))
        t("packages: a relative path is refused", run_req(
            "def main(): pass\n", packages="tmp/x"),
            lambda d: d.get("client_error") == "bad_request")
        t("packages: a path that is no directory is refused", run_req(
            "def main(): pass\n", packages="/nonexistent-tg-pkgs"),
            lambda d: d.get("client_error") == "bad_request")
        t("packages: refused in degraded mode", run_req(
            "def main():\n    return 1\n", packages=pkgdir),
            lambda d: d.get("client_error") == "unavailable" and
            "package set" in d.get("diag", ""),
            flags=["--force-degraded", "--allow-degraded"])
    token = "tg-orphan-%d" % os.getpid()
    t("degraded mode timeout kills the group and orphans", run_req(
        "import os, time\ndef main(tok):\n    if os.fork() == 0:\n"
        "        os.setsid()\n        if os.fork() == 0:\n"
        "            os.execv('/usr/bin/python3.11', ['python3.11', '-c',"
        " 'import time; time.sleep(60)', tok])\n        os._exit(0)\n"
        "    while True: pass\n",
        arguments={"tok": token}, allowed_modules=["*"],
        limits={"timeout_ms": 800}),
        lambda d: d["timed_out"] and not subprocess.run(
            ["pgrep", "-f", token], capture_output=True).stdout,
        flags=["--force-degraded", "--allow-degraded"])

    # egress through the proxy (local server + the test-only flag)
    allow = ["--egress-test-allow", "127.0.0.1:%d" % port]
    base = "http://127.0.0.1:%d" % port
    hosts = ["127.0.0.1:%d" % port]
    t("egress: allowed host", run_req(
        "from toolgate import http\ndef main(u):\n    r = http.get(u + '/ok')\n"
        "    return [r.status, r.text, http.get_json(u + '/json')]\n",
        arguments={"u": base}, allowed_hosts=hosts),
        lambda d: d["ok"] and d["result"] == [200, "hello", {"answer": 42}],
        flags=allow)
    t("egress: POST with headers and JSON", run_req(
        "from toolgate import http\ndef main(u):\n    return http.post_json("
        "u + '/echo', {'a': 1}, headers={'X-Test': 'yes'})\n",
        arguments={"u": base}, allowed_hosts=hosts),
        lambda d: d["ok"] and d["result"] == {"method": "POST", "x_test": "yes",
                                             "body": '{"a": 1}'}, flags=allow)
    t("egress: host not in the list", run_req(
        "from toolgate import http\ndef main():\n    http.get("
        "'http://example.com/')\n", allowed_hosts=hosts),
        lambda d: not d["ok"] and d["error"]["type"] == "HttpError" and
        "not in the allowed hosts" in d["error"]["message"], flags=allow)
    t("egress: same-host redirect followed", run_req(
        "from toolgate import http\ndef main(u):\n    r = http.get(u + "
        "'/redirect-same')\n    return [r.status, r.text]\n",
        arguments={"u": base}, allowed_hosts=hosts),
        lambda d: d["ok"] and d["result"] == [200, "hello"], flags=allow)
    t("egress: redirect to another host refused", run_req(
        "from toolgate import http\ndef main(u):\n    http.get(u + "
        "'/redirect-other')\n", arguments={"u": base},
        allowed_hosts=hosts + ["localhost:%d" % port]),
        lambda d: not d["ok"] and "redirect to another host" in
        d["error"]["message"], flags=allow)
    t("egress: loopback refused without the test flag", run_req(
        "from toolgate import http\ndef main(u):\n    http.get(u + '/ok')\n",
        arguments={"u": base}, allowed_hosts=hosts),
        lambda d: not d["ok"] and "refused" in d["error"]["message"] and
        "127.0.0.1" in d["error"]["message"])
    t("egress: DNS name resolving to loopback refused", run_req(
        "from toolgate import http\ndef main(p):\n    http.get("
        "'http://localhost:%d/ok' % p)\n", arguments={"p": port},
        allowed_hosts=["localhost:%d" % port]),
        lambda d: not d["ok"] and "refused" in d["error"]["message"],
        flags=["--egress-test-allow", "127.0.0.2:%d" % port])
    t("egress: private and metadata addresses refused", run_req(
        "from toolgate import http\ndef main():\n    out = []\n"
        "    for u in ['http://10.1.2.3/', 'http://169.254.169.254/latest/',"
        " 'http://[::1]/', 'http://192.168.1.1:8080/']:\n        try:\n"
        "            http.get(u, timeout=2)\n            out.append('reached')\n"
        "        except http.HttpError as e:\n            out.append(str(e))\n"
        "    return out\n", allowed_hosts=["10.1.2.3", "169.254.169.254",
                                           "[::1]", "192.168.1.1:8080"]),
        lambda d: d["ok"] and len(d["result"]) == 4 and
        all("refused" in r for r in d["result"]), flags=allow)
    t("egress: response size cap", run_req(
        "from toolgate import http\ndef main(u):\n    http.get(u + '/big')\n",
        arguments={"u": base}, allowed_hosts=hosts),
        lambda d: not d["ok"] and "larger than" in d["error"]["message"],
        flags=allow)
    t("egress: disabled without approved hosts", run_req(
        "from toolgate import http\ndef main():\n    http.get("
        "'http://example.com/')\n"),
        lambda d: not d["ok"] and "not enabled" in d["error"]["message"])
    t("egress: direct connection bypassing the proxy fails", run_req(
        "import socket\ndef main(p):\n    s = socket.socket()\n    s.settimeout(1)"
        "\n    try:\n        s.connect(('127.0.0.1', p))\n        return 'ESCAPED'"
        "\n    except OSError as e:\n        return str(e)\n",
        arguments={"p": port}, allowed_hosts=hosts, allowed_modules=["socket"]),
        lambda d: d["ok"] and "ESCAPED" not in d["result"], flags=allow)

    # the package installer's runs (request member "package_egress",
    # sandbox/packages.c; docs/packages.md): downloads streamed under their
    # own cap, private addresses for exactly the configured hosts (no
    # --egress-test-allow here), stores into out_dir with checked paths
    import atexit
    import pwd
    import shutil
    outdir = tempfile.mkdtemp(prefix="tg-pkgout-", dir="/var/tmp")
    atexit.register(shutil.rmtree, outdir, True)
    if os.geteuid() == 0:
        os.chown(outdir, pwd.getpwnam("nobody").pw_uid, -1)

    def pe(**kw):
        d = {"hosts": hosts, "private_hosts": hosts, "max_download": 8 << 20}
        d.update(kw)
        return d
    t("package egress: a download streams past the 5 MiB reply cap", run_req(
        "import os\nfrom toolgate import http\ndef main(u):\n"
        "    st, n = http._download(u + '/big', '/tmp/w.whl')\n"
        "    return [st, n, os.stat('/tmp/w.whl').st_size]\n",
        arguments={"u": base}, allowed_hosts=hosts, package_egress=pe(),
        allowed_modules=["os"]),
        lambda d: d["ok"] and d["result"] == [200, 6 << 20, 6 << 20])
    t("package egress: a download over its own cap is refused", run_req(
        "import os\nfrom toolgate import http\ndef main(u):\n    try:\n"
        "        http._download(u + '/big', '/tmp/w.whl')\n"
        "    except http.HttpError as e:\n"
        "        return [str(e), os.path.exists('/tmp/w.whl')]\n",
        arguments={"u": base}, allowed_hosts=hosts,
        package_egress=pe(max_download=1 << 20), allowed_modules=["os"]),
        lambda d: d["ok"] and "download cap" in d["result"][0] and
        d["result"][1] is False)
    t("package egress: private only for the configured host names", run_req(
        "from toolgate import http\ndef main(u, p):\n    out = [http.get(u + "
        "'/ok').text]\n    try:\n        http.get('http://localhost:%d/ok' % p)"
        "\n        out.append('reached')\n    except http.HttpError as e:\n"
        "        out.append(str(e))\n    return out\n",
        arguments={"u": base, "p": port},
        allowed_hosts=hosts + ["localhost:%d" % port], package_egress=pe()),
        lambda d: d["ok"] and d["result"][0] == "hello" and
        "refused" in d["result"][1])
    t("package egress: download mode only for the index hosts", run_req(
        "from toolgate import http\ndef main(p):\n    try:\n"
        "        http._download('http://localhost:%d/ok' % p, '/tmp/x')\n"
        "    except http.HttpError as e:\n        return str(e)\n",
        arguments={"p": port}, allowed_hosts=hosts + ["localhost:%d" % port],
        package_egress=pe()),
        lambda d: d["ok"] and "package installer" in d["result"])
    t("package egress: store writes under out_dir, checks paths", run_req(
        "import base64\nfrom toolgate import http\ndef main():\n"
        "    x = base64.b64encode(b'V = 1').decode()\n    out = []\n"
        "    for f in (['pkg/m.py', x, False], ['pkg/m.py', x, True],\n"
        "              ['../evil.py', x, False], ['/abs.py', x, False],\n"
        "              ['pkg/m.py', x, False], ['a/./b', x, False]):\n"
        "        out.append(http._roundtrip({'store': [f]}).get('error', 'ok'))\n"
        "    return out\n", allowed_hosts=hosts,
        package_egress=pe(out_dir=outdir, max_tree=1 << 20)),
        lambda d: d["ok"] and d["result"][:2] == ["ok", "ok"] and
        all("unsafe path" in r for r in (d["result"][2], d["result"][3],
                                         d["result"][5])) and
        "two wheels provide it" in d["result"][4] and
        open(os.path.join(outdir, "pkg/m.py")).read() == "V = 1V = 1" and
        not os.path.exists(os.path.join(os.path.dirname(outdir), "evil.py")))
    t("package egress: malformed is refused", run_req(
        "def main(): pass\n", package_egress={"hosts": "x"}),
        lambda d: d.get("client_error") == "bad_request" and
        "package_egress" in d.get("diag", ""))
    t("package egress: store without out_dir is refused", run_req(
        "from toolgate import http\ndef main():\n    return http._roundtrip("
        "{'store': [['a.py', '', False]]})\n", allowed_hosts=hosts,
        package_egress=pe()),
        lambda d: d["ok"] and "installer only" in d["result"]["error"])

    for name, req, check, flags in tests:
        if MODE == "warm" and any(f in COLD_ONLY_FLAGS for f in flags):
            continue  # degraded mode is cold only
        try:
            doc = drive(req, flags)
            ok = bool(check(doc))
            if ok and "client_error" not in doc and doc.get("sandbox") != MODE:
                ok = False
                why = "ran %r, not %s" % (doc.get("sandbox"), MODE)
                report(name, ok, why)
                continue
            why = "" if ok else json.dumps(doc)[:600]
        except Exception as e:  # a failing check must not stop the run
            ok, why = False, "%s: %s (%s)" % (type(e).__name__, e,
                                              json.dumps(doc)[:400])
        report(name, ok, why)


def lifecycle(ctx):
    # root refusal
    if os.geteuid() == 0:
        r, w = os.pipe()
        p = subprocess.run([HELPER, "--status-fd", str(w)], input=b"{}",
                           capture_output=True, pass_fds=(w,),
                           env=WORKER_ENV)
        os.close(w)
        doc = os.read(r, 65536)
        os.close(r)
        report("helper refuses root", p.returncode == 3 and
               b"refusing to run as root" in p.stderr and
               b'"SandboxUnavailable"' in doc, p.stderr[:200])
    # probe
    p = subprocess.run(AS_USER + [DRIVE, "--helper", HELPER, "--probe"],
                       capture_output=True, env=WORKER_ENV)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = {}
    report("probe reports full isolation", doc.get("isolation") == "full" and
           doc.get("userns") is True and doc.get("landlock_abi", 0) >= 1,
           p.stdout[:300])
    p = subprocess.run(AS_USER + [DRIVE, "--helper", HELPER, "--probe", "--",
                                  "--force-degraded"],
                       capture_output=True, env=WORKER_ENV)
    report("probe without userns and degraded disabled: unavailable",
           b'"unavailable"' in p.stdout, p.stdout[:300])
    p = subprocess.run(AS_USER + [DRIVE, "--helper", HELPER, "--probe",
                                  "--allow-degraded", "--", "--force-degraded"],
                       capture_output=True, env=WORKER_ENV)
    report("probe degraded when enabled", b'"degraded"' in p.stdout,
           p.stdout[:300])

    # the client's hard deadline against a helper that hangs (for 60 s:
    # a generous bound well under that)
    t0 = time.time()
    doc = drive(run_req("def main(): pass\n", limits={"timeout_ms": 300}),
                helper=os.path.join(HERE, "fake_helper.sh"), grace=300)
    el = time.time() - t0
    report("client deadline kills a hung helper", isinstance(doc, dict) and
           doc.get("client_error") == "timeout" and el < 30,
           "%r after %.1fs" % (doc, el))
    # missing helper
    doc = drive(run_req("def main(): pass\n"), helper="/nonexistent/helper")
    report("client reports a missing helper", doc.get("client_error") ==
           "unavailable", repr(doc))

    # killing the helper kills the sandbox (PDEATHSIG)
    req = json.dumps(run_req("import time\ndef main():\n    time.sleep(30)\n"))
    r, w = os.pipe()
    p = subprocess.Popen(AS_USER + [HELPER, "--status-fd", str(w)],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, pass_fds=(w,),
                         env=WORKER_ENV)
    p.stdin.write(req.encode())
    p.stdin.close()
    os.close(w)
    # the helper's children, once it has any (polled: no guess of how
    # long the helper takes to fork under load)
    kids = []
    deadline = time.monotonic() + 30
    while not kids and time.monotonic() < deadline:
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    st = open("/proc/%s/stat" % d).read()
                    if int(st.rsplit(")", 1)[1].split()[1]) == p.pid:
                        kids.append(int(d))
                except (OSError, ValueError, IndexError):
                    pass
        if not kids:
            time.sleep(0.05)
    p.kill()
    p.wait()
    os.close(r)
    # they die with it (polled, a generous bound: a sandbox that outlives
    # its helper stays alive for the 30 s of its tool)
    deadline = time.monotonic() + 20
    alive = [k for k in kids if running(k)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [k for k in kids if running(k)]
    report("sandbox dies with the helper", kids and not alive,
           "kids %r alive %r" % (kids, alive))


def test_hooks(ctx):
    """The test hooks exist in HELPER_TEST only (docs/sandbox.md "Test
    hooks"). The production helper refuses each as an unknown option, with
    the exit status of any bad option, runs nothing, holds none of their
    names, and a client that passes one gets an error, not a run; the test
    build runs the very same invocation."""
    blob = open(HELPER, "rb").read()
    req = json.dumps(run_req("def main():\n    return 5\n",
                             allowed_hosts=["127.0.0.1:%d" % ctx["port"]]))

    def helper(path, args):
        r, w = os.pipe()
        try:
            p = subprocess.run(AS_USER + [path, "--status-fd", str(w)] + args,
                               input=req.encode(), capture_output=True,
                               pass_fds=(w,), env=WORKER_ENV, timeout=60)
        finally:
            os.close(w)
        doc = b""
        while True:
            b = os.read(r, 65536)
            if not b:
                break
            doc += b
        os.close(r)
        return p, doc
    bogus, _ = helper(HELPER, ["--no-such-option-tg"])
    for flag, arg in (("--egress-test-allow", ["127.0.0.1:%d" % ctx["port"]]),
                      ("--test-ready-first", []),
                      ("--test-child-delay-ms", ["100"])):
        p, doc = helper(HELPER, [flag] + arg)
        err = p.stderr.decode(errors="replace")
        tp, tdoc = helper(HELPER_TEST, [flag] + arg)
        try:
            tres = json.loads(tdoc).get("result")
        except ValueError:
            tres = None
        d = drive(run_req("def main():\n    return 5\n"), [flag] + arg,
                  helper=HELPER)
        report("production helper refuses the test hook " + flag,
               p.returncode == bogus.returncode == 1 and doc == b"" and
               "unknown option" in err and flag in err and
               flag.encode() not in blob and
               d.get("client_error") is not None and "result" not in d and
               tp.returncode == 0 and tres == 5,
               "rc %r (bogus %r) stderr %r status %r in binary %r client %r; "
               "test build rc %r status %r" % (
                   p.returncode, bogus.returncode, err[:200], doc[:100],
                   flag.encode() in blob, d, tp.returncode, tdoc[:200]))


def orphan_req():
    """A tool that forks a process of its own and sleeps, with approved
    hosts (an egress proxy runs beside it): every kind of process a call
    has."""
    return run_req("import os, time\ndef main():\n    if os.fork() == 0:\n"
                   "        time.sleep(60)\n        os._exit(0)\n"
                   "    time.sleep(60)\n", allowed_modules=["*"],
                   allowed_hosts=["example.com"],
                   limits={"timeout_ms": 90000})


def wait_tree(pid, depth, secs=20):
    """Descendants of pid once one is depth levels down (the tool's own
    fork: the call is running), plus a moment for the rest to settle."""
    end = time.time() + secs
    while time.time() < end:
        t = tree(pid)
        if any(d >= depth for _, d, _ in t):
            time.sleep(0.3)
            return tree(pid)
        time.sleep(0.05)
    return []


def left_after(procs, secs=15):
    """Which of procs [(pid, depth, start)] are still running after up to
    secs (a generous bound: each should go within milliseconds)."""
    end = time.time() + secs
    while True:
        alive = [(p, d) for p, d, st in procs if running(p, st)]
        if not alive or time.time() >= end:
            return alive
        time.sleep(0.05)


def orphans():
    """Reliability (issue 18): a worker that dies in the middle of a call
    leaves no helper, zygote, parked child, egress proxy or sandbox
    process behind, and a one-shot helper whose worker is gone stops the
    run even if PDEATHSIG never reached it."""
    # the worker (sandbox-drive: lib/sandbox_client.c) SIGKILLed mid-call;
    # depth of the tool's own fork: drive > helper > [zygote >] child > fork
    if MODE == "warm":
        cmd = AS_USER + [DRIVE, "--helper", HELPER, "--warm-strict", "--lines"]
        line = json.dumps({"request": orphan_req(), "flags": []}) + "\n"
        depth = 4
    else:
        cmd = AS_USER + [DRIVE, "--helper", HELPER]
        line = json.dumps(orphan_req())
        depth = 3
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=WORKER_ENV)
    p.stdin.write(line.encode())
    p.stdin.flush()
    if MODE != "warm":
        p.stdin.close()
    procs = wait_tree(p.pid, depth)
    p.kill()
    p.wait()
    alive = left_after(procs)
    report("a worker killed mid-call leaves no process of the call",
           len(procs) >= depth and not alive,
           "processes %r, still running %r" % (procs, alive))
    if MODE == "warm":
        return
    # the status pipe's reader gone, the helper's parent still alive (as
    # when PDEATHSIG was lost): the helper ends the run and exits
    r, w = os.pipe()
    h = subprocess.Popen(AS_USER + [HELPER, "--status-fd", str(w)],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, pass_fds=(w,),
                         env=WORKER_ENV)
    h.stdin.write(json.dumps(orphan_req()).encode())
    h.stdin.close()
    os.close(w)
    procs = wait_tree(h.pid, 2)
    os.close(r)
    try:
        h.wait(timeout=15)
        ended = True
    except subprocess.TimeoutExpired:
        ended = False
        h.kill()
        h.wait()
    alive = left_after(procs)
    report("a helper whose status reader is gone stops the run and exits",
           len(procs) >= 2 and ended and not alive,
           "ended %r, processes %r, still running %r" % (ended, procs, alive))
    # the helper killed between its clone and the child's PR_SET_PDEATHSIG
    # (--test-child-delay-ms holds the child there): the child must see
    # its parent's death as EOF on the sync pipe, not wait for a byte
    # forever as pid 1 of its namespace (deaf to SIGTERM). The issue 18
    # bench left such a "helper" (the child's command line before exec).
    r, w = os.pipe()
    h = subprocess.Popen(AS_USER + [HELPER_TEST, "--status-fd", str(w),
                                    "--test-child-delay-ms", "1500"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, pass_fds=(w,),
                         env=WORKER_ENV)
    h.stdin.write(json.dumps(run_req(
        "import time\ndef main():\n    time.sleep(60)\n",
        limits={"timeout_ms": 90000})).encode())
    h.stdin.close()
    os.close(w)
    procs = wait_tree(h.pid, 1)
    h.kill()
    h.wait()
    os.close(r)
    alive = left_after(procs)
    for pid, _ in alive:  # do not leave it behind for the next tests
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    report("a sandbox whose helper died before its PDEATHSIG exits",
           len(procs) >= 1 and not alive,
           "processes %r, still running %r" % (procs, alive))


def plant(ctx):
    """A call with a secret and an argument that later calls must never
    see (44_memory_before_the_fork looks for them in its own memory)."""
    import hashlib
    tok = os.urandom(16).hex()
    secret, arg = "PLANTED-" + tok, "PLANTED-" + tok[::-1]
    drive(run_req("def main(a):\n    return len(SECRETS['k'] + a)\n",
                  secrets={"k": secret}, arguments={"a": arg}))
    ctx["args"]["44_memory_before_the_fork"] = {"hashes": [
        hashlib.sha256(x.encode()).hexdigest() for x in (secret, arg)]}
    # and the older canary of 32_secrets_of_another_server
    drive(run_req("def main():\n    open('/tmp/s', 'w').write("
                  "SECRETS['k'])\n", secrets={"k": "OTHER-SERVER-SECRET"}))


def warm_only():
    """What only warm sandboxes have: one zygote for many calls."""
    r1 = drive(run_req("import os, random\ndef main():\n    return [random"
                       ".random(), os.urandom(8).hex()]\n",
                       allowed_modules=["*"]))
    r2 = drive(run_req("import os, random\ndef main():\n    return [random"
                       ".random(), os.urandom(8).hex()]\n",
                       allowed_modules=["*"]))
    report("random state differs between calls of one zygote",
           r1.get("sandbox") == r2.get("sandbox") == "warm" and
           r1["result"][0] != r2["result"][0] and
           r1["result"][1] != r2["result"][1], "%r %r" % (r1, r2))
    # a child is shaped by the call's limits: another tmp_mb is another child
    code = ("import os\ndef main():\n    s = os.statvfs('/tmp')\n"
            "    return s.f_blocks * s.f_frsize // (1 << 20)\n")
    a = drive(run_req(code, limits={"tmp_mb": 2}, allowed_modules=["*"]))
    b = drive(run_req(code, limits={"tmp_mb": 5}, allowed_modules=["*"]))
    report("each call gets a /tmp sized by its own limits",
           a.get("result") == 2 and b.get("result") == 5 and
           a.get("sandbox") == b.get("sandbox") == "warm", "%r %r" % (a, b))
    # bombs do not harm the zygote or the next call
    z0 = WARM.zygotes()
    bombs = [open(os.path.join(HERE, "attacks", n)).read() + CASE_END for n in
             ("01_fork_bomb.py", "03_memory_bomb.py", "02_thread_bomb.py")]
    for code in bombs:
        drive(run_req(code, entry="_tg_case_end", allowed_modules=["*"]))
    after = drive(run_req("def main():\n    return 'fine'\n"))
    report("a fork, memory and thread bomb leave the zygote and the next call",
           after.get("result") == "fine" and after.get("sandbox") == "warm" and
           z0 and WARM.zygotes() == z0, "%r zygotes %r -> %r" % (
               after, z0, WARM.zygotes()))
    # a dead zygote is replaced
    for z in WARM.zygotes():
        os.kill(z, signal.SIGKILL)
        end = time.monotonic() + 30
        while time.monotonic() < end:  # dead (a zombie until reaped)
            try:
                if open("/proc/%d/stat" % z).read().rsplit(")", 1)[1] \
                        .split()[0] == "Z":
                    break
            except (OSError, IndexError):
                break
            time.sleep(0.01)
    after = drive(run_req("def main():\n    return 'again'\n"))
    z1 = WARM.zygotes()
    report("a zygote that dies is replaced", after.get("result") == "again" and
           after.get("sandbox") == "warm" and z1 and set(z1) != set(z0),
           "%r zygotes %r -> %r" % (after, z0, z1))
    # recycling after N calls: a client with --warm-calls 2
    rec = WarmDriver(["--warm-calls", "2"])
    seen = []
    try:
        for _ in range(5):
            d = rec.run(run_req("def main():\n    return 1\n"))
            if d.get("sandbox") != "warm":
                seen.append(("not warm", d))
            seen.append(tuple(rec.zygotes()))
    finally:
        rec.close()
    zs = [x for x in seen if isinstance(x, tuple)]
    report("the zygote is recycled after N calls",
           len(zs) == 5 and len(set(zs)) >= 2 and
           not [x for x in seen if not isinstance(x, tuple)], repr(seen))
    # issue 18: a child's "ready" that comes before the zygote's message
    # naming it (pidfd, pid). --test-ready-first makes that order certain
    # (zygote.c ready_first); a helper that took the child on its "ready"
    # alone ran a call nothing watched, until the client gave up.
    rf = WarmDriver(helper=HELPER_TEST)
    got = []
    try:
        for i in range(3):
            d = rf.run(run_req("def main(x: int = 0):\n    return x * 2\n",
                               arguments={"x": i},
                               limits={"timeout_ms": 3000}),
                       flags=["--test-ready-first"]) or {}
            got.append((d.get("result"), d.get("sandbox"),
                        d.get("client_error")))
    finally:
        rf.close()
    report("a child ready before the zygote names it still runs its call",
           got == [(0, "warm", None), (2, "warm", None), (4, "warm", None)],
           repr(got))
    # the cold fallback: a warm (not strict) client with no zygote yet
    cmd = AS_USER + [DRIVE, "--helper", HELPER, "--warm"]
    p = subprocess.run(cmd, input=json.dumps(run_req(
        "def main():\n    return 3\n")).encode(), capture_output=True,
        env=WORKER_ENV)
    try:
        d = json.loads(p.stdout)
    except ValueError:
        d = {}
    report("a call before the zygote is up runs cold, and says so",
           d.get("result") == 3 and d.get("sandbox") == "cold",
           p.stdout[:300])


def catches(pid, sig):
    """pid has a handler for signal sig (SigCgt of /proc/PID/status)."""
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


def pidns_of(pid):
    try:
        return os.readlink("/proc/%d/ns/pid" % pid)
    except OSError:
        return None


def parked():
    """Issue 18: the next call's child is forked and isolated while the
    current call runs (helper.c kid_ask_ahead). It serves exactly one call,
    is isolated exactly like any other child, gets the call's limits, and
    does not outlive --warm-ms."""
    drv = WarmDriver()
    try:
        drv.run(run_req("def main():\n    return 0\n"))  # a zygote is up
        z = drv.zygotes()
        during = []
        box = {}
        # call A runs until we release it (SIGUSR1; a generous bound
        # should we never); meanwhile the zygote's children are the
        # running child and the next call's parked child. No window to
        # hit: we look until we have seen both, however slow the host.
        code_a = ("import os, signal, time\ndef main():\n"
                  "    open('/tmp/left-by-a', 'w').write('a')\n"
                  "    os.environ['TG_LEFT_BY_A'] = '1'\n"
                  "    seen = sorted(d for d in os.listdir('/proc') "
                  "if d.isdigit())\n"
                  "    go = []\n"
                  "    signal.signal(signal.SIGUSR1, lambda *a: go.append(1))\n"
                  "    end = time.monotonic() + 20\n"
                  "    while not go and time.monotonic() < end:\n"
                  "        time.sleep(0.02)\n"
                  "    return [os.readlink('/proc/self/ns/pid'), seen, "
                  "bool(go)]\n")
        # (the default limits, as call B's: a parked child shaped by
        # other limits would be discarded, not serve B; 20 s is well
        # inside their 30 s timeout)
        th = threading.Thread(target=lambda: box.setdefault(
            "a", drv.run(run_req(code_a, allowed_modules=["*"]))))
        th.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and z and th.is_alive():
            # live children (an earlier call's child may not be reaped
            # yet); A: the one that catches SIGUSR1 (its tool is running)
            kids = [k for k in children(z[0]) if running(k)]
            run = [k for k in kids if catches(k, signal.SIGUSR1)]
            if len(kids) == 2 and run:
                during = [(k, pidns_of(k)) for k in kids]
                os.kill(run[0], signal.SIGUSR1)
                break
            time.sleep(0.02)
        th.join(90)
        a = box.get("a") or {}
        code_b = ("import os, socket\ndef main():\n"
                  "    s = socket.socket()\n    s.settimeout(1)\n"
                  "    try:\n        s.connect(('1.1.1.1', 53))\n"
                  "        net = 'reached'\n"
                  "    except OSError as e:\n        net = 'no: %d' % e.errno\n"
                  "    return [os.readlink('/proc/self/ns/pid'), os.getpid(),"
                  " sorted(os.listdir('/tmp')), sorted(d for d in "
                  "os.listdir('/proc') if d.isdigit()), "
                  "os.environ.get('TG_LEFT_BY_A'), net]\n")
        b = drv.run(run_req(code_b, allowed_modules=["*"]))
        nsa = (a.get("result") or [None])[0]
        nsb = (b.get("result") or [None])[0]
        parked_ns = [ns for _, ns in during if ns != nsa]
        report("the next call's child is parked while a call runs",
               a.get("sandbox") == "warm" and len(during) == 2 and
               (a.get("result") or [0, 0, False])[2] is True and
               nsa in [ns for _, ns in during] and len(parked_ns) == 1,
               "a=%r during=%r" % (a, during))
        report("the child parked during a call serves the next call, "
               "and only it",
               b.get("sandbox") == "warm" and nsb is not None and
               nsb != nsa and parked_ns == [nsb] and
               all(pidns_of(k) is None or pidns_of(k) not in (nsa, nsb)
                   for k, _ in during),
               "a=%r b=%r during=%r" % (nsa, b, during))
        r = b.get("result") or [None] * 6
        report("a child parked during a call is isolated from it (pid 1, "
               "own /tmp, /proc, env, no network)",
               r[1] == 1 and r[2] == [] and r[3] == ["1"] and
               r[4] is None and str(r[5]).startswith("no") and
               (a.get("result") or [0, None])[1] == ["1"], repr((a, b)))
        # limits: each call runs with its own, whatever the parked child
        # was shaped by (a child of other limits is discarded)
        code_l = ("import resource\ndef main():\n    return ["
                  "resource.getrlimit(resource.RLIMIT_AS)[0] >> 20, "
                  "resource.getrlimit(resource.RLIMIT_NPROC)[0], "
                  "resource.getrlimit(resource.RLIMIT_CPU)[0]]\n")
        got = []
        for lim in ({"memory_mb": 200, "max_procs": 5, "timeout_ms": 3000},
                    {"memory_mb": 300, "max_procs": 7, "timeout_ms": 6000},
                    {"memory_mb": 300, "max_procs": 7, "timeout_ms": 6000},
                    {"memory_mb": 250, "max_procs": 4, "timeout_ms": 2000}):
            d = drv.run(run_req(code_l, limits=lim, allowed_modules=["*"]))
            got.append((d.get("sandbox"), d.get("result")))
        report("a parked child runs a call only with that call's limits",
               got == [("warm", [200, 7, 4]), ("warm", [300, 9, 7]),
                       ("warm", [300, 9, 7]), ("warm", [250, 6, 3])],
               repr(got))
    finally:
        drv.close()
    # expiry: with --warm-ms 2000 the helper recycles the zygote and its
    # parked child on time, with no call coming
    exp = WarmDriver(["--warm-ms", "2000"])
    try:
        d1 = exp.run(run_req("def main():\n    return 1\n"))
        z0 = exp.zygotes()
        k0 = []
        end = time.monotonic() + 30
        while time.monotonic() < end:  # the child parked after the call
            k0 = children(z0[0]) if z0 else []
            if k0:
                break
            time.sleep(0.02)
        gone = False
        end = time.monotonic() + 30
        while time.monotonic() < end:  # no call meanwhile
            time.sleep(0.05)
            z1 = exp.zygotes()
            if z1 and set(z1).isdisjoint(z0) and \
                    all(pidns_of(k) is None for k in k0):
                gone = True
                break
        d2 = exp.run(run_req("def main():\n    return 2\n"))
    finally:
        exp.close()
    report("a parked child and its zygote are discarded after --warm-ms "
           "with no call",
           d1.get("sandbox") == "warm" and len(k0) == 1 and gone and
           d2.get("result") == 2 and d2.get("sandbox") == "warm",
           "d1=%r z0=%r k0=%r d2=%r" % (d1, z0, k0, d2))


def main():
    global MODE, WARM, WARM_TEST
    for path in (HELPER, HELPER_TEST, DRIVE):
        if not os.access(path, os.X_OK):
            print("missing %s: run `make sandbox sandbox-test` first" % path)
            print("0 passed, 1 failed")
            return 1
    srv = subprocess.Popen(["/usr/bin/python3.11", "-I",
                            os.path.join(HERE, "egress_server.py")],
                           stdout=subprocess.PIPE)
    port = int(srv.stdout.readline())
    # canaries: an abstract and a path unix socket on the host
    abstract = "toolgate-canary-%d" % os.getpid()
    ca = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ca.bind("\0" + abstract)
    ca.listen(1)
    cdir = tempfile.mkdtemp(prefix="tg-canary-")
    os.chmod(cdir, 0o755)
    cpath = os.path.join(cdir, "canary.sock")
    cp = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cp.bind(cpath)
    os.chmod(cpath, 0o777)
    cp.listen(1)
    victim = subprocess.Popen(AS_USER + ["sleep", "60"])
    ctx = {"port": port, "args": {
        "29_loopback_tcp": {"port": port},
        "30_unix_sockets": {"canary_path": cpath,
                            "canary_abstract": abstract},
        "41_degraded_mode": {"victim": victim.pid},
    }}
    only = os.environ.get("TG_SANDBOX_MODES", "cold warm").split()
    try:
        if "cold" in only:
            plant(ctx)
            case_end_selftest()
            run_attacks(ctx)
            report("degraded victim survived", victim.poll() is None,
                   "the degraded tool signalled a process outside the sandbox")
            functional(ctx)
            lifecycle(ctx)
            test_hooks(ctx)
            orphans()
        if "warm" in only:
            # the same attack cases and functional tests, warm
            MODE = "warm"
            WARM = WarmDriver()
            try:
                plant(ctx)
                case_end_selftest()
                run_attacks(ctx)
                functional(ctx)
                warm_only()
                parked()
                orphans()
            finally:
                WARM.close()
                if WARM_TEST is not None:
                    WARM_TEST.close()
                    WARM_TEST = None
                MODE = "cold"
    finally:
        victim.kill()
        victim.wait()
        srv.kill()
        srv.wait()
        ca.close()
        cp.close()
        os.unlink(cpath)
        os.rmdir(cdir)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
