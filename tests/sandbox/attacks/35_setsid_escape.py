# attack: daemonise (setsid + double fork) to outlive the run
import os, time
def main():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(60)
        os._exit(0)
    time.sleep(0.2)
    return "parent done"
