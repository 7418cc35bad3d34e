# attack: fork bomb; RLIMIT_NPROC inside the user namespace must stop it
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
