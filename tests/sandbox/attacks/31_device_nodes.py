# attack: device nodes
import os
def main():
    hits = []
    try:
        devs = sorted(os.listdir("/dev"))
    except OSError:  # listing /dev is refused (landlock): nothing to see
        devs = []
    allowed = {"null", "zero", "full", "random", "urandom", "fd", "stdin",
               "stdout", "stderr", "shm"}
    if set(devs) - allowed:
        hits.append(sorted(set(devs) - allowed))
    for p in ["/dev/mem", "/dev/kmsg", "/dev/vsock", "/dev/sda", "/dev/vda", "/dev/tty"]:
        try:
            os.close(os.open(p, os.O_RDONLY))
            hits.append(p)
        except OSError:
            pass
    try:
        os.mknod("/tmp/mem", 0o600 | 0o020000, os.makedev(1, 1))
        hits.append("mknod")
    except OSError:
        pass
    if hits:
        print("ESCAPED:", hits)
