# attack: one big allocation beyond the memory limit
def main():
    try:
        b = bytearray(1024 * 1024 * 1024)
        b[::4096] = b"x" * len(b[::4096])
        print("ESCAPED: allocated 1 GiB")
    except MemoryError:
        return "MemoryError"
