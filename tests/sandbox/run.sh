#!/bin/sh
# tests/sandbox/run.sh - attack cases and functional tests of toolgate-sandbox.
# Builds nothing: run `make sandbox sandbox-test` first (the test hooks are
# in build/tests/toolgate-sandbox-test only). As root, the helper is run as
# nobody (it refuses uid 0; that refusal is one of the tests). Ends with
# "N passed, N failed" and exits non-zero on any failure. No network needed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." || exit 1
exec /usr/bin/python3.11 -I "$here/harness.py"
