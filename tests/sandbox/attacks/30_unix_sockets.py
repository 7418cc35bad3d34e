# attack: host unix sockets (PostgreSQL socket, abstract canary, /tmp canary)
import socket, os
def main(canary_path: str = "", canary_abstract: str = ""):
    hits = []
    paths = ["/var/run/postgresql/.s.PGSQL.5432", "/run/postgresql/.s.PGSQL.5432",
             "/tmp/.s.PGSQL.5432"]
    if canary_path:
        paths.append(canary_path)
    for p in paths:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(p)
            hits.append(p)
        except OSError:
            pass
        s.close()
    if canary_abstract:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect("\0" + canary_abstract)
            hits.append("abstract")
        except OSError:
            pass
    if hits:
        print("ESCAPED:", hits)
