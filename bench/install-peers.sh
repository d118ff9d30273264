#!/bin/sh
# install-peers.sh installs the tools bench/bank.ts compares Hoard with (restic, borg) when they are
# missing, so that `npm run bench:bank` works on a fresh Debian/Ubuntu machine with one command.
set -eu
missing=""
command -v restic >/dev/null 2>&1 || missing="$missing restic"
command -v borg >/dev/null 2>&1 || missing="$missing borgbackup"
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-peers: please install$missing (no apt-get here)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
echo "install-peers: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# An outdated package list can name versions the mirror no longer has; refresh it once on failure.
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
}
