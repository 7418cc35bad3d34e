# attack: memory split across processes (8 x 200 MiB > 256 MiB budget)
# expect-any: {"error.type": "MemoryLimit"} | {"ok": true}
import os, time
def main():
    r, w = os.pipe()
    kids = []
    for i in range(8):
        pid = os.fork()
        if pid == 0:
            try:
                b = bytearray(200 * 1024 * 1024)
                for j in range(0, len(b), 4096):
                    b[j] = 1
                os.write(w, b"k")
                time.sleep(3)
            finally:
                os._exit(0)
        kids.append(pid)
    os.close(w)
    got = b""
    deadline = time.time() + 5
    while len(got) < 8 and time.time() < deadline:
        c = os.read(r, 8)
        if not c:
            break
        got += c
    if len(got) >= 6:
        print("ESCAPED: %d x 200 MiB resident at once" % len(got))
    return len(got)
