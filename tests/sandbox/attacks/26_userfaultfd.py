# attack: userfaultfd (race amplifier for kernel exploits)
import ctypes
def main():
    libc = ctypes.CDLL(None, use_errno=True)
    r1 = libc.syscall(323, 0o2000000 | 1)   # O_CLOEXEC | UFFD_USER_MODE_ONLY
    r2 = libc.syscall(323, 0)
    if r1 >= 0 or r2 >= 0:
        print("ESCAPED: userfaultfd", r1, r2)
