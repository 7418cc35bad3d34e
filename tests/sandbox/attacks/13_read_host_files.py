# attack: read host files
import os
def main():
    hits = []
    for p in ["/etc/shadow", "/etc/hostname", "/root", "/home", "/work", "/var",
              "/srv", "/opt", "/boot", "/sys/kernel", "/var/run/postgresql",
              "/proc/kallsyms", "/proc/sys/kernel/hostname", "/etc/ssh"]:
        if os.path.exists(p):
            hits.append(p)
    try:
        if "root:" in open("/etc/passwd").read():
            hits.append("/etc/passwd(host)")
    except OSError:
        pass
    if hits:
        print("ESCAPED:", hits)
    return hits
