# attack: write our own memory through /proc/self/mem; kernel info in /proc
import os
def main():
    hits = []
    try:
        os.close(os.open("/proc/self/mem", os.O_RDWR))
        hits.append("/proc/self/mem rw")
    except OSError:
        pass
    for p in ["/proc/kcore", "/proc/sysrq-trigger", "/proc/sys/kernel/core_pattern",
              "/proc/kmsg", "/sys/fs/cgroup"]:
        if os.path.exists(p):
            hits.append(p)
    if hits:
        print("ESCAPED:", hits)
