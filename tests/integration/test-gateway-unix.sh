#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration test: the gateway's callback listener as an AF_UNIX socket (the user default,
# $XDG_RUNTIME_DIR/openshell/callback/gateway.sock). Bound by the gateway itself: the socket's and its
# directory's modes, the spec fields sandboxes get ("gateway": https://host.openshell.internal and
# "gateway_socket"), the callback routes over the socket with the sandbox's certificate (verifying the name
# host.openshell.internal), the administrative routes refused there, no client certificate refused; the
# socket removed at exit, a stale one (after kill -9) replaced, a regular file in its place refused and
# kept. Then under systemd-socket-activate with a unix -l path named "callback".
# Usage: test-gateway-unix.sh PATH-TO-openshell-gateway. TAP output; 77 without the tools.
set -u

GATEWAY=${1:?usage: test-gateway-unix.sh GATEWAY}
for tool in curl python3 stat; do
        command -v "$tool" >/dev/null || { echo "1..0 # skip: $tool not installed"; exit 77; }
done

WORK=$(mktemp -d /tmp/test-gateway-unix-XXXXXX)
GW_PID=
N=0
FAILED=0
cleanup() {
        [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null
        wait 2>/dev/null
        [ -n "${KEEP_WORK:-}" ] && echo "# kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh" || exit 1

# wait_exit PID: waits up to 60 s for PID to exit (the outcome matters, not the time).
wait_exit() {
        for _ in $(seq 600); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
        return 1
}
pki_ready() { local i; for i in $(seq 1 200); do [ -s "$TLS/client.crt" ] && [ -s "$TLS/client.key" ] && return 0; sleep 0.05; done; return 1; }

API_PORT=$(free_port)
API=https://127.0.0.1:$API_PORT
STATE=$WORK/state
TLS=$STATE/tls
# No CallbackAddress=: the user default applies.
cat >"$WORK/gateway.conf" <<CONF
[Gateway]
BindAddress=127.0.0.1:$API_PORT
StateDirectory=$STATE
CONF
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_RUNTIME_DIR=$WORK/run XDG_STATE_HOME=$WORK/xdgstate
export DBUS_SESSION_BUS_ADDRESS=unix:path=$WORK/no-bus
mkdir -p "$HOME"
mkdir -m 0700 "$XDG_RUNTIME_DIR"
SOCK=$XDG_RUNTIME_DIR/openshell/callback/gateway.sock

start_gateway() {
        "$GATEWAY" --user --config "$WORK/gateway.conf" >>"$WORK/gateway.log" 2>&1 &
        GW_PID=$!
}

echo "1..24"

start_gateway
if ! wait_socket "$SOCK" "$GW_PID" || ! wait_tcp 127.0.0.1 "$API_PORT" "$GW_PID" || ! pki_ready; then
        fail "gateway starts with the default unix callback listener" "$(cat "$WORK/gateway.log")"; exit 1
fi
ok "gateway starts with the default unix callback listener"
check "socket mode 0600" "$(stat -c %a "$SOCK")" "600"
check "directories created 0700" "$(stat -c %a "$XDG_RUNTIME_DIR/openshell/callback") $(stat -c %a "$XDG_RUNTIME_DIR/openshell")" "700 700"
expect "the log names the socket" "$(cat "$WORK/gateway.log")" "Listening on $SOCK (callback)"

admin() { curl -sS --max-time 30 --cacert "$TLS/ca.crt" --cert "$TLS/client.crt" --key "$TLS/client.key" "$@" 2>&1; }
# over the socket, verifying the name the server certificate carries for it
cb() { local d=$1; shift; curl -sS --max-time 30 --unix-socket "$SOCK" --cacert "$TLS/ca.crt" --cert "$d.crt" --key "$d.key" "$@" 2>&1; }
CB=https://host.openshell.internal

out=$(admin -X POST --data '{"spec":{"name":"demo","image":"localhost/agent:latest"},"policy":{"version":1}}' "$API/v1/sandboxes")
expect "sandbox created" "$out" '"name":"demo"'
expect "... its spec names the TLS name as gateway" "$out" '"gateway":"https://host.openshell.internal"'
expect "... and the socket's host path as gateway_socket" "$out" "\"gateway_socket\":\"$SOCK\""
DEMO=$STATE/sandboxes/demo/tls

out=$(cb "$DEMO/tls" "$CB/v1/health")
expect "health over the socket: the callback listener, identity sandbox:demo" "$out" '"identity":"sandbox:demo","listener":"callback"'
out=$(cb "$DEMO/tls" "$CB/v1/sandboxes/demo/policy")
expect "the sandbox reads its policy over the socket" "$out" '"revision":1'
out=$(cb "$TLS/client" "$CB/v1/sandboxes")
expect "the socket refuses administrative routes, even to the administrator" "$out" '"error":"forbidden"'
out=$(cb "$TLS/client" -o /dev/null -w '%{http_code}' -X DELETE "$CB/v1/sandboxes/demo")
check "... DELETE over the socket: 403" "$out" "403"
out=$(curl -sS --max-time 10 --unix-socket "$SOCK" --cacert "$TLS/ca.crt" "$CB/v1/health" 2>&1); rc=$?
[ $rc -ne 0 ] && ok "no client certificate refused over the socket (curl $rc)" || fail "no client certificate refused over the socket" "$out"
out=$(cb "$DEMO/tls" "https://wrong.example/v1/health"); rc=$?
[ $rc -ne 0 ] && ok "a name the certificate lacks fails verification (curl $rc)" || fail "wrong TLS name over the socket" "$out"

# Clean stop: the gateway removes the socket it bound.
kill "$GW_PID"; wait "$GW_PID"; rc=$?; GW_PID=
[ $rc -eq 0 ] && [ ! -e "$SOCK" ] && ok "SIGTERM: exits 0 and removes its socket" || fail "clean stop" "rc=$rc $(ls -l "$SOCK" 2>&1)"

# kill -9 leaves a stale socket; the next start replaces it.
start_gateway
wait_socket "$SOCK" "$GW_PID" && wait_tcp 127.0.0.1 "$API_PORT" "$GW_PID"
kill -KILL "$GW_PID"; wait "$GW_PID" 2>/dev/null; GW_PID=
[ -S "$SOCK" ] && ok "kill -9 leaves the socket behind" || fail "stale socket left" "$(ls -l "$SOCK" 2>&1)"
start_gateway
wait_tcp 127.0.0.1 "$API_PORT" "$GW_PID"
out=$(cb "$DEMO/tls" "$CB/v1/sandboxes/demo/policy")
expect "the stale socket is replaced and serves again" "$out" '"revision":1'
# A second gateway on the same socket is refused: a live socket is never taken over.
sed "s/^BindAddress=.*/BindAddress=127.0.0.1:$(free_port)/" "$WORK/gateway.conf" >"$WORK/second.conf"
"$GATEWAY" --user --config "$WORK/second.conf" >"$WORK/second.log" 2>&1; rc=$?
if [ $rc -ne 0 ] && grep -q "another process accepts on this socket" "$WORK/second.log"; then ok "a live socket is not taken over (status $rc)"
else fail "a live socket is not taken over" "rc=$rc $(cat "$WORK/second.log")"; fi
out=$(cb "$DEMO/tls" "$CB/v1/health")
expect "... and the first gateway still serves it" "$out" '"listener":"callback"'
kill "$GW_PID"; wait "$GW_PID"; GW_PID=

# A regular file where the socket belongs: refused, never removed.
echo keep >"$SOCK"
"$GATEWAY" --user --config "$WORK/gateway.conf" >"$WORK/file.log" 2>&1; rc=$?
if [ $rc -ne 0 ] && grep -q "not a socket" "$WORK/file.log" && [ "$(cat "$SOCK")" = keep ]; then
        ok "a regular file at the socket path is refused and kept (status $rc)"
else fail "regular file refused" "rc=$rc $(cat "$WORK/file.log")"; fi
rm -f "$SOCK"

# Socket activation: systemd-socket-activate binds the unix path as a .socket unit would.
if ! command -v systemd-socket-activate >/dev/null; then
        for _ in 1 2 3 4 5; do ok "# skip socket activation: systemd-socket-activate not installed"; done
        exit $((FAILED > 0))
fi
ASOCK=$WORK/act/callback/gateway.sock
mkdir -p "$WORK/act/callback"
P2=$(free_port)
cat >"$WORK/act.conf" <<CONF
[Gateway]
BindAddress=127.0.0.1:$P2
CallbackAddress=
CallbackAddress=$ASOCK
StateDirectory=$STATE
CONF
systemd-socket-activate -E HOME -E XDG_CONFIG_HOME -E XDG_RUNTIME_DIR -E DBUS_SESSION_BUS_ADDRESS \
        -l "127.0.0.1:$P2" -l "$ASOCK" --fdname=api:callback \
        "$GATEWAY" --user --config "$WORK/act.conf" >"$WORK/act.log" 2>&1 &
GW_PID=$!
wait_socket "$ASOCK" "$GW_PID" && wait_tcp 127.0.0.1 "$P2" "$GW_PID"
SOCK=$ASOCK
out=$(cb "$DEMO/tls" "$CB/v1/sandboxes/demo/policy")
expect "activated: the unix fd named callback serves the callback routes" "$out" '"revision":1'
out=$(cb "$TLS/client" "$CB/v1/sandboxes")
expect "activated: administrative routes refused on it" "$out" '"error":"forbidden"'
out=$(curl -sS --max-time 10 --unix-socket "$SOCK" --cacert "$TLS/ca.crt" "$CB/v1/health" 2>&1); rc=$?
[ $rc -ne 0 ] && ok "activated: no client certificate refused (curl $rc)" || fail "activated: no client certificate refused" "$out"
expect_not "activated: no warning about the configured socket" "$(cat "$WORK/act.log")" "is not among the socket-activated"
kill "$GW_PID"; wait "$GW_PID" 2>/dev/null; GW_PID=

# A socket unit listening elsewhere than gateway.conf says: sandboxes would be sent to the wrong socket.
OSOCK=$WORK/act/other.sock
systemd-socket-activate -E HOME -E XDG_CONFIG_HOME -E XDG_RUNTIME_DIR -E DBUS_SESSION_BUS_ADDRESS \
        -l "127.0.0.1:$P2" -l "$OSOCK" --fdname=api:callback \
        "$GATEWAY" --user --config "$WORK/act.conf" >"$WORK/other.log" 2>&1 &
GW_PID=$!
wait_socket "$OSOCK" "$GW_PID" && wait_tcp 127.0.0.1 "$P2" "$GW_PID"
SOCK=$OSOCK
cb "$DEMO/tls" "$CB/v1/health" >/dev/null
expect "activated elsewhere than CallbackAddress=: a warning names the path" "$(cat "$WORK/other.log")" \
        "CallbackAddress=$ASOCK is not among the socket-activated callback listeners"

exit $((FAILED > 0))
