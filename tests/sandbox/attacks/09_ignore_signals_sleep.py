# attack: ignore every catchable signal and sleep
# limits: {"timeout_ms": 1200}
# expect: {"timed_out": true}
import signal, time
def main():
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):
        signal.signal(s, signal.SIG_IGN)
    while True:
        time.sleep(1)
