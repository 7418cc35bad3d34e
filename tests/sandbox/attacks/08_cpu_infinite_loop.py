# attack: infinite CPU loop
# limits: {"timeout_ms": 1500}
# expect: {"timed_out": true, "ok": false, "error.type": "Timeout"}
def main():
    while True:
        pass
