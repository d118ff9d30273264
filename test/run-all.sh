#!/usr/bin/env bash
# Runs every test Hoard has, on a fresh machine too: installs what the suites need (Debian packages,
# PostgreSQL, a real Keystone), type-checks, then runs the unit, integration and end-to-end suites.
# Set HOARD_SKIP_KEYSTONE=1 to leave out the Keystone suite on a machine without root.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "export $(bash scripts/test-prereqs.sh | tail -1)"

if [ "${HOARD_SKIP_KEYSTONE:-0}" != 1 ]; then
  export HOARD_TEST_KEYSTONE_URL
  HOARD_TEST_KEYSTONE_URL=$(bash test/openstack/keystone.sh start)
  # Stops only what keystone.sh itself started; a Keystone that was already running stays up.
  trap 'bash test/openstack/keystone.sh stop >/dev/null 2>&1 || true' EXIT
fi

if [ "${HOARD_SKIP_SWIFT:-0}" != 1 ]; then
  # A real Swift with its S3 API for the bank suites (test/bank/{swift,s3}.test.ts): cold ≈3 min
  # (apt), warm ≈15 s, already running ≈2 s. Its stop leaves alone what was running before.
  eval "export $(bash test/openstack/swift.sh start)"
  trap 'bash test/openstack/swift.sh stop >/dev/null 2>&1 || true; bash test/openstack/keystone.sh stop >/dev/null 2>&1 || true' EXIT
fi

echo "== type check"
npx tsc -p tsconfig.json --noEmit
echo "== layer rules"
npx depcruise src --config .dependency-cruiser.cjs
echo "== tests"
npx vitest run
