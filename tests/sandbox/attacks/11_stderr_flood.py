# attack: flood stderr forever
# limits: {"timeout_ms": 10000}
# expect: {"truncated": true, "timed_out": false}
import sys
def main():
    while True:
        sys.stderr.write("B" * 65536)
