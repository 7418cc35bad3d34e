# attack: mount, remount read-write, chroot, pivot_root
import ctypes
def main():
    libc = ctypes.CDLL(None, use_errno=True)
    hits = []
    if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0:
        hits.append("mount")
    if libc.mount(None, b"/", None, 32 | 4096, None) == 0:  # MS_REMOUNT|MS_BIND rw
        hits.append("remount /")
    if libc.mount(None, b"/usr", None, 32 | 4096, None) == 0:
        hits.append("remount /usr")
    if libc.chroot(b"/tmp") == 0:
        hits.append("chroot")
    if libc.syscall(155, b"/tmp", b"/tmp") == 0:
        hits.append("pivot_root")
    if libc.umount2(b"/proc", 2) == 0:
        hits.append("umount")
    if hits:
        print("ESCAPED:", hits)
