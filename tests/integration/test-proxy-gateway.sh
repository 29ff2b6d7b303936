#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration test: openshell-proxy in gateway mode against the real openshell-gateway (foreground, its own
# generated certificates) on loopback. The proxy fetches policy, credentials and inference route with the
# sandbox's client certificate (never the agent's, which the gateway refuses) and follows the policy
# watch. No timing assertions: every "eventually" is a bounded number of retries.
# Usage: test-proxy-gateway.sh PROXY GATEWAY. TAP; 77 without curl/python3.
set -u

PROXY=${1:?usage: test-proxy-gateway.sh PROXY GATEWAY}
GATEWAY=${2:?usage: test-proxy-gateway.sh PROXY GATEWAY}
HELPER="$(cd "$(dirname "$0")" && pwd)/proxy-helper.py"
for tool in curl python3; do
        command -v "$tool" >/dev/null || { echo "1..0 # skip: $tool not installed"; exit 77; }
done

WORK=$(mktemp -d /tmp/test-proxy-gateway-XXXXXX)
PIDS=()
GW_PID=
PX_PID=
N=0
FAILED=0
KEY=sk-provider-secret-42

cleanup() {
        for p in $PX_PID $GW_PID "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        [ -n "${KEEP_WORK:-}" ] && echo "# kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh" || exit 1
wait_port() { # HOST PORT
        for _ in $(seq 300); do
                (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
                sleep 0.05
        done
        return 1
}

UP=$(free_port)
python3 "$HELPER" echo "$UP" & PIDS+=($!)
BP=$(free_port)
mkdir -p "$WORK/sse"
python3 "$HELPER" inference-backend "$BP" "$KEY" "$WORK/backend.log" "$WORK/sse" & PIDS+=($!)
wait_port 127.0.0.1 "$UP" && wait_port 127.0.0.1 "$BP" || { echo "Bail out! helpers did not start"; exit 1; }

API_PORT=$(free_port)
CB_PORT=$(free_port)
API=https://127.0.0.1:$API_PORT
CB=https://127.0.0.2:$CB_PORT
STATE=$WORK/state
TLS=$STATE/tls
cat >"$WORK/gateway.conf" <<CONF
[Gateway]
BindAddress=127.0.0.1:$API_PORT
CallbackAddress=
CallbackAddress=127.0.0.2:$CB_PORT
StateDirectory=$STATE
CONF
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_RUNTIME_DIR=$WORK/run XDG_STATE_HOME=$WORK/xdgstate
export DBUS_SESSION_BUS_ADDRESS=unix:path=$WORK/no-bus
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
start_gateway() {
        "$GATEWAY" --user --config "$WORK/gateway.conf" >>"$WORK/gateway.log" 2>&1 &
        GW_PID=$!
        wait_port 127.0.0.1 "$API_PORT" && wait_port 127.0.0.2 "$CB_PORT"
}
start_gateway || { echo "Bail out! gateway did not start"; cat "$WORK/gateway.log"; exit 1; }
admin() { curl -sS --max-time 30 --cacert "$TLS/ca.crt" --cert "$TLS/client.crt" --key "$TLS/client.key" "$@" 2>&1; }

ALLOW="{\"policy\":{\"version\":1,\"network_policies\":{\"echo\":{\"name\":\"echo\",\"endpoints\":[{\"host\":\"127.0.0.1\",\"port\":$UP,\"allowed_ips\":[\"127.0.0.1\"]}]}}}}"
DENY='{"policy":{"version":1}}'
admin -X POST --data "{\"name\":\"openai\",\"type\":\"openai\",\"credentials\":{\"OPENAI_API_KEY\":\"$KEY\"}}" \
        "$API/v1/providers" >/dev/null
for s in demo other; do
        admin -X POST --data "{\"spec\":{\"name\":\"$s\",\"image\":\"localhost/agent:latest\"},\"providers\":[\"openai\"],\"policy\":{\"version\":1}}" \
                "$API/v1/sandboxes" >/dev/null
done
admin -X PUT --data "{\"base_url\":\"http://127.0.0.1:$BP/v1\",\"model\":\"gw-model\",\"provider\":\"openai\"}" \
        "$API/v1/sandboxes/demo/inference" >/dev/null
DEMO=$STATE/sandboxes/demo/tls

# start_proxy NAME CERT-DIR [EXTRA ARGS...]: sets PX (port) and PX_PID
start_proxy() {
        local name=$1 certs=$2; shift 2
        [ -n "$PX_PID" ] && kill "$PX_PID" 2>/dev/null && wait "$PX_PID" 2>/dev/null
        PX=$(free_port)
        "$PROXY" --listen "127.0.0.1:$PX" --sandbox "$name" --gateway "$CB" --gateway-ca "$TLS/ca.crt" \
                --gateway-cert "$certs/tls.crt" --gateway-key "$certs/tls.key" "$@" >"$WORK/proxy-$name.log" 2>&1 &
        PX_PID=$!
        wait_port 127.0.0.1 "$PX"
}
through() { curl -sS --max-time 10 -x "http://127.0.0.1:$PX" "$@"; }

echo "1..20"

# 1-3: start in gateway mode with the deny-all revision 1; the first fetch applies it.
start_proxy demo "$DEMO" || { echo "Bail out! proxy did not start"; cat "$WORK/proxy-demo.log"; exit 1; }
until_out 100 "revision 1 from the gateway applied" cat "$WORK/proxy-demo.log"
expect "revision 1 fetched over mTLS with the sandbox identity" "$out" "Policy revision 1 from the gateway applied"
out=$(through -w ' %{http_code}' "http://127.0.0.1:$UP/before")
expect "deny-all revision enforced" "$out" ' 403'
until_out 100 "Inference route from the gateway applied" cat "$WORK/proxy-demo.log"
expect "credentials and inference route fetched" "$out" "Credentials from the gateway applied"

# 4-5: PUT a policy that allows the echo server: enforced after the watch returns (bounded retries).
out=$(admin -X PUT --data "$ALLOW" "$API/v1/sandboxes/demo/policy")
expect "policy set on the gateway" "$out" '"revision":2'
until_out 100 ' 200' through -w ' %{http_code}' "http://127.0.0.1:$UP/after"
expect "a previously denied request is allowed after the set" "$out" '"path": "/after"'

# 6-7: the provider's secret replaces the placeholder in flight; the agent never had it.
out=$(through -H 'Authorization: Bearer openshell:resolve:env:OPENAI_API_KEY' "http://127.0.0.1:$UP/creds")
expect "gateway credential swapped in" "$out" "Bearer $KEY"
expect_not "placeholder not forwarded" "$out" "openshell:resolve"

# 8-10: inference.local uses the gateway's route and the route provider's key.
out=$(through -H 'Authorization: Bearer sk-agent' -d '{"model":"x","messages":[]}' \
        http://inference.local/v1/chat/completions)
expect "inference via the gateway's route: backend accepted the provider key" "$out" '"auth": "ok"'
expect "inference model from the gateway's route" "$out" '"model": "gw-model"'
expect_not "the agent's key never reached the backend" "$(cat "$WORK/backend.log")" "sk-agent"

# 11: a tunnel the new policy denies is closed when the revision arrives.
python3 - "$PX" "$UP" >"$WORK/tunnel.out" 2>&1 <<'PY' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
s.sendall(b"CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % sys.argv[2].encode())
head = s.recv(4096)
print("established" if b" 200 " in head else "refused " + head.decode(errors="replace"), flush=True)
try:
    closed = s.recv(4096) == b""
except socket.timeout:
    closed = False
print("closed" if closed else "still open", flush=True)
PY
TUN=$!
until_out 100 established cat "$WORK/tunnel.out"
admin -X PUT --data "$DENY" "$API/v1/sandboxes/demo/policy" >/dev/null
wait "$TUN"
expect "tunnel closed by the new revision" "$(cat "$WORK/tunnel.out")" "closed"

# 12-13: the gateway goes away: the last policy stays; it comes back: the proxy reconnects and follows.
kill "$GW_PID"; wait "$GW_PID" 2>/dev/null; GW_PID=
out=$(through -w ' %{http_code}' "http://127.0.0.1:$UP/gateway-down")
expect "gateway down: the last policy (deny) stays" "$out" ' 403'
start_gateway || fail "gateway restarts"
admin -X PUT --data "$ALLOW" "$API/v1/sandboxes/demo/policy" >/dev/null
until_out 400 ' 200' through -w ' %{http_code}' "http://127.0.0.1:$UP/reconnected"
expect "after reconnecting the new revision is enforced" "$out" '"path": "/reconnected"'

# 14: another sandbox's certificate cannot fetch demo's policy: fail closed.
start_proxy demo "$STATE/sandboxes/other/tls"
until_out 100 "Gateway answered 403" cat "$WORK/proxy-demo.log"
out=$(through -w ' %{http_code}' "http://127.0.0.1:$UP/wrong-identity")
expect "wrong identity: refused by the gateway, everything denied" "$out" ' 403'

# 15-16: the agent's own certificate (CN=agent:demo, what the agent container holds) is no proxy identity:
# no policy, no credentials from the gateway, so nothing in the agent can fetch them either.
mkdir -p "$WORK/agent-as-proxy"
cp "$DEMO/agent.crt" "$WORK/agent-as-proxy/tls.crt"
cp "$DEMO/agent.key" "$WORK/agent-as-proxy/tls.key"
start_proxy demo "$WORK/agent-as-proxy"
until_out 100 "Gateway answered 403" cat "$WORK/proxy-demo.log"
expect "the agent's certificate fetches no policy (403 from the gateway)" "$out" "Gateway answered 403"
creds() { curl -sS --max-time 10 --cacert "$TLS/ca.crt" --cert "$1" --key "$2" -w ' %{http_code}' "$CB/v1/sandboxes/demo/credentials" 2>&1 | tr -d '\n'; }
out="$(creds "$DEMO/tls.crt" "$DEMO/tls.key") / $(creds "$DEMO/agent.crt" "$DEMO/agent.key")"
check "credentials: the proxy's certificate gets them, the agent's 403" "${out//$KEY/KEY}" \
        '{"credentials":{"OPENAI_API_KEY":"KEY"}} 200 / {"error":"forbidden","message":"Not available on the sandbox-facing listener, or not for this identity"} 403'

# 17-18: a revision the proxy cannot accept (written behind the gateway's back, as a newer gateway might
# serve it) is rejected and the last good policy — here the local file — stays.
printf '%s' "$ALLOW" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["policy"]))' >"$WORK/local.json"
printf '{"revision": 99, "policy": {"version": 1, "network_policies": {"x": {"endpoints": [{"host": "a", "port": 0}]}}}}\n' \
        >"$STATE/sandboxes/demo/policy.json"
start_proxy demo "$DEMO" --policy "$WORK/local.json"
until_out 100 "rejected" cat "$WORK/proxy-demo.log"
expect "invalid revision rejected with the reason" "$out" "Gateway policy revision 99 rejected, keeping the previous policy: network_policies.x"
out=$(through -w ' %{http_code}' "http://127.0.0.1:$UP/kept")
expect "the last good policy stays" "$out" '"path": "/kept"'

# 19-20: an unreachable gateway: deny all without a local policy, the local policy with one.
CB="https://127.0.0.2:$(free_port)"
start_proxy demo "$DEMO"
out=$(through -w ' %{http_code}' "http://127.0.0.1:$UP/unreachable")
expect "gateway unreachable, no local policy: denied (fail closed)" "$out" ' 403'
start_proxy demo "$DEMO" --policy "$WORK/local.json"
out=$(through -w ' %{http_code}' "http://127.0.0.1:$UP/local")
expect "gateway unreachable: starts from the local policy file" "$out" '"path": "/local"'

if [ "$FAILED" -gt 0 ]; then
        for f in "$WORK"/proxy-*.log; do echo "# $f:"; tail -20 "$f" | sed 's/^/# /'; done
        exit 1
fi
exit 0
