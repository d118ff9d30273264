#!/usr/bin/env bash
# Installs and starts what the test suites need on a fresh Debian machine, and nothing that is already
# there: the Karbor CLI (python3-karborclient), PostgreSQL, and openssh-server. Idempotent; needs root
# for apt-get. Prints the PostgreSQL URL the tests should use on its last line (HOARD_TEST_PG_URL=...).
set -euo pipefail

say() { printf '[prereqs] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
need_pkg() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq >&2; apt_updated=1; fi
  say "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

need_pkg python3-karborclient
# The ssh hook tests start their own sshd (test/helpers/sshd.ts) on a free port; the package's own
# service is never started or enabled here, only its binary is needed.
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need_pkg openssh-server

pg_url=${HOARD_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
if ! command -v pg_isready >/dev/null || ! pg_isready -q -h 127.0.0.1 -p 5432; then
  need_pkg postgresql postgresql-client
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start >&2
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
# A stock Debian cluster wants a password over TCP; our machines trust loopback. Make either work.
if ! psql "$pg_url" -Atc 'select 1' >/dev/null 2>&1; then
  say "preparing PostgreSQL role and database for tests"
  as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'hoard-test'\"" >&2
  as_root su postgres -c "createdb test" >/dev/null 2>&1 || true
  pg_url=postgres://postgres:hoard-test@127.0.0.1:5432/test
  psql "$pg_url" -Atc 'select 1' >/dev/null
fi
echo "HOARD_TEST_PG_URL=$pg_url"
