# attack: reach PostgreSQL and other loopback services over TCP
import socket
def main(port: int = 5432):
    hits = []
    for host, p in [("127.0.0.1", 5432), ("127.0.0.1", port), ("::1", 5432),
                    ("169.254.169.254", 80), ("10.0.0.1", 80)]:
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect((host, p))
            hits.append("%s:%d" % (host, p))
        except OSError:
            pass
        s.close()
    if hits:
        print("ESCAPED:", hits)
