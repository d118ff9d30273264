#!/usr/bin/env bash
# keystone.sh start: installs (first time) and starts a real Keystone on 127.0.0.1 with setup.sh,
# then prints its URL on stdout; everything else goes to stderr. Idempotent.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export OSL_DIR=${OSL_DIR:-/var/tmp/openstack-local}
case "${1:-start}" in
  start)
    OSL_SERVICES=keystone bash "$HERE/setup.sh" >&2
    echo "http://127.0.0.1:${KEYSTONE_PORT:-25000}"
    ;;
  *) echo "usage: $0 start" >&2; exit 2 ;;
esac
