# attack: look for another server's secrets (the harness put one in the
# worker environment and in a previous run's secrets)
# secrets: {"mine": "own-secret"}
import os
def main():
    needle = b"OTHER-SERVER-SECRET"
    hits = []
    if dict(SECRETS) != {"mine": "own-secret"}:
        hits.append("unexpected secrets %r" % dict(SECRETS))
    for root in ["/tmp", "/run", "/etc", "/dev/shm"]:
        for dp, dn, fn in os.walk(root):
            for f in fn:
                try:
                    if needle in open(os.path.join(dp, f), "rb").read():
                        hits.append(f)
                except OSError:
                    pass
    for d in os.listdir("/proc"):
        for leaf in ("environ", "cmdline"):
            try:
                if needle in open("/proc/%s/%s" % (d, leaf), "rb").read():
                    hits.append(d + leaf)
            except OSError:
                pass
    if hits:
        print("ESCAPED:", hits)
