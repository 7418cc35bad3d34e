# attack: read host files
import os
def main():
    hits = []
    for p in ["/etc/shadow", "/etc/hostname", "/root", "/home", "/work", "/var",
              "/srv", "/opt", "/boot", "/sys/kernel", "/var/run/postgresql",
              "/proc/kallsyms", "/proc/sys/kernel/hostname", "/etc/ssh"]:
        if os.path.exists(p):
            hits.append(p)
    if holds("/etc/passwd", "root:"):
        hits.append("/etc/passwd(host)")
    if hits:
        print("ESCAPED:", hits)
    return hits
