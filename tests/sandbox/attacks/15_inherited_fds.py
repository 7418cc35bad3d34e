# attack: fds leaked by the worker (the harness leaks fds 9-11)
# setup: leak-fds
import os
def main():
    fds = sorted(int(x) for x in os.listdir("/proc/self/fd"))
    extra = [f for f in fds if f > 3]
    hits = []
    for f in range(4, 64):
        try:
            os.fstat(f)
        except OSError:
            continue
        try:
            data = os.pread(f, 100, 0)
            if b"CANARY" in data:
                hits.append(f)
        except OSError:
            pass
        try:
            os.listdir(f)
            hits.append("dirfd %d" % f)
        except (OSError, TypeError):
            pass
    if hits:
        print("ESCAPED:", hits, extra)
    return fds
