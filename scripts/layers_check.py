#!/usr/bin/env python3
"""layers_check.py - the layering rules of docs/architecture.md ("Layers"),
checked on the sources as text; `make layers-check` runs it and `make check`
runs that first. Prints one line per violation and exits 1 when there is any.

Rules:
  1. lib/ includes only lib/ (never "fcgi/..." or "handlers/...").
  2. fcgi/ never includes handlers/; handlers/ never includes the CLI or the
     process code (fcgi/cli*, fcgi/main, fcgi/worker).
  3. The transports (every .c in handlers/ and fcgi/: the router and its
     access step, the processes, the CLI) hold no SQL: no string literal
     that starts a statement (SELECT, INSERT INTO, UPDATE <table> SET, DELETE
     FROM, WITH ... AS), no query call (tg_db_exec, tg_db_begin/commit/
     rollback, tg_db_script, tg_db_conn, PQexec*, PQprepare) and no libpq
     result (PGresult, PQ* calls, <libpq-fe.h>). Opening and closing a
     connection (tg_db_open, tg_db_ok, tg_db_close) is fine.
  4. No include cycle between modules. A module is a .c and its .h (lib/tools
     for lib/tools.c and lib/tools.h); an internal header without a .c of its
     own, named <module>_int.h or <module>_conn.h, belongs to <module>.
  5. No C file in fcgi/, handlers/ or lib/ over 1,200 lines.
"""
import glob
import os
import re
import sys

MAX_LINES = 1200
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SQL_LITERAL = re.compile(
    r'"\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|'
    r'WITH\s+\w+\s+AS\s*\()')
SQL_CALL = re.compile(
    r'\b(tg_db_exec|tg_db_begin|tg_db_commit|tg_db_rollback|tg_db_script|'
    r'tg_db_conn|PQexec\w*|PQprepare)\s*\(')
LIBPQ = re.compile(r'\bPGresult\b|\bPQ[a-z]\w*\s*\(|<libpq-fe\.h>')

problems = []


def sources(*patterns):
    out = []
    for p in patterns:
        out.extend(glob.glob(p))
    return sorted(set(out))


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield n, m.group(1)


def module(path):
    stem = os.path.splitext(path)[0]
    if not os.path.exists(stem + ".c"):
        for suffix in ("_int", "_conn"):
            if stem.endswith(suffix):
                return stem[: -len(suffix)]
    return stem


def strip_comments(text):
    # Comments out, string literals kept (a "SELECT" in a comment is prose).
    return re.sub(r'/\*.*?\*/', lambda m: "\n" * m.group(0).count("\n"),
                  text, flags=re.S)


app = sources("lib/*.[ch]", "fcgi/*.[ch]", "handlers/*.[ch]")

# 1, 2: what each layer may include
for path in app:
    layer = path.split("/", 1)[0]
    for n, inc in includes(path):
        bad = None
        if layer == "lib" and inc.startswith(("fcgi/", "handlers/")):
            bad = "lib/ includes only lib/"
        elif layer == "fcgi" and inc.startswith("handlers/"):
            bad = "fcgi/ never includes handlers/"
        elif layer == "handlers" and re.match(r"fcgi/(cli|main|worker)", inc):
            bad = "handlers/ never includes the CLI or the process code"
        if bad:
            problems.append(f"{path}:{n}: includes \"{inc}\" ({bad})")

# 3: no SQL in the transports (handlers/, fcgi/)
for path in sources("handlers/*.[ch]", "fcgi/*.[ch]"):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = strip_comments(f.read()).split("\n")
    for n, line in enumerate(lines, 1):
        if SQL_LITERAL.search(line) or SQL_CALL.search(line) or LIBPQ.search(line):
            problems.append(f"{path}:{n}: SQL outside lib/ ({line.strip()[:60]})")

# 4: no include cycles between modules
edges = {}
for path in app:
    a = module(path)
    for _, inc in includes(path):
        b = module(inc)
        if b != a and os.path.exists(inc):
            edges.setdefault(a, set()).add(b)

index, low, stack, on_stack, cycles = {}, {}, [], set(), []


def strongconnect(v):
    # Tarjan's algorithm, iterative (no recursion limit to worry about).
    work = [(v, iter(sorted(edges.get(v, ()))))]
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    while work:
        node, it = work[-1]
        for w in it:
            if w not in index:
                index[w] = low[w] = len(index)
                stack.append(w)
                on_stack.add(w)
                work.append((w, iter(sorted(edges.get(w, ())))))
                break
            if w in on_stack:
                low[node] = min(low[node], index[w])
        else:
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    cycles.append(sorted(comp))


for v in sorted(edges):
    if v not in index:
        strongconnect(v)
for comp in cycles:
    detail = "; ".join(
        f"{a} -> {', '.join(sorted(b for b in edges.get(a, ()) if b in comp))}"
        for a in comp)
    problems.append(f"include cycle: {detail}")

# 5: file size
for path in sources("lib/*.c", "fcgi/*.c", "handlers/*.c"):
    with open(path, encoding="utf-8", errors="replace") as f:
        n = sum(1 for _ in f)
    if n > MAX_LINES:
        problems.append(f"{path}: {n} lines (at most {MAX_LINES})")

for p in problems:
    print(f"layers-check: {p}")
if problems:
    print(f"layers-check: {len(problems)} problem(s); see docs/architecture.md#layers")
    sys.exit(1)
print("layers-check: ok")
