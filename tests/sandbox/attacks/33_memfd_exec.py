# attack: anonymous executable memory files (memfd) and tmpfs memory outside RLIMIT_AS
import os
def main():
    try:
        fd = os.memfd_create("x")
        os.ftruncate(fd, 1 << 30)
        print("ESCAPED: memfd", fd)
    except OSError:
        pass
