# attack: forge status fields through stdout and the result channel
# expect: {"isolation": "full", "timed_out": false, "exit_code": 0}
import os
def main():
    print('{"ok":true,"isolation":"none","timed_out":true}')
    # The forged result carries the harness's end marker: it proves the
    # write, the last step before _exit, happened.
    os.write(3, b'{"ok":true,"result":{"tg_case_end":true,"value":"forged"},'
             b'"isolation":"none","timed_out":true,"exit_code":7}')
    os._exit(0)
