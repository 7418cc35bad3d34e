#!/usr/bin/env python3
"""bench/streams.py - N idle streams through nginx, then list_changed
fan-out latency (bench/streams.sh runs it; docs/performance.md "Streams").

Opens N/2 GET /mcp streams of one 2025-11-25 session and N/2 2026-07-28
subscriptions/listen streams (API key), waits until every one is open,
prints "open N", then reads commands on stdin:
  mark          -> the clients note the time (t0) and answer "marked"
  done          -> the change's REST request has been answered: note t1
  wait          -> waits until every stream has seen one more
                   notifications/tools/list_changed since the last mark
                   (30 s at most) and prints the latencies (ms, recv - t0)
  quit
Latency is measured from just before the caller makes the change (so it
includes the REST request that makes it) to the moment the client has read
the event; "wait" prints the REST request's own time first.
"""
import json
import os
import resource
import select
import socket
import sys
import time

HOST, PORT = "127.0.0.1", int(os.environ["BENCH_PORT"])
KEY, SID, N = os.environ["BENCH_KEY"], os.environ["BENCH_SID"], int(os.environ["BENCH_STREAMS"])

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

def request(i):
    if i % 2 == 0:
        return ("GET /mcp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Accept: text/event-stream\r\nMcp-Session-Id: %s\r\n"
                "MCP-Protocol-Version: 2025-11-25\r\n\r\n" % (KEY, SID)).encode()
    body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "subscriptions/listen",
                       "params": {"notifications": {"toolsListChanged": True}, "_meta": {
                           "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                           "io.modelcontextprotocol/clientCapabilities": {}}}}).encode()
    return ("POST /mcp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n"
            "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: subscriptions/listen\r\n"
            "Content-Length: %d\r\n\r\n" % (KEY, len(body))).encode() + body


def open_all():
    """Connects every stream (blocking, in turn) until its status line is
    in; returns the sockets, non-blocking."""
    socks = []
    for i in range(N):
        s = socket.create_connection((HOST, PORT))
        s.sendall(request(i))
        head = b""
        while b"\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                raise SystemExit("stream %d closed during the handshake" % i)
            head += chunk
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise SystemExit("stream %d: %r" % (i, head[:200]))
        s.setblocking(False)
        socks.append(s)
    return socks


def main():
    seen = [0] * N
    when = [0.0] * N
    socks = open_all()
    ep = select.epoll()
    fdmap = {}
    for i, s in enumerate(socks):
        ep.register(s.fileno(), select.EPOLLIN)
        fdmap[s.fileno()] = i
    ep.register(sys.stdin.fileno(), select.EPOLLIN)
    time.sleep(1)
    print("open %d" % N, flush=True)
    base, t0, t1 = [0] * N, 0.0, 0.0
    waiting, deadline = False, 0.0
    needle = b"notifications/tools/list_changed"
    while True:
        for fd, _ in ep.poll(0.05):
            if fd == sys.stdin.fileno():
                chunk = os.read(fd, 4096)
                if not chunk:
                    return
                for cmd in chunk.decode().split():
                    if cmd == "mark":
                        base, t0 = list(seen), time.monotonic()
                        print("marked", flush=True)
                    elif cmd == "done":
                        t1 = time.monotonic()
                    elif cmd == "wait":
                        waiting, deadline = True, time.monotonic() + 30
                    else:
                        return
                continue
            i = fdmap[fd]
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                raise SystemExit("stream %d closed" % i)
            k = data.count(needle)
            if k:
                seen[i] += k
                when[i] = time.monotonic()
        if waiting and (all(seen[i] > base[i] for i in range(N)) or time.monotonic() > deadline):
            waiting = False
            lat = [(when[i] - t0) * 1000 for i in range(N) if seen[i] > base[i]]
            print("lat %.1f " % ((t1 - t0) * 1000) + " ".join("%.1f" % x for x in lat), flush=True)


main()
