#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration test: openshell-gateway under socket activation, with systemd-socket-activate standing in for
# the .socket units (same protocol: LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES) and a Python datagram socket
# for NOTIFY_SOCKET. Checks: the fd names decide the roles, READY=1 and watchdog pings arrive, the idle
# timeout ends the process, and an unknown fd name is refused.
# Usage: test-gateway-activation.sh PATH-TO-openshell-gateway. TAP output; 77 without the tools.
set -u

GATEWAY=${1:?usage: test-gateway-activation.sh GATEWAY}
for tool in curl python3 systemd-socket-activate; do
        command -v "$tool" >/dev/null || { echo "1..0 # skip: $tool not installed"; exit 77; }
done

WORK=$(mktemp -d /tmp/test-gateway-act-XXXXXX)
PIDS=()
N=0
FAILED=0
cleanup() {
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh" || exit 1
wait_port() {
        for _ in $(seq 300); do
                (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
                sleep 0.05
        done
        return 1
}
# wait_exit PID: waits up to 60 s for PID to exit (the outcome matters, not the time).
wait_exit() {
        for _ in $(seq 600); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
        return 1
}

API_PORT=$(free_port)
CB_PORT=$(free_port)
STATE=$WORK/state
TLS=$STATE/tls
cat >"$WORK/gateway.conf" <<CONF
[Gateway]
StateDirectory=$STATE
IdleTimeoutSec=1s
CONF
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_RUNTIME_DIR=$WORK/run
export DBUS_SESSION_BUS_ADDRESS=unix:path=$WORK/no-bus
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"

echo "1..8"

# The client needs its certificate before the first connection starts the gateway.
"$GATEWAY" generate-certs --output-dir "$TLS" >/dev/null
[ -f "$TLS/client.key" ] && ok "generate-certs" || fail "generate-certs"

# NOTIFY_SOCKET collector
python3 - "$WORK/notify.sock" "$WORK/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
PY
PIDS+=($!)
for _ in $(seq 100); do [ -S "$WORK/notify.sock" ] && break; sleep 0.05; done

# systemd-socket-activate passes only the variables named with -E (as a unit's environment would).
ENVS=(-E HOME -E XDG_CONFIG_HOME -E XDG_RUNTIME_DIR -E DBUS_SESSION_BUS_ADDRESS)
systemd-socket-activate "${ENVS[@]}" -E NOTIFY_SOCKET="$WORK/notify.sock" -E WATCHDOG_USEC=400000 \
        -l "127.0.0.1:$API_PORT" -l "127.0.0.2:$CB_PORT" --fdname=api:callback \
        "$GATEWAY" --user --config "$WORK/gateway.conf" >"$WORK/gateway.log" 2>&1 &
GW_PID=$!
PIDS+=($GW_PID)
wait_port 127.0.0.1 "$API_PORT" || fail "socket listening" "$(cat "$WORK/gateway.log")"

c() { curl -sS --max-time 20 --cacert "$TLS/ca.crt" --cert "$TLS/client.crt" --key "$TLS/client.key" "$@" 2>&1; }
out=$(c "https://127.0.0.1:$API_PORT/v1/health")
expect "fd named api serves the API" "$out" '"listener":"api"'
out=$(c "https://127.0.0.2:$CB_PORT/v1/health")
expect "fd named callback is the callback listener" "$out" '"listener":"callback"'
out=$(c "https://127.0.0.2:$CB_PORT/v1/sandboxes")
expect "callback fd refuses administrative routes" "$out" '"error":"forbidden"'
expect "READY=1 sent after the listeners are armed" "$(cat "$WORK/notify.log")" 'READY=1'

# Idle: with no connection for IdleTimeoutSec= the process exits by itself, cleanly.
if wait_exit "$GW_PID"; then
        wait "$GW_PID"; rc=$?
        [ $rc -eq 0 ] && ok "exits after the idle timeout (status 0)" || fail "idle exit status" "rc=$rc $(cat "$WORK/gateway.log")"
else
        fail "exits after the idle timeout" "$(cat "$WORK/gateway.log")"
fi
expect "watchdog pings sent" "$(cat "$WORK/notify.log")" 'WATCHDOG=1'

# An fd name other than api/callback is refused: fail closed.
P3=$(free_port)
systemd-socket-activate "${ENVS[@]}" -l "127.0.0.1:$P3" --fdname=admin \
        "$GATEWAY" --user --config "$WORK/gateway.conf" >"$WORK/bad.log" 2>&1 &
BAD_PID=$!
PIDS+=($BAD_PID)
wait_port 127.0.0.1 "$P3"
curl -sS --max-time 5 "https://127.0.0.1:$P3/" >/dev/null 2>&1
wait_exit "$BAD_PID"; wait "$BAD_PID"; rc=$?
if [ $rc -ne 0 ] && grep -q "FileDescriptorName" "$WORK/bad.log"; then ok "unknown fd name refused (status $rc)"
else fail "unknown fd name refused" "rc=$rc $(cat "$WORK/bad.log")"; fi

exit $((FAILED > 0))
