# attack: read what the process held before this call: the harness runs a
# call with a planted secret and a planted argument first; nothing of it
# may be in this call's memory (a warm call is a fork of its zygote, which
# never receives a call's data). Scans every readable mapping through
# /proc/self/mem for "PLANTED-" + 32 hex digits and compares the hash of
# each hit with the planted values' hashes (so this code never holds the
# planted text itself).
import hashlib
import os
import re
def main(hashes=()):
    pat = re.compile(rb"PLANTED-[0-9a-f]{32}")
    want = set(hashes)
    hits, scanned = [], 0
    with open("/proc/self/maps") as f:
        maps = [l.split() for l in f]
    fd = os.open("/proc/self/mem", os.O_RDONLY)
    try:
        for m in maps:
            if "r" not in m[1] or (len(m) > 5 and m[5] in ("[vvar]", "[vsyscall]")):
                continue
            lo, hi = (int(x, 16) for x in m[0].split("-"))
            off = lo
            while off < hi:
                n = min(hi - off, 1 << 20)
                try:
                    chunk = os.pread(fd, n, off)
                except OSError:
                    break
                scanned += len(chunk)
                for x in pat.findall(chunk):
                    if hashlib.sha256(x).hexdigest() in want:
                        hits.append(m[0])
                off += n
    finally:
        os.close(fd)
    if hits:
        print("ESCAPED: a previous call's data is in memory", hits[:5])
    if scanned < 1 << 20:
        raise RuntimeError("scanned only %d bytes" % scanned)
    return scanned
