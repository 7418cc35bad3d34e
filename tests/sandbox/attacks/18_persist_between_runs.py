# attack: leave a marker for the next run (the harness runs this twice)
# repeat: 2
import os
def main():
    found = [p for p in ["/tmp/.marker", "/dev/shm/.marker"] if os.path.exists(p)]
    for p in ["/tmp/.marker", "/dev/shm/.marker"]:
        try:
            open(p, "w").write("x")
        except OSError:
            pass
    if found:
        print("ESCAPED: marker survived", found)
