# attack: leave state for the next call (the harness runs this 3 times,
# through one zygote in warm mode): monkeypatched modules, sys.modules,
# builtins, files in /tmp and /dev/shm, the environment, atexit hooks,
# threads still running, an abstract unix socket left listening, the
# random generator's state, the working directory.
# repeat: 3
import atexit
import builtins
import json
import os
import random
import socket
import sys
import threading
import time
def main():
    hits = []
    if "tg_leak_module" in sys.modules:
        hits.append("sys.modules kept a module")
    if getattr(json, "tg_patched", False) or json.dumps(1) != "1":
        hits.append("json stayed monkeypatched")
    if hasattr(builtins, "tg_leak"):
        hits.append("builtins kept an attribute")
    if os.environ.get("TG_LEAK"):
        hits.append("environment kept TG_LEAK")
    for p in ["/tmp/tg_leak", "/dev/shm/tg_leak", "/tmp/tg_thread"]:
        if os.path.exists(p):
            hits.append("file survived: " + p)
    if os.getcwd() != "/tmp":
        hits.append("cwd is %s" % os.getcwd())
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect("\0tg-leak-sibling")
        hits.append("a previous call's abstract socket answered")
    except OSError:
        pass
    s.close()
    # leave everything behind
    sys.modules["tg_leak_module"] = type(sys)("tg_leak_module")
    json.tg_patched = True
    json.dumps = lambda *a, **k: "patched"
    builtins.tg_leak = 1
    os.environ["TG_LEAK"] = "1"
    for p in ["/tmp/tg_leak", "/dev/shm/tg_leak"]:
        try:
            open(p, "w").write("x")
        except OSError:
            pass
    atexit.register(lambda: open("/tmp/tg_leak_atexit", "w").write("x"))

    def later():
        time.sleep(0.3)
        open("/tmp/tg_thread", "w").write("x")
    threading.Thread(target=later, daemon=True).start()
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind("\0tg-leak-sibling")
    ls.listen(1)
    globals()["_keep"] = ls
    random.seed(12345)
    os.chdir("/")
    if hits:
        print("ESCAPED:", hits)
    return random.random()
