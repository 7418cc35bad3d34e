# attack: exhaust file descriptors
import os
def main():
    fds = []
    try:
        for _ in range(100000):
            fds.append(os.open("/dev/null", os.O_RDONLY))
    except OSError:
        pass
    if len(fds) > 1000:
        print("ESCAPED: fds", len(fds))
    return len(fds)
