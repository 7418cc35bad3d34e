# attack: kernel keyrings (not namespaced)
import ctypes
def main():
    libc = ctypes.CDLL(None, use_errno=True)
    r1 = libc.syscall(250, 0, -3, 0, 0, 0)   # keyctl(GET_KEYRING_ID, session)
    r2 = libc.syscall(248, b"user", b"k", b"v", 1, -3)  # add_key
    r3 = libc.syscall(249, b"user", b"k", None, 0)  # request_key
    if r1 >= 0 or r2 >= 0 or r3 >= 0:
        print("ESCAPED: keyctl", r1, r2, r3)
