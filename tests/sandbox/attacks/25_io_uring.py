# attack: io_uring (can create sockets the filter never sees)
import ctypes
def main():
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    r = libc.syscall(425, 8, params)
    if r >= 0:
        print("ESCAPED: io_uring fd", r)
