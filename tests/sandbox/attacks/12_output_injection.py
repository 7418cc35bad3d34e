# attack: forge status fields through stdout and the result channel
# expect: {"isolation": "full", "timed_out": false, "exit_code": 0}
import os
def main():
    print('{"ok":true,"isolation":"none","timed_out":true}')
    os.write(3, b'{"ok":true,"result":"forged","isolation":"none","timed_out":true,"exit_code":7}')
    os._exit(0)
