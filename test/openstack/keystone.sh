#!/usr/bin/env bash
# A real Keystone for Hoard's keystone-auth tests.
#
#   keystone.sh start   install (first time, needs root) and start Keystone with setup.sh unless it
#                       already answers, make sure the test fixtures exist, print its URL on stdout.
#   keystone.sh stop    stop what `start` itself started (mariadb, memcached, keystone), and only that.
#
# stdout carries the URL and nothing else, so `URL=$(keystone.sh start)` works; progress goes to
# $OSL_DIR/log/keystone-sh.log and only failures reach stderr.
#
# Fixtures, in domain "default", all with password $HOARD_TEST_KEYSTONE_PASSWORD (test/helpers/keystone.ts
# uses the same default) and none with a default project, so a password login without a scope gives an
# unscoped token:
#   projects hoard-alpha, hoard-beta
#   hoard-alpha-member  member on hoard-alpha
#   hoard-beta-member   member on hoard-beta
#   hoard-admin         admin on hoard-alpha
#
# Services already running before `start` are never stopped by `stop`: `start` records in
# $OSL_DIR/run/keystone-sh.started only the "name pid" lines setup.sh added while it ran.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export OSL_DIR=${OSL_DIR:-/var/tmp/openstack-local}
export KEYSTONE_PORT=${KEYSTONE_PORT:-25000}
URL="http://127.0.0.1:$KEYSTONE_PORT"
RUN=$OSL_DIR/run
LOG=$OSL_DIR/log
PIDS=$RUN/pids
STATE=$RUN/keystone-sh.started
OUT=$LOG/keystone-sh.log
# Infrastructure Keystone needs; anything else alive in $PIDS is an OpenStack service depending on it.
OURS="mariadb memcached keystone"
INFRA=" mariadb memcached keystone rabbitmq epmd "
PY=/usr/bin/python3

die() { echo "keystone.sh: $*" >&2; exit 1; }
recorded_pid() { [[ -f $PIDS ]] && awk -v n="$1" '$1==n{p=$2} END{print p}' "$PIDS"; }
alive() { local p; p=$(recorded_pid "$1"); [[ -n $p ]] && kill -0 "$p" 2>/dev/null; }
answers() { command -v curl >/dev/null && curl -sf -o /dev/null --max-time 5 "$URL/v3"; }

mkdir -p "$RUN" "$LOG"
# Two test runs starting at once must not both run setup.sh; fd 9 is closed for everything we spawn,
# or a daemon would inherit it and hold the lock forever.
exec 9>"$RUN/keystone-sh.lock"
flock -w 900 9 || die "another keystone.sh still holds $RUN/keystone-sh.lock"

admin_password() {
  if [[ -n ${OSL_ADMIN_PASSWORD:-} ]]; then echo "$OSL_ADMIN_PASSWORD"; return; fi
  local p
  p=$(sed -n 's/^export OS_PASSWORD=//p' "$OSL_DIR/openrc" 2>/dev/null | tail -1)
  echo "${p:-secret}"
}

ensure_fixtures() {
  OS_AUTH_URL="$URL/v3" OS_PASSWORD="$(admin_password)" \
  FIXTURE_PASSWORD="${HOARD_TEST_KEYSTONE_PASSWORD:-hoard-test-secret}" \
  "$PY" - 9>&- <<'PYEOF'
import json, os, sys, urllib.error, urllib.request

base = os.environ["OS_AUTH_URL"].rstrip("/")
pw = os.environ["FIXTURE_PASSWORD"]


def call(method, path, body=None, token=None, ok=(200, 201, 204)):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None), r.headers
    except urllib.error.HTTPError as e:
        if e.code in ok:
            return e.code, None, e.headers
        raise SystemExit("keystone.sh: %s %s answered %s" % (method, path, e.code))


def password_auth(name, password, scope=None):
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "domain": {"id": "default"}, "password": password}}}}
    if scope:
        auth["scope"] = scope
    return call("POST", "/auth/tokens", {"auth": auth}, ok=(201, 401))


status, _, headers = password_auth("admin", os.environ["OS_PASSWORD"],
                                   {"project": {"name": "admin", "domain": {"id": "default"}}})
if status != 201:
    raise SystemExit("keystone.sh: the Keystone admin login failed; set OSL_ADMIN_PASSWORD")
admin = headers["X-Subject-Token"]


def find(kind, name):
    _, body, _ = call("GET", "/%ss?name=%s&domain_id=default" % (kind, name), token=admin)
    return body[kind + "s"][0] if body[kind + "s"] else None


def project(name):
    p = find("project", name)
    if p is None:
        _, body, _ = call("POST", "/projects", {"project": {
            "name": name, "domain_id": "default", "description": "Hoard keystone-auth tests"}}, token=admin)
        p = body["project"]
    elif not p["enabled"]:
        call("PATCH", "/projects/" + p["id"], {"project": {"enabled": True}}, token=admin)
    return p


def user(name):
    u = find("user", name)
    if u is None:
        _, body, _ = call("POST", "/users", {"user": {
            "name": name, "domain_id": "default", "password": pw}}, token=admin)
        return body["user"]
    if not u["enabled"]:
        call("PATCH", "/users/" + u["id"], {"user": {"enabled": True}}, token=admin)
    # Resetting a password revokes the user's tokens, so only do it when the login really fails.
    if password_auth(name, pw)[0] != 201:
        call("PATCH", "/users/" + u["id"], {"user": {"password": pw}}, token=admin)
    return u


def role(name):
    _, body, _ = call("GET", "/roles?name=" + name, token=admin)
    if not body["roles"]:
        raise SystemExit("keystone.sh: Keystone has no role %r (keystone-manage bootstrap creates it)" % name)
    return body["roles"][0]["id"]


member, admin_role = role("member"), role("admin")
alpha, beta = project("hoard-alpha"), project("hoard-beta")
for uname, proj, rid in (("hoard-alpha-member", alpha, member), ("hoard-beta-member", beta, member),
                         ("hoard-admin", alpha, admin_role)):
    u = user(uname)
    call("PUT", "/projects/%s/users/%s/roles/%s" % (proj["id"], u["id"], rid), token=admin)
PYEOF
}

start() {
  if ! answers; then
    [[ $(id -u) == 0 ]] || die "Keystone is not running at $URL and starting it needs root (apt-get, setup.sh)"
    local before=() n t0=$SECONDS
    for n in $OURS; do if alive "$n"; then before+=("$n"); fi; done
    if ! OSL_SERVICES=keystone bash "$HERE/setup.sh" >"$OUT" 2>&1 9>&-; then
      tail -20 "$OUT" >&2
      die "setup.sh failed (full log: $OUT)"
    fi
    for n in $OURS; do
      [[ " ${before[*]} " == *" $n "* ]] && continue
      alive "$n" || continue
      sed -i "/^$n /d" "$STATE" 2>/dev/null || true
      echo "$n $(recorded_pid "$n")" >> "$STATE"
    done
    echo "keystone.sh: Keystone started at $URL in $(( SECONDS - t0 ))s" >&2
  fi
  ensure_fixtures >>"$OUT" 2>&1 || { tail -5 "$OUT" >&2; die "could not create the test fixtures in Keystone (log: $OUT)"; }
  echo "$URL"
}

stop() {
  [[ -s $STATE ]] || return 0
  local l name pid dependents=()
  while read -r name _; do
    [[ $INFRA == *" $name "* ]] && continue
    if alive "$name"; then dependents+=("$name"); fi
  done < <(cat "$PIDS" 2>/dev/null)
  if (( ${#dependents[@]} )); then
    echo "keystone.sh: leaving Keystone running: ${dependents[*]} (started since) depend on it" >&2
    return 0
  fi
  local mine=()
  mapfile -t lines < <(tac "$STATE")
  for l in "${lines[@]}"; do
    name=${l%% *}; pid=${l##* }
    # Only a process setup.sh still records under the same name is ours; a restart by someone else is not.
    [[ $(recorded_pid "$name") == "$pid" ]] && kill -0 "$pid" 2>/dev/null || continue
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    mine+=("$name $pid")
  done
  local i
  for i in $(seq 60); do
    local left=0
    for l in "${mine[@]}"; do if kill -0 -- "-${l##* }" 2>/dev/null; then left=1; fi; done
    (( left )) || break
    sleep 0.5
  done
  for l in "${mine[@]}"; do
    if kill -0 -- "-${l##* }" 2>/dev/null; then kill -KILL -- "-${l##* }" 2>/dev/null || true; fi
    sed -i "/^${l%% *} ${l##* }\$/d" "$PIDS"
  done
  rm -f "$STATE"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
