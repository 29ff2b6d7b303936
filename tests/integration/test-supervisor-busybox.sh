#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The supervisor side-loaded into a busybox-only root, the way the agent container runs it: started by the
# bundled loader with --library-path (docs/ARCHITECTURE.md "Containers"), nothing else from the "image"
# but a static busybox. A chroot stands in for the container (no Podman needed). Gateway and CLI run on
# the host, on loopback. Then the policy's process.seccomp in the same root: busybox children under the
# baseline profile and a deny list.
# Usage: test-supervisor-busybox.sh GATEWAY SUPERVISOR CLI. TAP; 77 unless root with busybox and chroot.
set -u

GATEWAY=${1:?usage: test-supervisor-busybox.sh GATEWAY SUPERVISOR CLI}
SUPERVISOR=${2:?}
CLI=${3:?}
BUSYBOX=$(command -v busybox || true)
CHROOT=$(command -v chroot || echo /usr/sbin/chroot)
[ "$(id -u)" = 0 ] || { echo "1..0 # skip: needs root for chroot"; exit 77; }
[ -n "$BUSYBOX" ] && [ -x "$CHROOT" ] || { echo "1..0 # skip: needs busybox and chroot"; exit 77; }
file -L "$BUSYBOX" 2>/dev/null | grep -q "statically linked" || ldd "$BUSYBOX" 2>&1 | grep -q "not a dynamic" ||
        { echo "1..0 # skip: busybox is not static (install busybox-static)"; exit 77; }
command -v python3 >/dev/null || { echo "1..0 # skip: python3 not installed"; exit 77; }

WORK=$(mktemp -d /tmp/test-supervisor-busybox-XXXXXX)
ROOT=$WORK/root
GW_PID=
SUP_PID=
N=0
FAILED=0
. "$(dirname "$0")/lib.sh" || exit 1
trap relay_cleanup EXIT

# The "image": busybox only. The sidecar part: the supervisor, the libraries it loads, the loader.
mkdir -p "$ROOT/bin" "$ROOT/tmp" "$ROOT/opt/openshell/bin" "$ROOT/opt/openshell/lib" "$ROOT/etc/openshell/tls/client"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for a in sh cat tar test sleep mkdir echo unshare; do ln -s busybox "$ROOT/bin/$a"; done
cp "$SUPERVISOR" "$ROOT/opt/openshell/bin/openshell-sandbox"
for l in $(ldd "$SUPERVISOR" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }'); do cp -L "$l" "$ROOT/opt/openshell/lib/"; done
LOADER=$(cd "$ROOT/opt/openshell/lib" && ls ld-linux-*.so.* | head -1)

API_PORT=$(free_port)
CB_PORT=$(free_port)
cat >"$WORK/gateway.conf" <<CONF
[Gateway]
BindAddress=127.0.0.1:$API_PORT
CallbackAddress=
CallbackAddress=127.0.0.2:$CB_PORT
StateDirectory=$WORK/state
CONF
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_RUNTIME_DIR=$WORK/run XDG_STATE_HOME=$WORK/xdgstate
export DBUS_SESSION_BUS_ADDRESS=unix:path=$WORK/no-bus
unset OPENSHELL_GATEWAY
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
"$GATEWAY" --user --config "$WORK/gateway.conf" >"$WORK/gateway.log" 2>&1 &
GW_PID=$!
for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.2/$CB_PORT") 2>/dev/null && break; sleep 0.05; done

echo "1..11"
"$CLI" gateway add local "https://127.0.0.1:$API_PORT" --tls-dir "$WORK/state/tls" >/dev/null
"$CLI" sandbox create bb --image localhost/busybox:latest --no-start >/dev/null 2>&1
# As the agent container mounts them: the CA, and the supervisor's own certificate (never the proxy's).
cp "$WORK/state/sandboxes/bb/tls/ca.crt" "$ROOT/etc/openshell/tls/client/"
cp "$WORK/state/sandboxes/bb/tls/agent.crt" "$ROOT/etc/openshell/tls/client/tls.crt"
cp "$WORK/state/sandboxes/bb/tls/agent.key" "$ROOT/etc/openshell/tls/client/tls.key"

env -i OPENSHELL_ENDPOINT="https://127.0.0.2:$CB_PORT" OPENSHELL_SANDBOX=bb \
        OPENSHELL_TLS_CA=/etc/openshell/tls/client/ca.crt OPENSHELL_TLS_CERT=/etc/openshell/tls/client/tls.crt \
        OPENSHELL_TLS_KEY=/etc/openshell/tls/client/tls.key HTTP_PROXY=http://10.213.0.2:3128 \
        "$CHROOT" "$ROOT" "/opt/openshell/lib/$LOADER" --library-path /opt/openshell/lib /opt/openshell/bin/openshell-sandbox \
        -- /bin/sh -c 'echo workload-up; exec sleep 1000' >"$WORK/supervisor.log" 2>&1 &
SUP_PID=$!
for _ in $(seq 200); do grep -q "session established" "$WORK/supervisor.log" && break; sleep 0.05; done

"$CLI" sandbox exec bb -- sh -c 'echo "$HTTP_PROXY"; echo err >&2; exit 3' >"$WORK/out" 2>"$WORK/err"; rc=$?
check "exec in a busybox-only root: exit code" "$rc" 3
check "exec in a busybox-only root: stdout carries the proxy env" "$(cat "$WORK/out")" "http://10.213.0.2:3128"
check "stdin through busybox cat" "$(echo piped | "$CLI" sandbox exec bb -- cat)" "piped"
mkdir -p "$WORK/up/tree"; echo data >"$WORK/up/tree/f"
"$CLI" sandbox upload bb "$WORK/up/tree" /tmp 2>&1
check "upload with busybox tar" "$(cat "$ROOT/tmp/tree/f" 2>&1)" "data"
kill -TERM "$SUP_PID"; wait "$SUP_PID"; rc=$?
check "SIGTERM reaches the workload; the supervisor exits with its code" "$rc" 143
SUP_PID=

# seccomp (process.seccomp): the same root, the supervisor with no gateway, a busybox workload that
# probes. Control first: busybox's unshare -n works here without a filter (root; -U is refused in any
# chroot by the kernel itself, test-supervisor-seccomp covers CLONE_NEWUSER).
cat >"$ROOT/etc/openshell/policy.yaml" <<'YAML'
version: 1
process:
  seccomp:
    profile: baseline
    deny: [mkdir, mkdirat]
YAML
control=$("$CHROOT" "$ROOT" /bin/unshare -n /bin/echo yes 2>&1)
PROBE='unshare -n echo no 2>&1; echo "unshare=$?"; mkdir /tmp/d 2>&1; echo "mkdir=$?"
echo data | cat; echo x >/tmp/f && tar -cf /tmp/t.tar -C /tmp f && echo tar=$?'
env -i "$CHROOT" "$ROOT" "/opt/openshell/lib/$LOADER" --library-path /opt/openshell/lib /opt/openshell/bin/openshell-sandbox \
        --policy /etc/openshell/policy.yaml -- /bin/sh -c "$PROBE" >"$WORK/seccomp.log" 2>&1
rc=$?
out=$(cat "$WORK/seccomp.log")
if [ "$control" = yes ]; then
        expect "seccomp baseline: unshare -n is refused (EPERM)" "$out" "Operation not permitted"
        expect "seccomp baseline: unshare -n exits non-zero" "$out" "unshare=1"
else
        ok "seccomp baseline: unshare -n # SKIP refused here even without a filter ($control)"
        ok "seccomp baseline: unshare -n exits non-zero # SKIP"
fi
expect "seccomp deny list: mkdir is refused" "$out" "mkdir=1"
expect "seccomp: normal programs run (cat, tar; workload exit $rc)" "$out" $'data\ntar=0'
expect "seccomp status logged in one line" "$out" "seccomp: profile baseline, 2 denied system call(s)"
expect "Landlock status logged in one line" "$out" "Landlock: off ('/etc/openshell/policy.yaml' has no filesystem_policy paths)"
[ "$FAILED" -eq 0 ] || { echo "# supervisor log:"; sed 's/^/#   /' "$WORK/supervisor.log" "$WORK/seccomp.log"; }
exit $((FAILED > 0))
