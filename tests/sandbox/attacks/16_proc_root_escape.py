# attack: reach the host root through /proc links
def main():
    hits = reached(["/proc/1/root/etc/shadow", "/proc/self/root/../../etc/hostname",
                    "/proc/1/cwd/../../etc/hostname",
                    "/proc/self/fd/../../../../etc/hostname"])
    if holds("/proc/1/root/etc/passwd", "root:"):
        hits.append("passwd")
    if hits:
        print("ESCAPED:", hits)
