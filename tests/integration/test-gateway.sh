#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration test: the real openshell-gateway in foreground mode on loopback, driven with curl and the
# certificates it generates. The mTLS accept/reject matrix, the callback listener's narrower routes, the
# agent certificate's narrow reach (health and its own session only; the proxy's certificate opens no
# session), GET's session field, and a policy watch that returns when the policy is set.
# Usage: test-gateway.sh PATH-TO-openshell-gateway PATH-TO-gateway-test-cert. TAP output; 77 without curl.
set -u

GATEWAY=${1:?usage: test-gateway.sh GATEWAY TEST-CERT}
TESTCERT=${2:?usage: test-gateway.sh GATEWAY TEST-CERT}
for tool in curl python3; do
        command -v "$tool" >/dev/null || { echo "1..0 # skip: $tool not installed"; exit 77; }
done

WORK=$(mktemp -d /tmp/test-gateway-XXXXXX)
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

wait_port() {
        for _ in $(seq 300); do
                (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
                kill -0 "$GW_PID" 2>/dev/null || return 1
                sleep 0.05
        done
        return 1
}

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
[Limits]
MaxWatchTimeoutSec=60s
MaxBodyBytes=4K
MaxHeaderBytes=8K
CONF

# User mode keeps every path (spec directory, runtime) inside $WORK.
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_RUNTIME_DIR=$WORK/run XDG_STATE_HOME=$WORK/xdgstate
export DBUS_SESSION_BUS_ADDRESS=unix:path=$WORK/no-bus
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
"$GATEWAY" --user --config "$WORK/gateway.conf" >"$WORK/gateway.log" 2>&1 &
GW_PID=$!
# The gateway binds first (its certificate names the listeners), then writes its PKI; the client's
# certificate may appear a moment after the ports (under ASan noticeably so).
pki_ready() { local i; for i in $(seq 1 200); do [ -s "$TLS/client.crt" ] && [ -s "$TLS/client.key" ] && return 0; sleep 0.05; done; return 1; }
if ! wait_port 127.0.0.1 "$API_PORT" || ! wait_port 127.0.0.2 "$CB_PORT" || ! pki_ready; then
        echo "1..1"; fail "gateway starts" "$(cat "$WORK/gateway.log")"; exit 1
fi

# curl [CERT-DIR|none] [KEY-PREFIX] ARGS...: status code and body on stdout; exit code of curl in $RC.
admin() { curl -sS --max-time 30 --cacert "$TLS/ca.crt" --cert "$TLS/client.crt" --key "$TLS/client.key" "$@" 2>&1; }
as_sandbox() { local d=$1; shift; curl -sS --max-time 30 --cacert "$TLS/ca.crt" --cert "$d/tls.crt" --key "$d/tls.key" "$@" 2>&1; }

echo "1..33"

# 1. accepted with the CLI certificate
out=$(admin "$API/v1/health")
expect "CLI certificate accepted, identity admin" "$out" '"identity":"admin"'

# 2. no client certificate
out=$(curl -sS --max-time 10 --cacert "$TLS/ca.crt" "$API/v1/health" 2>&1); rc=$?
[ $rc -ne 0 ] && ok "no client certificate rejected (curl $rc)" || fail "no client certificate rejected" "$out"

# 3. a client certificate from another CA
"$GATEWAY" generate-certs --output-dir "$WORK/other-ca" >/dev/null 2>&1
out=$(curl -sS --max-time 10 --cacert "$TLS/ca.crt" --cert "$WORK/other-ca/client.crt" --key "$WORK/other-ca/client.key" \
        "$API/v1/health" 2>&1); rc=$?
[ $rc -ne 0 ] && ok "certificate from a wrong CA rejected (curl $rc)" || fail "wrong CA rejected" "$out"

# 4. an expired certificate from the right CA
"$TESTCERT" expired "$TLS" "$WORK/expired" openshell-admin
out=$(as_sandbox "$WORK/expired" "$API/v1/health"); rc=$?
[ $rc -ne 0 ] && ok "expired certificate rejected (curl $rc)" || fail "expired certificate rejected" "$out"

# 5. plain HTTP on the TLS listener
out=$(curl -sS --max-time 10 "http://127.0.0.1:$API_PORT/v1/health" 2>&1)
expect "plain HTTP on the TLS listener gets tls_required" "$out" '"error":"tls_required"'

# 6. the server certificate must not serve as a client identity
out=$(curl -sS --max-time 10 --cacert "$TLS/ca.crt" --cert "$TLS/server.crt" --key "$TLS/server.key" "$API/v1/health" 2>&1); rc=$?
[ $rc -ne 0 ] && ok "server certificate as client rejected (curl $rc)" || fail "server certificate as client rejected" "$out"

# 7-8. sandboxes: created by the administrator, each gets its own certificate
for s in demo other; do
        out=$(admin -i -X POST --data "{\"spec\":{\"name\":\"$s\",\"image\":\"localhost/agent:latest\"},\"policy\":{\"version\":1}}" "$API/v1/sandboxes")
        expect "sandbox $s created (201 Created)" "$out" "HTTP/1.1 201 Created"$'\r'
done
DEMO=$STATE/sandboxes/demo/tls
OTHER=$STATE/sandboxes/other/tls

# 9. own policy over the callback listener
out=$(as_sandbox "$DEMO" "$CB/v1/sandboxes/demo/policy")
expect "sandbox reads its own policy on the callback listener" "$out" '"revision":1'

# 10. another sandbox's certificate for this sandbox's policy
out=$(as_sandbox "$OTHER" "$CB/v1/sandboxes/demo/policy")
expect "another sandbox's certificate is forbidden" "$out" '"error":"forbidden"'

# 11. the callback listener serves no administration, even to the administrator
out=$(admin "$CB/v1/sandboxes")
expect "callback listener refuses administrative routes" "$out" '"error":"forbidden"'

# 12. a sandbox cannot set its policy
out=$(as_sandbox "$DEMO" -X PUT --data '{"policy":{"version":1}}' "$API/v1/sandboxes/demo/policy")
expect "sandbox cannot set policy" "$out" '"error":"forbidden"'

# 13-21. the agent's certificate (CN=agent:NAME, the only one mounted into the agent): health and its own
# relay session, nothing else; the proxy's certificate (CN=sandbox:NAME) no longer opens the session.
as_agent() { local d=$1; shift; curl -sS --max-time 30 --cacert "$TLS/ca.crt" --cert "$d/agent.crt" --key "$d/agent.key" "$@" 2>&1; }
out=$(as_agent "$DEMO" "$CB/v1/health")
expect "agent certificate accepted, identity agent:demo" "$out" '"identity":"agent:demo"'
out=$(as_agent "$DEMO" "$CB/v1/sandboxes/demo/credentials")
expect "agent certificate: credentials refused (403 forbidden)" "$out" '"error":"forbidden"'
out="$(as_agent "$DEMO" -o /dev/null -w '%{http_code}' "$CB/v1/sandboxes/demo/credentials") $(as_agent "$DEMO" -o /dev/null -w '%{http_code}' "$API/v1/sandboxes/demo/credentials")"
check "... on both listeners" "$out" "403 403"
codes=
for path in /v1/sandboxes/demo/policy /v1/sandboxes/demo/inference /v1/sandboxes/demo "/v1/sandboxes/demo/policy?watch=0"; do
        codes+="$(as_agent "$DEMO" -o /dev/null -w '%{http_code}' "$CB$path") "
done
check "agent certificate: policy, inference route, record, watch all 403" "$codes" "403 403 403 403 "

# session: GET .../session with the upgrade, over real mTLS; prints the status line, holds it HOLD seconds
session() {
        python3 - "$TLS/ca.crt" "$1" "$2" "$3" "${4:-0}" <<'PY'
import socket, ssl, sys, time
ca, cert, key, url, hold = sys.argv[1:6]
host, port = url.split("//")[1].split("/")[0].split(":")
path = "/" + url.split("//")[1].split("/", 1)[1]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10), server_hostname="localhost")
s.sendall(("GET %s HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: openshell-relay/1\r\n\r\n" % path).encode())
head = b""
while b"\r\n\r\n" not in head:
    b = s.recv(4096)
    if not b:
        break
    head += b
print(head.split(b"\r\n")[0].decode(), head.split(b"\r\n\r\n", 1)[-1].decode(errors="replace").strip(), flush=True)
time.sleep(float(hold))
PY
}
out=$(session "$DEMO/tls.crt" "$DEMO/tls.key" "$CB/v1/sandboxes/demo/session")
expect "the proxy's certificate cannot open the session (403)" "$out" "HTTP/1.1 403 Forbidden"
out=$(session "$OTHER/agent.crt" "$OTHER/agent.key" "$CB/v1/sandboxes/demo/session")
expect "another sandbox's agent cannot open demo's session (403)" "$out" "HTTP/1.1 403 Forbidden"
session "$DEMO/agent.crt" "$DEMO/agent.key" "$CB/v1/sandboxes/demo/session" 3 >"$WORK/session.out" &
SESSION_PID=$!
for _ in $(seq 100); do [ -s "$WORK/session.out" ] && break; sleep 0.05; done
out="$(cat "$WORK/session.out") / $(admin "$API/v1/sandboxes/demo")"
expect "the agent's own certificate opens the session (101)" "$out" 'HTTP/1.1 101 Switching Protocols'
expect "... and GET reports it: \"session\":true" "$out" '"session":true'
wait $SESSION_PID
out=$(admin "$API/v1/sandboxes/demo")
expect "the session gone: \"session\":false, units unknown without systemd" "$out" \
        '"state":"unknown","units":{"network":"unknown","volume":"unknown","proxy":"unknown","agent":"unknown"},"session":false'

# 22-24. policy watch returns once the policy is set
as_sandbox "$DEMO" "$CB/v1/sandboxes/demo/policy?watch=1&timeout=50" >"$WORK/watch.out" &
WATCH_PID=$!
# The watch is parked before the set: a watch on the current revision does not return by itself.
sleep 0.3
kill -0 $WATCH_PID 2>/dev/null && ok "watch on the current revision waits" || fail "watch waits" "$(cat "$WORK/watch.out")"
out=$(admin -X PUT --data '{"policy":{"version":1,"network_policies":{}}}' "$API/v1/sandboxes/demo/policy")
expect "administrator sets the policy (revision 2)" "$out" '"revision":2'
wait $WATCH_PID
expect "watch returned with the new revision" "$(cat "$WORK/watch.out")" '"revision":2,"changed":true'

# 25. providers: secrets only to the owning sandbox
admin -X POST --data '{"name":"openai","type":"openai","credentials":{"OPENAI_API_KEY":"sk-test-123"}}' "$API/v1/providers" >/dev/null
out=$(admin "$API/v1/providers")
case "$out" in *sk-test-123*) fail "provider list hides secrets" "$out" ;; *) ok "provider list hides secrets" ;; esac

# 26. bad input gets a JSON error
out=$(admin -X POST --data '{"spec":' "$API/v1/sandboxes")
expect "malformed JSON gets invalid_json" "$out" '"error":"invalid_json"'

# 27-29. limits: every one answered with its JSON error
big=$(head -c 9000 /dev/zero | tr '\0' a)
out=$(admin -H "X-Big: $big" "$API/v1/health")
expect "head over MaxHeaderBytes= gets 431" "$out" '"error":"header_too_large"'
head -c 5000 /dev/zero | tr '\0' ' ' >"$WORK/big.json"
out=$(admin -X POST --data-binary @"$WORK/big.json" "$API/v1/providers")
expect "body over MaxBodyBytes= gets 413" "$out" '"error":"payload_too_large"'
out=$(admin -X POST -H "Transfer-Encoding: chunked" --data-binary '{}' "$API/v1/providers")
expect "chunked body gets 411" "$out" '"error":"length_required"'

# 30. keep-alive: two requests on one connection
out=$(admin -w '%{num_connects}\n' -o /dev/null "$API/v1/health" -o /dev/null "$API/v1/health")
[ "$out" = $'1\n0' ] && ok "second request reuses the connection" || fail "keep-alive" "$out"

# 31. pipelining: 300 requests in one write, 300 answers in order
out=$(python3 - "$TLS" "$API_PORT" <<'PY'
import socket, ssl, sys
tls, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context(cafile=tls + "/ca.crt")
ctx.load_cert_chain(tls + "/client.crt", tls + "/client.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n" * 299 + b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.count(b"HTTP/1.1 200 OK"))
PY
)
[ "$out" = 300 ] && ok "300 pipelined requests answered" || fail "pipelining" "$out"

# 32-33. deleting a sandbox ends its parked watches with 404
as_sandbox "$OTHER" "$CB/v1/sandboxes/other/policy?watch=1&timeout=50" >"$WORK/watch2.out" &
WATCH_PID=$!
sleep 0.3
out=$(admin -X DELETE "$API/v1/sandboxes/other")
expect "sandbox deleted" "$out" '"deleted":"other"'
wait $WATCH_PID
expect "its parked watch answers not_found" "$(cat "$WORK/watch2.out")" '"error":"not_found"'

kill "$GW_PID"; wait "$GW_PID"; GW_PID=
[ $FAILED -eq 0 ] || { echo "# gateway log:"; sed 's/^/# /' "$WORK/gateway.log" | tail -40; }
exit $((FAILED > 0))
