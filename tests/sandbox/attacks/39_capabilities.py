# attack: keep capabilities after execve (setuid-root inside the userns)
import os
def main():
    st = open("/proc/self/status").read()
    caps = {l.split(":")[0]: int(l.split()[1], 16) for l in st.splitlines()
            if l.startswith(("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh"))}
    nnp = [l for l in st.splitlines() if l.startswith("NoNewPrivs")]
    sec = [l for l in st.splitlines() if l.startswith("Seccomp:")]
    hits = []
    if any(caps.values()):
        hits.append(caps)
    if not nnp or nnp[0].split()[1] != "1":
        hits.append(nnp)
    if not sec or sec[0].split()[1] != "2":
        hits.append(sec)
    if os.getuid() != 1000 or open("/proc/self/uid_map").read().split()[:1] != ["1000"]:
        hits.append("ids")
    if hits:
        print("ESCAPED:", hits)
