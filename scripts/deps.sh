#!/usr/bin/env bash
# Installs the Debian 12 packages toolgate needs to build, run and test.
# Idempotent: only missing packages are installed. Needs root or sudo when
# something is missing; does nothing otherwise.
#   scripts/deps.sh            the packages below
#   scripts/deps.sh PKG...     only these (e.g. the Apache test suite's
#                              apache2 libapache2-mod-fcgid)
set -euo pipefail

PKGS=(
  build-essential pkg-config clang clang-format
  libfcgi-dev libjansson-dev libpq-dev libssl-dev libjwt-dev libcmocka-dev
  libseccomp-dev libcurl4-openssl-dev libargon2-dev
  nginx postgresql postgresql-client curl jq valgrind python3 util-linux procps
  nodejs libpython3.11
)
[ $# -gt 0 ] && PKGS=("$@")

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# npm comes with nodejs from some repositories and as its own package in Debian.
[ $# -gt 0 ] || command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "deps: missing packages (${missing[*]}) and no sudo; install them as root" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run (another checkout's test suite) rather than fail.
LOCK=(-o DPkg::Lock::Timeout=300)
# apt-get update once per run; retry the install once after a fresh update.
$SUDO apt-get "${LOCK[@]}" update -qq >/dev/null || true
if ! $SUDO apt-get "${LOCK[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  $SUDO apt-get "${LOCK[@]}" update -qq >/dev/null
  $SUDO apt-get "${LOCK[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
