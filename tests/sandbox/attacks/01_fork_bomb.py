# attack: fork bomb; RLIMIT_NPROC inside the user namespace must stop it
# (or the memory limit, whichever the children reach first)
# expect-any: {"error.type": "MemoryLimit"} | {"ok": true}
import os, time
def main():
    n = 0
    for _ in range(500):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
    if n >= 100:
        print("ESCAPED: forked", n)
    return n
