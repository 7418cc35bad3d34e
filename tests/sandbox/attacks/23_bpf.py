# attack: bpf()
import ctypes
def main():
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(128)
    r = libc.syscall(321, 0, attr, 128)
    if r >= 0 or ctypes.get_errno() != 1:
        print("ESCAPED: bpf", r, ctypes.get_errno())
