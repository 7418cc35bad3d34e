# attack: write outside /tmp (host fs, stdlib poisoning, the runner)
import os
def main():
    hits = []
    for p in ["/usr/lib/python3.11/json/__init__.py", "/usr/escape", "/escape",
              "/etc/escape", "/run/toolgate/runner.py", "/dev/escape",
              "/proc/escape"]:
        try:
            with open(p, "a") as f:
                f.write("# pwned\n")
            hits.append(p)
        except OSError:
            pass
    if hits:
        print("ESCAPED:", hits)
