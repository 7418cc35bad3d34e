# attack: 10 MB on stdout
# expect: {"truncated": true}
import sys
def main():
    chunk = "A" * 65536 + "\n"
    for _ in range(160):
        sys.stdout.write(chunk)
    return "done"
