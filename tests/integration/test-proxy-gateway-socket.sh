#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration test: the sandbox→gateway callback path over an AF_UNIX socket. The real openshell-gateway
# (foreground, --user, its own generated certificates) has its callback listener on a Unix socket in a
# temporary directory (CallbackAddress=PATH); the real openshell-proxy reaches it only through that socket:
# its gateway client (--gateway-socket) fetches the policy there, and its TCP forward (--forward-to PATH)
# carries an mTLS client to the gateway's callback routes. The TLS name stays the one the gateway writes
# into specs (https://host.openshell.internal, default port). Everything else is loopback; no timing
# assertions: every "eventually" is a bounded number of retries.
# Usage: test-proxy-gateway-socket.sh PROXY GATEWAY. TAP; 77 without curl/python3.
set -u

PROXY=${1:?usage: test-proxy-gateway-socket.sh PROXY GATEWAY}
GATEWAY=${2:?usage: test-proxy-gateway-socket.sh PROXY GATEWAY}
HELPER="$(cd "$(dirname "$0")" && pwd)/proxy-helper.py"
for tool in curl python3; do
        command -v "$tool" >/dev/null || { echo "1..0 # skip: $tool not installed"; exit 77; }
done

WORK=$(mktemp -d /tmp/test-proxy-gwsock-XXXXXX)
PIDS=()
GW_PID=
PX_PID=
N=0
FAILED=0

cleanup() {
        for p in $PX_PID $GW_PID "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        [ -n "${KEEP_WORK:-}" ] && echo "# kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh" || exit 1

UP=$(free_port)     # allowed upstream
OTHER=$(free_port)  # a second upstream the policy never allows
python3 "$HELPER" echo "$UP" & PIDS+=($!)
python3 "$HELPER" echo "$OTHER" & PIDS+=($!)
wait_tcp 127.0.0.1 "$UP" && wait_tcp 127.0.0.1 "$OTHER" || { echo "Bail out! helpers did not start"; exit 1; }

API_PORT=$(free_port)
API=https://127.0.0.1:$API_PORT
SOCK=$WORK/callback/gateway.sock
STATE=$WORK/state
TLS=$STATE/tls
# The callback listener is the socket only: no TCP address faces the sandboxes.
cat >"$WORK/gateway.conf" <<CONF
[Gateway]
BindAddress=127.0.0.1:$API_PORT
CallbackAddress=
CallbackAddress=$SOCK
StateDirectory=$STATE
CONF
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_RUNTIME_DIR=$WORK/run XDG_STATE_HOME=$WORK/xdgstate
export DBUS_SESSION_BUS_ADDRESS=unix:path=$WORK/no-bus
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
mkdir -m 0700 "$WORK/callback"
start_gateway() {
        "$GATEWAY" --user --config "$WORK/gateway.conf" >>"$WORK/gateway.log" 2>&1 &
        GW_PID=$!
        wait_tcp 127.0.0.1 "$API_PORT" "$GW_PID" && wait_socket "$SOCK" "$GW_PID"
}
stop_gateway() {
        kill "$GW_PID"; wait "$GW_PID" 2>/dev/null; GW_PID=
}
admin() { curl -sS --max-time 30 --cacert "$TLS/ca.crt" --cert "$TLS/client.crt" --key "$TLS/client.key" "$@" 2>&1; }
json_get() { # KEY: .spec.KEY of the sandbox document on stdin, or "-"
        python3 -c 'import json,sys; print((json.load(sys.stdin).get("spec") or {}).get(sys.argv[1], "-"))' "$1" 2>/dev/null
}

echo "1..14"
start_gateway || { echo "Bail out! gateway did not start"; cat "$WORK/gateway.log"; exit 1; }

# 1-3: the gateway's spec for a new sandbox names the socket and a TLS name its certificate carries.
out=$(admin -X POST --data '{"spec":{"name":"demo","image":"localhost/agent:latest"},"policy":{"version":1}}' \
        "$API/v1/sandboxes")
expect "sandbox created" "$out" '"demo"'
DOC=$(admin "$API/v1/sandboxes/demo")
GW_URL=$(printf '%s' "$DOC" | json_get gateway)
check "the spec's gateway is the callback TLS name, default port" "$GW_URL" "https://host.openshell.internal"
check "the spec's gateway_socket is the callback listener's path" "$(printf '%s' "$DOC" | json_get gateway_socket)" "$SOCK"
DEMO=$STATE/sandboxes/demo/tls

# The proxy as the renderer runs it, with host paths for the container's: no route to the gateway
# except the socket.
FWD=$(free_port)
PX=$(free_port)
"$PROXY" --listen "127.0.0.1:$PX" --forward-listen "127.0.0.1:$FWD" --forward-to "$SOCK" --sandbox demo \
        --gateway "$GW_URL" --gateway-socket "$SOCK" --gateway-ca "$TLS/ca.crt" --gateway-cert "$DEMO/tls.crt" \
        --gateway-key "$DEMO/tls.key" >"$WORK/proxy.log" 2>&1 &
PX_PID=$!
wait_tcp 127.0.0.1 "$PX" "$PX_PID" && wait_tcp 127.0.0.1 "$FWD" "$PX_PID" ||
        { echo "Bail out! proxy did not start"; cat "$WORK/proxy.log"; exit 1; }
through() { curl -sS --max-time 10 -x "http://127.0.0.1:$PX" -w ' %{http_code}' "$@" 2>&1; }
# The forward: an mTLS client that verifies host.openshell.internal, as the agent's supervisor does.
forward() { # CERT KEY PATH
        curl -sS --max-time 10 --cacert "$TLS/ca.crt" --cert "$1" --key "$2" \
                --resolve "host.openshell.internal:$FWD:127.0.0.1" -w ' %{http_code}' \
                "https://host.openshell.internal:$FWD$3" 2>&1 | tr -d '\n'
}

# 4-6: revision 1 (deny all) arrives through the socket; the log names the socket.
until_out 100 "revision 1 from the gateway applied" cat "$WORK/proxy.log"
expect "policy revision 1 fetched through the socket" "$out" "Policy revision 1 from the gateway applied"
expect "the proxy names the socket it uses" "$out" "through the socket $SOCK"
expect "deny-all revision enforced" "$(through "http://127.0.0.1:$UP/before")" ' 403'

# 7-8: the gateway's policy allows one upstream: allowed there, still denied elsewhere.
ALLOW="{\"policy\":{\"version\":1,\"network_policies\":{\"echo\":{\"name\":\"echo\",\"endpoints\":[{\"host\":\"127.0.0.1\",\"port\":$UP,\"allowed_ips\":[\"127.0.0.1\"]}]}}}}"
admin -X PUT --data "$ALLOW" "$API/v1/sandboxes/demo/policy" >/dev/null
until_out 100 ' 200' through "http://127.0.0.1:$UP/allowed"
expect "allowed by the gateway's policy" "$out" '"path": "/allowed"'
expect "denied by the gateway's policy" "$(through "http://127.0.0.1:$OTHER/denied")" ' 403'

# 9-10: the TCP forward reaches the gateway's callback routes over the socket with the sandbox's
# certificate (SNI and host check on host.openshell.internal); another identity is refused there.
out=$(forward "$DEMO/tls.crt" "$DEMO/tls.key" /v1/sandboxes/demo/policy)
expect "forward → socket → GET /v1/sandboxes/demo/policy with the sandbox certificate: 200" "$out" ' 200'
out=$(forward "$TLS/client.crt" "$TLS/client.key" /v1/sandboxes/demo/credentials)
expect_not "the callback listener still checks identities behind the forward" "$out" ' 200'

# 11-12: the gateway goes away (its socket with it): the forward fails cleanly and names the socket, the
# last policy stays.
stop_gateway
out=$(forward "$DEMO/tls.crt" "$DEMO/tls.key" /v1/sandboxes/demo/policy)
until_out 50 "Forward to $SOCK failed" cat "$WORK/proxy.log"
expect "forward to a missing socket fails and is logged with its path" "$out" "Forward to $SOCK failed"
expect "gateway down: the last policy stays" "$(through "http://127.0.0.1:$UP/kept")" '"path": "/kept"'

# 13-14: it comes back on the same path: the proxy reconnects with backoff and follows the next revision.
start_gateway || fail "gateway restarts"
admin -X PUT --data '{"policy":{"version":1}}' "$API/v1/sandboxes/demo/policy" >/dev/null
until_out 400 ' 403' through "http://127.0.0.1:$UP/after-restart"
expect "after reconnecting through the socket the new revision is enforced" "$out" ' 403'
expect "the proxy is still serving" "$(kill -0 "$PX_PID" 2>&1 && echo alive)" "alive"

sanitizer_report "$WORK/proxy.log" "$WORK/gateway.log"
if [ "$FAILED" -gt 0 ]; then
        for f in "$WORK"/proxy.log "$WORK"/gateway.log; do echo "# $f:"; tail -20 "$f" | sed 's/^/# /'; done
        exit 1
fi
exit 0
