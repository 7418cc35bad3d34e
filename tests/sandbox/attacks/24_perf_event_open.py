# attack: perf_event_open
import ctypes
def main():
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(128)
    attr[4] = 128  # size
    r = libc.syscall(298, attr, 0, -1, -1, 0)
    if r >= 0:
        print("ESCAPED: perf fd", r)
