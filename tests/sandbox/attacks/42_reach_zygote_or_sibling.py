# attack: reach the process a warm call was forked from (its zygote) or a
# sibling call: signals to every pid, ptrace, process_vm_readv,
# /proc/<pid>/mem, the parent, inherited fds, unix sockets. A cold run has
# no zygote; the same must hold there (own pid namespace, nothing else).
import ctypes
import os
import signal
import socket
def main():
    hits = []
    me = os.getpid()
    if me != 1:
        hits.append("not pid 1 of its own pid namespace: %d" % me)
    if os.getppid() != 0:
        hits.append("a parent is visible: %d" % os.getppid())
    pids = sorted(int(d) for d in os.listdir("/proc") if d.isdigit())
    if pids != [1]:
        hits.append("other processes are visible: %r" % pids)
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(64)
    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    local = iovec(ctypes.cast(buf, ctypes.c_void_p), 64)
    for pid in range(2, 400):
        try:
            os.kill(pid, 0)
            hits.append("signal reaches pid %d" % pid)
        except OSError:
            pass
        remote = iovec(0x400000, 64)
        if libc.process_vm_readv(pid, ctypes.byref(local), 1,
                                 ctypes.byref(remote), 1, 0) > 0:
            hits.append("process_vm_readv of pid %d" % pid)
        if libc.ptrace(16, pid, 0, 0) == 0:  # PTRACE_ATTACH
            hits.append("ptrace attach to pid %d" % pid)
        try:
            open("/proc/%d/mem" % pid, "rb").close()
            hits.append("/proc/%d/mem opened" % pid)
        except OSError:
            pass
    # kill(-1) reaches every process we may signal: only our own here
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    try:
        os.kill(-1, signal.SIGUSR1)
        hits.append("kill(-1) reached a process")
    except ProcessLookupError:
        pass
    # fds: the runner's 0-3 and nothing inherited
    fds = sorted(int(x) for x in os.listdir("/proc/self/fd"))
    extra = []
    for f in fds:
        if f > 3:
            try:
                os.fstat(f)
                extra.append(f)
            except OSError:
                pass  # the directory listing's own fd
    if extra:
        hits.append("unexpected fds %r" % extra)
    # unix sockets of a sibling or the zygote: abstract names in the
    # network namespace, and the paths the helper uses
    for name in ["\0toolgate-zygote", "\0toolgate-warm", "/run/toolgate/egress.sock"]:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(name)
            hits.append("connected to %r" % name)
        except OSError:
            pass
        s.close()
    if hits:
        print("ESCAPED:", hits)
    return len(pids)
