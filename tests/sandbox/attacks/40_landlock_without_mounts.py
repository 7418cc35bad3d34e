# attack: with the mount layer disabled (debug flag), landlock alone must
# still keep the host filesystem out of reach
# flags: --no-mount
import os
def main():
    hits = []
    for p in ["/etc/hostname", "/var/log", "/root", "/work/main/sandbox/helper.c", "/home"]:
        try:
            if os.path.isdir(p):
                os.listdir(p)
            else:
                open(p).read()
            hits.append(p)
        except OSError:
            pass
    for p in ["/var/tmp/escape", "/work/escape"]:
        try:
            open(p, "w").close()
            hits.append(p)
        except OSError:
            pass
    if hits:
        print("ESCAPED:", hits)
