# attack: System V shared memory surviving between runs (run twice)
# repeat: 2
import ctypes
def main():
    libc = ctypes.CDLL(None, use_errno=True)
    key = 0x7467
    existing = libc.shmget(key, 4096, 0)
    created = libc.shmget(key, 4096, 0o1000 | 0o600)  # IPC_CREAT
    if existing >= 0:
        print("ESCAPED: shm segment survived", existing)
    return created
