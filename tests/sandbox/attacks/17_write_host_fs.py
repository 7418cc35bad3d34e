# attack: write outside /tmp (host fs, stdlib poisoning, the runner)
def main():
    hits = reached(["/usr/lib/python3.11/json/__init__.py", "/usr/escape", "/escape",
                    "/etc/escape", "/run/toolgate/runner.py", "/dev/escape",
                    "/proc/escape"], "a")
    if hits:
        print("ESCAPED:", hits)
