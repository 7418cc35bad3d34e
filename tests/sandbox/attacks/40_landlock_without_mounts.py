# attack: with the mount layer disabled (debug flag), landlock alone must
# still keep the host filesystem out of reach
# flags: --no-mount
def main():
    hits = reached(["/etc/hostname", "/var/log", "/root",
                    "/work/main/sandbox/helper.c", "/home"])
    hits += reached(["/var/tmp/escape", "/work/escape"], "w")
    if hits:
        print("ESCAPED:", hits)
