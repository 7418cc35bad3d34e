# attack: ptrace, and signals to processes outside the sandbox
import ctypes, os
def main():
    libc = ctypes.CDLL(None, use_errno=True)
    hits = []
    if libc.ptrace(16, 1, 0, 0) == 0:   # PTRACE_ATTACH to pid 1 (ourselves)
        hits.append("ptrace attach")
    if libc.ptrace(0, 0, 0, 0) == 0:    # PTRACE_TRACEME
        hits.append("traceme")
    if os.getppid() != 0:
        hits.append("parent visible %d" % os.getppid())
    mine = {int(p) for p in os.listdir("/proc") if p.isdigit()}
    for pid in range(2, 4000):
        if pid in mine:
            continue
        try:
            os.kill(pid, 0)
            hits.append("signal %d" % pid)
            break
        except OSError:
            pass
    if hits:
        print("ESCAPED:", hits)
