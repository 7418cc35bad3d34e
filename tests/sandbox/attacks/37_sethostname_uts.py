# attack: change the hostname (UTS) and read the host's
import ctypes, socket
def main():
    libc = ctypes.CDLL(None, use_errno=True)
    hits = []
    if libc.sethostname(b"pwned", 5) == 0:
        hits.append("sethostname")
    if socket.gethostname() != "sandbox":
        hits.append("hostname " + socket.gethostname())
    if hits:
        print("ESCAPED:", hits)
