# attack: degraded mode (no namespaces): host files, /proc, network, signals
# flags: --force-degraded --allow-degraded
# expect: {"isolation": "degraded"}
import os, socket, signal
def main(victim: int = 0):
    hits = reached(["/etc/passwd", "/proc/self/environ", "/proc/1/environ",
                    "/work/main/sandbox/helper.c", "/tmp", "/var/tmp"])
    for fam in (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX):
        try:
            socket.socket(fam, socket.SOCK_STREAM).close()
            hits.append("socket %d" % fam)
        except OSError:
            pass
    if victim:
        try:
            os.kill(victim, signal.SIGTERM)
            hits.append("signalled %d" % victim)
        except OSError:
            pass
    if hits:
        print("ESCAPED:", hits)
