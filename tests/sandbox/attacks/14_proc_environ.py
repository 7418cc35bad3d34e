# attack: environment of other processes and our own
import os
def main():
    hits = []
    for k, v in os.environ.items():
        if "CANARY" in k or "CANARY" in v or k.startswith(("TOOLGATE_SECRET", "PG")):
            hits.append(k)
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if b"CANARY" in open("/proc/%s/environ" % d, "rb").read():
                    hits.append(d)
            except OSError:
                pass
    if hits:
        print("ESCAPED:", hits)
