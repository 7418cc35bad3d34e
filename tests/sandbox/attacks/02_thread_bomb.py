# attack: thread bomb
import threading, time
def main():
    n = 0
    try:
        for _ in range(1000):
            t = threading.Thread(target=time.sleep, args=(30,), daemon=True)
            t.start()
            n += 1
    except (RuntimeError, MemoryError, OSError):
        pass
    if n >= 200:
        print("ESCAPED: threads", n)
    return n
