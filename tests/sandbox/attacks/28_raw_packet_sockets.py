# attack: raw, packet, netlink and vsock sockets
import socket
def main():
    hits = []
    for fam, typ, name in [(socket.AF_INET, socket.SOCK_RAW, "raw"),
                           (17, socket.SOCK_RAW, "packet"),
                           (16, socket.SOCK_RAW, "netlink"),
                           (40, socket.SOCK_STREAM, "vsock"),
                           (38, socket.SOCK_SEQPACKET, "alg")]:
        try:
            s = socket.socket(fam, typ, 0)
            hits.append(name)
            s.close()
        except OSError:
            pass
    if hits:
        print("ESCAPED:", hits)
