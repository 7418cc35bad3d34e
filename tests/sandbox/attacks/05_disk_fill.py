# attack: fill the disk through /tmp
def main():
    n = 0
    try:
        with open("/tmp/fill", "wb") as f:
            for _ in range(200):
                f.write(b"x" * (1 << 20))
                f.flush()
                n += 1
    except OSError:
        pass
    if n > 32:
        print("ESCAPED: wrote %d MiB" % n)
    return n
