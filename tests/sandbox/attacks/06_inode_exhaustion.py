# attack: exhaust inodes
import os
def main():
    n = 0
    try:
        for i in range(50000):
            open("/tmp/f%d" % i, "w").close()
            n += 1
    except OSError:
        pass
    if n > 10000:
        print("ESCAPED: created", n)
    return n
