#!/usr/bin/env bash
# Prove the README's promise on a bare Debian system (not run in CI; takes 15–30 minutes):
# build a minimal Debian 12 root with debootstrap, install only Python, pip, Java and Pango in
# it, clone this repository (with ../shared beside it) and run the README's two commands:
#
#   pip install uv && uv run build.py && uv run pytest
#
# Usage (as root, on a Debian or Ubuntu host with debootstrap): .ci/fresh-machine.sh [ROOT_DIR]
# Prints the result and the time of each step; the log is ROOT_DIR/fresh-machine.log.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="$(cd "$REPO/../shared" && pwd)"
ROOT="${1:-/tmp/deckbook-fresh-root}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
LOG="$ROOT.log"

step() { printf '\n== %s (%s)\n' "$*" "$(date +%T)" | tee -a "$LOG"; }
# The host's CA bundle and its certificate variables go in with it: where the network inspects TLS,
# the root's own bundle would refuse every download.
CA=/etc/ssl/certs/ca-certificates.crt
in_root() { chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/root/.local/bin:/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 TERM=dumb \
  SSL_CERT_FILE=$CA REQUESTS_CA_BUNDLE=$CA PIP_CERT=$CA "$@"; }
cleanup() { for m in dev/pts dev proc sys work; do umount -l "$ROOT/$m" 2>/dev/null || true; done; }
trap cleanup EXIT
: >"$LOG"
start=$(date +%s)

step "debootstrap Debian 12 (minbase) into $ROOT"
if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
  debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >>"$LOG" 2>&1
fi
mount -t proc proc "$ROOT/proc"; mount -t sysfs sys "$ROOT/sys"; mount --bind /dev "$ROOT/dev"; mount --bind /dev/pts "$ROOT/dev/pts"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

step "install Python, pip, Java and Pango only (plus git and certificates to clone)"
in_root apt-get update -qq >>"$LOG" 2>&1
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  python3 python3-pip python3-venv default-jre-headless libpango-1.0-0 libpangoft2-1.0-0 git ca-certificates >>"$LOG" 2>&1
[ -f "$CA" ] && cp "$CA" "$ROOT$CA"
in_root python3 --version | tee -a "$LOG"

step "clone the repository, with ../shared beside it"
mkdir -p "$ROOT/work"
rm -rf "$ROOT/work/main" "$ROOT/work/shared"
git clone -q "$REPO" "$ROOT/work/main"
cp -a "$SHARED" "$ROOT/work/shared"

step "README: pip install uv"
in_root python3 -m pip install --quiet --break-system-packages uv >>"$LOG" 2>&1
in_root uv --version | tee -a "$LOG"

step "README: uv run build.py"
t=$(date +%s)
in_root sh -c 'cd /work/main && uv run build.py' 2>&1 | tee -a "$LOG" | tail -15
echo "build: $(( $(date +%s) - t )) s" | tee -a "$LOG"

step "README: uv run pytest"
t=$(date +%s)
set +e
in_root sh -c 'cd /work/main && uv run pytest -q -ra' 2>&1 | tee -a "$LOG" | tail -25
status=${PIPESTATUS[0]}
set -e
echo "pytest: exit $status, $(( $(date +%s) - t )) s; whole run $(( $(date +%s) - start )) s" | tee -a "$LOG"
exit "$status"
