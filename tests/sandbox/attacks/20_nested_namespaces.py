# attack: new namespaces from inside (unshare, clone flags, setns)
import ctypes, os
def main():
    libc = ctypes.CDLL(None, use_errno=True)
    hits = []
    for flag, name in [(0x10000000, "user"), (0x20000, "mnt"), (0x40000000, "net"),
                       (0x20000000, "pid"), (0x04000000, "uts")]:
        if libc.unshare(flag) == 0:
            hits.append("unshare " + name)
    fd = os.open("/proc/self/ns/user", os.O_RDONLY)
    if libc.setns(fd, 0) == 0:
        hits.append("setns")
    # clone(2) with CLONE_NEWUSER through syscall 56
    r = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)
    if r == 0:
        os._exit(0)
    if r > 0:
        hits.append("clone newuser")
    if hits:
        print("ESCAPED:", hits)
