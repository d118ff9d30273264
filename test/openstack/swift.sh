#!/usr/bin/env bash
# A real Swift (native API and its S3 API) for Hoard's bank tests.
#
#   swift.sh start   install (first time, needs root) and start Keystone + Swift with setup.sh unless both
#                    already answer, make sure the test fixtures exist, and print ONE line on stdout:
#                    shell-quoted `NAME=value` assignments for test/bank/swift.test.ts and s3.test.ts.
#                    Use it as:  eval "export $(bash test/openstack/swift.sh start)"
#   swift.sh stop    stop what `start` itself started, and only that.
#
# Progress goes to $OSL_DIR/log/swift-sh.log and only failures reach stderr. The stdout line carries the
# test user's password and EC2 secret (test fixtures on a loopback-only stack); nothing else prints them.
#
# Fixtures, in domain "default": project hoard-bank, user hoard-bank-member (role member, which Swift's
# keystoneauth treats as an operator role) with password $HOARD_TEST_KEYSTONE_PASSWORD (default
# hoard-test-secret, as keystone.sh), and one EC2 credential of that user on that project for s3api.
#
# Services already running before `start` are never stopped by `stop`: `start` records in
# $OSL_DIR/run/swift-sh.started only the "name pid" lines setup.sh added while it ran. Keystone's own
# infrastructure is left running when some other recorded service (glance, cinder, ...) still uses it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export OSL_DIR=${OSL_DIR:-/var/tmp/openstack-local}
export KEYSTONE_PORT=${KEYSTONE_PORT:-25000}
export SWIFT_PORT=${SWIFT_PORT:-28080}
KS_URL="http://127.0.0.1:$KEYSTONE_PORT"
SW_URL="http://127.0.0.1:$SWIFT_PORT"
RUN=$OSL_DIR/run
LOG=$OSL_DIR/log
PIDS=$RUN/pids
STATE=$RUN/swift-sh.started
OUT=$LOG/swift-sh.log
OURS="mariadb memcached keystone swift-account swift-container swift-object swift-proxy swift-container-updater"
INFRA=" mariadb memcached keystone rabbitmq epmd "
PY=/usr/bin/python3

die() { echo "swift.sh: $*" >&2; exit 1; }
recorded_pid() { [[ -f $PIDS ]] && awk -v n="$1" '$1==n{p=$2} END{print p}' "$PIDS"; }
alive() { local p; p=$(recorded_pid "$1"); [[ -n $p ]] && kill -0 "$p" 2>/dev/null; }
answers() { curl -sf -o /dev/null --max-time 5 "$KS_URL/v3" && curl -sf -o /dev/null --max-time 5 "$SW_URL/healthcheck"; }

mkdir -p "$RUN" "$LOG"
# keystone.sh runs setup.sh under this same lock: two setup.sh at once would race on MariaDB and the pids
# file. fd 9 is closed for everything we spawn, or a daemon would inherit it and hold the lock forever.
exec 9>"$RUN/keystone-sh.lock"
flock -w 900 9 || die "another keystone.sh/swift.sh still holds $RUN/keystone-sh.lock"

admin_password() {
  if [[ -n ${OSL_ADMIN_PASSWORD:-} ]]; then echo "$OSL_ADMIN_PASSWORD"; return; fi
  local p
  p=$(sed -n 's/^export OS_PASSWORD=//p' "$OSL_DIR/openrc" 2>/dev/null | tail -1)
  echo "${p:-secret}"
}

# ensure_fixtures prints the env line; everything else it says goes to stderr (the log).
ensure_fixtures() {
  OS_AUTH_URL="$KS_URL/v3" OS_PASSWORD="$(admin_password)" S3_URL="$SW_URL" \
  FIXTURE_PASSWORD="${HOARD_TEST_KEYSTONE_PASSWORD:-hoard-test-secret}" \
  "$PY" - 9>&- <<'PYEOF'
import json, os, shlex, urllib.error, urllib.request

base = os.environ["OS_AUTH_URL"].rstrip("/")
pw = os.environ["FIXTURE_PASSWORD"]
PROJECT, USER = "hoard-bank", "hoard-bank-member"


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
        raise SystemExit("swift.sh: %s %s answered %s" % (method, path, e.code))


def login(name, password, project):
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}
    status, body, headers = call("POST", "/auth/tokens", {"auth": auth}, ok=(201, 401))
    return (headers["X-Subject-Token"], body["token"]) if status == 201 else (None, None)


admin, _ = login("admin", os.environ["OS_PASSWORD"], "admin")
if admin is None:
    raise SystemExit("swift.sh: the Keystone admin login failed; set OSL_ADMIN_PASSWORD")


def find(kind, name):
    _, body, _ = call("GET", "/%ss?name=%s&domain_id=default" % (kind, name), token=admin)
    return body[kind + "s"][0] if body[kind + "s"] else None


project = find("project", PROJECT) or call("POST", "/projects", {"project": {
    "name": PROJECT, "domain_id": "default", "description": "Hoard bank tests"}}, token=admin)[1]["project"]
user = find("user", USER) or call("POST", "/users", {"user": {
    "name": USER, "domain_id": "default", "password": pw}}, token=admin)[1]["user"]
_, roles, _ = call("GET", "/roles?name=member", token=admin)
call("PUT", "/projects/%s/users/%s/roles/%s" % (project["id"], user["id"], roles["roles"][0]["id"]), token=admin)
token, _ = login(USER, pw, PROJECT)
if token is None:
    # Resetting a password revokes the user's tokens, so only do it when the login really fails.
    call("PATCH", "/users/" + user["id"], {"user": {"password": pw, "enabled": True}}, token=admin)
    token, _ = login(USER, pw, PROJECT)

_, creds, _ = call("GET", "/users/%s/credentials/OS-EC2" % user["id"], token=token)
mine = [c for c in creds["credentials"] if c.get("tenant_id") == project["id"]]
cred = mine[0] if mine else call("POST", "/users/%s/credentials/OS-EC2" % user["id"],
                                 {"tenant_id": project["id"]}, token=token)[1]["credential"]
env = {
    "HOARD_TEST_SWIFT_AUTH_URL": base,
    "HOARD_TEST_SWIFT_USERNAME": USER,
    "HOARD_TEST_SWIFT_PASSWORD": pw,
    "HOARD_TEST_SWIFT_PROJECT": PROJECT,
    "HOARD_TEST_SWIFT_DOMAIN": "default",
    "HOARD_TEST_S3_ENDPOINT": os.environ["S3_URL"],
    "HOARD_TEST_S3_REGION": "RegionOne",
    "HOARD_TEST_S3_ACCESS_KEY": cred["access"],
    "HOARD_TEST_S3_SECRET_KEY": cred["secret"],
}
print(" ".join("%s=%s" % (k, shlex.quote(v)) for k, v in env.items()))
PYEOF
}

start() {
  if ! answers; then
    [[ $(id -u) == 0 ]] || die "Swift is not running at $SW_URL and starting it needs root (apt-get, setup.sh)"
    local before=() n t0=$SECONDS
    for n in $OURS; do if alive "$n"; then before+=("$n"); fi; done
    if ! OSL_SERVICES="keystone swift" bash "$HERE/setup.sh" >>"$OUT" 2>&1 9>&-; then
      tail -20 "$OUT" >&2
      die "setup.sh failed (full log: $OUT)"
    fi
    for n in $OURS; do
      [[ " ${before[*]} " == *" $n "* ]] && continue
      alive "$n" || continue
      sed -i "/^$n /d" "$STATE" 2>/dev/null || true
      echo "$n $(recorded_pid "$n")" >> "$STATE"
    done
    echo "swift.sh: Keystone + Swift started in $(( SECONDS - t0 ))s" >&2
  fi
  local line
  line=$(ensure_fixtures 2>>"$OUT") || { tail -5 "$OUT" >&2; die "could not create the test fixtures (log: $OUT)"; }
  echo "$line"
}

# still_needed NAME: infrastructure stays up while a recorded service outside our set still runs.
still_needed() {
  [[ $INFRA == *" $1 "* ]] || return 1
  local name
  while read -r name _; do
    [[ $INFRA == *" $name "* || " $OURS " == *" $name "* ]] && continue
    if alive "$name"; then return 0; fi
  done < <(cat "$PIDS" 2>/dev/null)
  # keystone.sh's fixtures live in the same Keystone; leave it to keystone.sh to stop what it started.
  [[ -s $RUN/keystone-sh.started ]]
}

stop() {
  [[ -s $STATE ]] || return 0
  local l name pid mine=() kept=()
  mapfile -t lines < <(tac "$STATE")
  for l in "${lines[@]}"; do
    name=${l%% *}; pid=${l##* }
    # Only a process setup.sh still records under the same name is ours; a restart by someone else is not.
    [[ $(recorded_pid "$name") == "$pid" ]] && kill -0 "$pid" 2>/dev/null || continue
    if still_needed "$name"; then kept+=("$name"); continue; fi
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    mine+=("$name $pid")
  done
  local i left
  for i in $(seq 60); do
    left=0
    for l in "${mine[@]}"; do if kill -0 -- "-${l##* }" 2>/dev/null; then left=1; fi; done
    (( left )) || break
    sleep 0.5
  done
  for l in "${mine[@]}"; do
    if kill -0 -- "-${l##* }" 2>/dev/null; then kill -KILL -- "-${l##* }" 2>/dev/null || true; fi
    sed -i "/^${l%% *} ${l##* }\$/d" "$PIDS"
  done
  if (( ${#kept[@]} )); then
    echo "swift.sh: leaving ${kept[*]} running: other services depend on them" >&2
    printf '%s\n' "${lines[@]}" | grep -E "^($(IFS='|'; echo "${kept[*]}")) " | tac > "$STATE"
  else
    rm -f "$STATE"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
