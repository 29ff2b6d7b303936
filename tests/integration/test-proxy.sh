#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration test: the real openshell-proxy on loopback, driven with curl against a local HTTP/1.1 echo
# server. Usage: test-proxy.sh PATH-TO-openshell-proxy. TAP output; exit 77 when curl/python3 are missing.
set -u

PROXY=${1:?usage: test-proxy.sh PATH-TO-openshell-proxy}
HELPER="$(cd "$(dirname "$0")" && pwd)/proxy-helper.py"
for tool in curl python3; do
        command -v "$tool" >/dev/null || { echo "1..0 # skip: $tool not installed"; exit 77; }
done

WORK=$(mktemp -d /tmp/test-proxy-XXXXXX)
PIDS=()
PROXY_PID=
N=0
FAILED=0

cleanup() {
        [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh" || exit 1

wait_port() {
        for _ in $(seq 200); do
                (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
                sleep 0.05
        done
        return 1
}
wait_file() {
        for _ in $(seq 200); do
                [ -e "$1" ] && return 0
                sleep 0.05
        done
        return 1
}
wait_grep() { # FILE PATTERN
        for _ in $(seq 200); do
                grep -q "$2" "$1" 2>/dev/null && return 0
                sleep 0.05
        done
        return 1
}

UP=$(free_port)
python3 "$HELPER" echo "$UP" & PIDS+=($!)
wait_port "$UP" || { echo "Bail out! echo server did not start"; exit 1; }
PX=$(free_port)
FWD=$(free_port)

# HTTPS upstreams for TLS inspection: one with a certificate from a test CA the proxy is told to trust
# (--upstream-ca), one self-signed that it must refuse.
TLSUP=$(free_port)
BADUP=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=test upstream CA" \
        -keyout "$WORK/upca.key" -out "$WORK/upca.crt" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
        -keyout "$WORK/up.key" -out "$WORK/up.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$WORK/up.ext"
openssl x509 -req -in "$WORK/up.csr" -CA "$WORK/upca.crt" -CAkey "$WORK/upca.key" -CAcreateserial -days 2 \
        -extfile "$WORK/up.ext" -out "$WORK/up.crt" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost" -keyout "$WORK/bad.key" -out "$WORK/bad.crt" 2>/dev/null
python3 "$HELPER" tls-echo "$TLSUP" "$WORK/up.crt" "$WORK/up.key" & PIDS+=($!)
python3 "$HELPER" tls-echo "$BADUP" "$WORK/bad.crt" "$WORK/bad.key" & PIDS+=($!)
wait_port "$TLSUP" && wait_port "$BADUP" || { echo "Bail out! TLS echo servers did not start"; exit 1; }
P="-x http://127.0.0.1:$PX"

write_policy() {
        cat >"$WORK/policy.yaml" <<POLICY
version: 1
network_policies:
  upstream:
    name: test upstream over plain HTTP
    endpoints:
      - host: 127.0.0.1
        port: $UP
        protocol: rest
        rules:
          - allow: {method: [GET, HEAD], path: "/allowed/**"}
          - allow: {method: POST, path: /upload}
        deny_rules:
          - deny: {path: "/allowed/secret/**"}
        allowed_ips: [127.0.0.1]
  tunnel:
    name: CONNECT to the same server
    endpoints:
      - host: localhost
        port: $UP
        allowed_ips: [127.0.0.0/8, "::1"]
  inspected:
    name: HTTPS with TLS inspection
    endpoints:
      - host: localhost
        ports: [$TLSUP, $BADUP]
        protocol: rest
        rules:
          - allow: {method: GET, path: "/inspected/**"}
        allowed_ips: [127.0.0.0/8, "::1"]
  ssrf:
    name: allowed by name but internal without allowed_ips
    endpoints:
      - host: 127.0.0.2
        port: $UP
POLICY
}

start_proxy() {
        rm -f "$WORK/notify" "$WORK/notify.bound" "$WORK/notify.sock"
        python3 "$HELPER" notify "$WORK/notify.sock" "$WORK/notify" & PIDS+=($!)
        wait_file "$WORK/notify.bound" || return 1
        NOTIFY_SOCKET="$WORK/notify.sock" "$PROXY" --listen "127.0.0.1:$PX" --forward-listen "127.0.0.1:$FWD" \
                --forward-to "127.0.0.1:$UP" --tls-dir "$WORK/tls" --policy "$WORK/policy.yaml" \
                --upstream-ca "$WORK/upca.crt" --credentials "$WORK/creds.json" --sandbox itest "$@" \
                2>>"$WORK/proxy.log" &
        PROXY_PID=$!
        wait_grep "$WORK/notify" "READY=1"
}

stop_proxy() {
        kill -TERM "$PROXY_PID" 2>/dev/null
        wait "$PROXY_PID" 2>/dev/null
        PROXY_PID=
}

cat >"$WORK/creds.json" <<CREDS
{"credentials": {
  "TOKEN": {"value": "s3cr3t-value", "hosts": ["127.0.0.1", "localhost"]},
  "ELSEWHERE": {"value": "not-for-you", "hosts": ["other.example"]}
}}
CREDS
echo "# proxy on 127.0.0.1:$PX, forward 127.0.0.1:$FWD, upstream 127.0.0.1:$UP, work dir $WORK"
write_policy

# --- startup, readiness, CA -------------------------------------------------------------------------
if start_proxy; then ok "READY=1 delivered to NOTIFY_SOCKET"; else fail "READY=1 delivered to NOTIFY_SOCKET" "$(cat "$WORK/proxy.log")"; fi
expect "STATUS= sent" "$(cat "$WORK/notify" 2>/dev/null)" "STATUS="
if [ -s "$WORK/tls/ca/ca.crt" ] && [ -s "$WORK/tls/ca/.ready" ] && [ -s "$WORK/tls/private/ca.key" ]; then
        ok "CA files present when READY=1 arrives"
else
        fail "CA files present when READY=1 arrives" "$(ls -laR "$WORK/tls" 2>&1)"
fi
expect "ca.key is 0600" "$(stat -c %a "$WORK/tls/private/ca.key" 2>&1)" "600"
expect "private/ is 0700" "$(stat -c %a "$WORK/tls/private" 2>&1)" "700"
expect "bundle contains our CA" "$(cat "$WORK/tls/ca/ca-bundle.crt")" "$(sed -n 2p "$WORK/tls/ca/ca.crt")"
FP1=$(openssl x509 -in "$WORK/tls/ca/ca.crt" -noout -fingerprint -sha256 2>&1)
expect "CA is a CA" "$(openssl x509 -in "$WORK/tls/ca/ca.crt" -noout -text 2>&1)" "CA:TRUE"

# --- absolute-URI HTTP --------------------------------------------------------------------------------
out=$(curl -sS $P -H "Proxy-Authorization: Basic c2VjcmV0" -H "Connection: X-Drop" -H "X-Drop: 1" -H "Host: evil.example" \
        "http://127.0.0.1:$UP/allowed/a?x=1" 2>&1)
expect "GET allowed reaches upstream" "$out" '"path": "/allowed/a?x=1"'
expect "Host rewritten from the URI" "$out" "\"Host\": \"127.0.0.1:$UP\""
expect "Via added" "$out" '"Via": "1.1 openshell-proxy"'
expect_not "Proxy-Authorization stripped" "$out" "Proxy-Authorization"
expect_not "headers named by Connection stripped" "$out" "X-Drop"
out=$(curl -sS $P -d 'k=v' "http://127.0.0.1:$UP/upload" 2>&1)
expect "POST with body relayed" "$out" '"body": "k=v"'

out=$(curl -sS -i $P "http://127.0.0.1:$UP/forbidden" 2>&1)
expect "L7 denial is 403" "$out" "HTTP/1.1 403"
expect "L7 denial has X-OpenShell-Policy" "$out" "X-OpenShell-Policy: denied"
expect "L7 denial JSON" "$out" '"error":"policy_denied","layer":"l7","host":"127.0.0.1","port":'"$UP"',"method":"GET","path":"/forbidden","policy":"upstream","rule":"endpoints[0].rules"'
out=$(curl -sS -i $P "http://127.0.0.1:$UP/allowed/secret/x" 2>&1)
expect "deny_rules beat allow" "$out" '"rule":"endpoints[0].deny_rules[0]"'
out=$(curl -sS -i $P -X DELETE "http://127.0.0.1:$UP/allowed/a" 2>&1)
expect "method not allowed is denied" "$out" "HTTP/1.1 403"
out=$(curl -sS -i $P "http://203.0.113.9/" 2>&1)
expect "unknown destination denied at L4" "$out" '"layer":"l4","host":"203.0.113.9","port":80'

out=$(curl -sS -v $P "http://127.0.0.1:$UP/allowed/1" "http://127.0.0.1:$UP/allowed/2" 2>&1)
expect "keep-alive: second request on the same connection" "$out" "Re-using existing connection"
expect "keep-alive: both answered" "$out" '"path": "/allowed/2"'
out=$(curl -sS -v $P "http://127.0.0.1:$UP/forbidden" "http://127.0.0.1:$UP/allowed/3" 2>&1)
expect "connection stays usable after a 403" "$out" '"path": "/allowed/3"'
out=$(curl -sS -I $P "http://127.0.0.1:$UP/allowed/head" "http://127.0.0.1:$UP/allowed/after-head" 2>&1)
expect "HEAD response relayed" "$out" "HTTP/1.1 200"
out=$(curl -sS -v $P -I "http://127.0.0.1:$UP/allowed/head" -: "http://127.0.0.1:$UP/allowed/after-head" 2>&1)
expect "HEAD: no body expected, the next request on the connection works" "$out" '"path": "/allowed/after-head"' 

# --- CONNECT --------------------------------------------------------------------------------------------
out=$(curl -sS -p $P "http://localhost:$UP/through-tunnel" 2>&1)
expect "CONNECT allowed: tunnel carries traffic" "$out" '"path": "/through-tunnel"'
out=$(python3 "$HELPER" raw 127.0.0.1 "$PX" 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n' 2>&1)
expect "CONNECT denied is 403" "$out" "HTTP/1.1 403"
expect "CONNECT denial JSON" "$out" '{"error":"policy_denied","layer":"l4","host":"example.com","port":443,"method":"CONNECT","path":null,"policy":null,"rule":null'
out=$(python3 "$HELPER" raw 127.0.0.1 "$PX" "CONNECT 127.0.0.2:$UP HTTP/1.1\r\nHost: x\r\n\r\n" 2>&1)
expect "SSRF: internal address denied without allowed_ips" "$out" "is internal"
expect "SSRF denial names the policy" "$out" '"policy":"ssrf"'

# --- TLS inspection ------------------------------------------------------------------------------------
MITM="--cacert $WORK/tls/ca/ca.crt $P"
out=$(curl -sS -v $MITM "https://localhost:$TLSUP/inspected/a" 2>&1)
expect "MITM: allowed request reaches the HTTPS upstream" "$out" '"path": "/inspected/a"'
expect "MITM: the client sees our leaf certificate" "$out" "issuer: CN=openshell sandbox CA"
out=$(curl -sS -v $MITM "https://localhost:$TLSUP/inspected/1" "https://localhost:$TLSUP/inspected/2" 2>&1)
expect "MITM: keep-alive inside the tunnel" "$out" '"path": "/inspected/2"'
out=$(curl -sS -i $MITM "https://localhost:$TLSUP/secret" 2>&1)
expect "MITM: L7 denial inside the tunnel is 403" "$out" "HTTP/1.1 403"
expect "MITM: L7 denial JSON" "$out" '"layer":"l7","host":"localhost","port":'"$TLSUP"',"method":"GET","path":"/secret","policy":"inspected"'
out=$(curl -sS -i $MITM -H "Host: evil.example" "https://localhost:$TLSUP/inspected/a" 2>&1)
expect "MITM: Host must match the CONNECT target" "$out" "Host header does not match"
out=$(curl -sS $MITM "https://localhost:$BADUP/inspected/a" 2>&1); rc=$?
if [ "$rc" -ne 0 ]; then ok "MITM: an upstream with an untrusted certificate is refused"; else fail "MITM: untrusted upstream refused" "$out"; fi
expect "MITM: upstream verification failure logged" "$(cat "$WORK/proxy.log")" "leg=upstream"
out=$(curl -sS --cacert "$WORK/tls/ca/ca-bundle.crt" $P "https://localhost:$TLSUP/inspected/bundle" 2>&1)
expect "MITM: ca-bundle.crt works as the agent's CA file" "$out" '"path": "/inspected/bundle"'

# --- credential placeholders ------------------------------------------------------------------------
PH="openshell:resolve:env"
out=$(curl -sS $P -H "Authorization: Bearer $PH:TOKEN" "http://127.0.0.1:$UP/allowed/c?k=$PH:TOKEN" 2>&1)
expect "credentials: Bearer placeholder replaced" "$out" '"Authorization": "Bearer s3cr3t-value"'
expect "credentials: query placeholder replaced" "$out" '"path": "/allowed/c?k=s3cr3t-value"'
out=$(curl -sS $P "http://127.0.0.1:$UP/allowed/openshell%3Aresolve%3Aenv%3ATOKEN/x" 2>&1)
expect "credentials: path segment placeholder replaced" "$out" '"path": "/allowed/s3cr3t-value/x"'
out=$(curl -sS $P -u "user:$PH:TOKEN" "http://127.0.0.1:$UP/allowed/basic" 2>&1)
expect "credentials: Basic auth decoded, replaced, re-encoded" "$out" "\"Basic $(printf 'user:s3cr3t-value' | base64)\""
out=$(curl -sS -i $P -H "X-Key: $PH:ELSEWHERE" "http://127.0.0.1:$UP/allowed/m" 2>&1)
expect "credentials: placeholder for another host is 403" "$out" '"error":"credential_endpoint_mismatch"'
expect_not "credentials: mismatched value never sent" "$out" "not-for-you"
out=$(curl -sS -i $P -H "X-Key: $PH:NOPE" "http://127.0.0.1:$UP/allowed/u" 2>&1)
expect "credentials: unknown placeholder fails closed" "$out" '"error":"unknown_credential"'
out=$(curl -sS --cacert "$WORK/tls/ca/ca.crt" $P -H "Authorization: Bearer $PH:TOKEN" "https://localhost:$TLSUP/inspected/cred" 2>&1)
expect "credentials: replaced inside an inspected tunnel" "$out" '"Authorization": "Bearer s3cr3t-value"'
expect_not "credentials: real value never logged" "$(cat "$WORK/proxy.log")" "s3cr3t"

# --- limits and bad input ---------------------------------------------------------------------------------
big=$(head -c 40000 /dev/zero | tr '\0' a)
out=$(curl -sS -o /dev/null -w '%{http_code}' $P -H "X-Big: $big" "http://127.0.0.1:$UP/allowed/big" 2>&1)
expect "oversized request head: 431" "$out" "431"
out=$(curl -sS $P "http://127.0.0.1:$UP/allowed/after-431" 2>&1)
expect "daemon keeps serving after 431" "$out" '"path": "/allowed/after-431"'
out=$(python3 "$HELPER" raw 127.0.0.1 "$PX" 'GARBAGE\r\n\r\n' 2>&1)
expect "malformed request: 400" "$out" "HTTP/1.1 400"
out=$(python3 "$HELPER" raw 127.0.0.1 "$PX" 'GET /local HTTP/1.1\r\nHost: x\r\n\r\n' 2>&1)
expect "origin-form request refused with 400" "$out" "absolute http:// URI"

# --- TCP forward ---------------------------------------------------------------------------------------------
out=$(curl -sS "http://127.0.0.1:$FWD/via-forward" 2>&1)
expect "TCP forward round trip" "$out" '"path": "/via-forward"'

# --- logs ------------------------------------------------------------------------------------------------------
log=$(cat "$WORK/proxy.log")
expect "decision log: allowed line" "$log" "decision=allowed layer=l7 sandbox=itest client=127.0.0.1 method=GET host=127.0.0.1 port=$UP path=/allowed/a policy=upstream rule=endpoints[0].rules[0]"
expect "decision log: denied line" "$log" "decision=denied layer=l4 sandbox=itest client=127.0.0.1 method=CONNECT host=example.com port=443"
expect "decision log: bytes and duration" "$log" "bytes_up="
expect_not "query strings are not logged" "$log" "x=1"
expect_not "credentials are not logged" "$log" "c2VjcmV0"

# --- reload -------------------------------------------------------------------------------------------------------
sed -i 's|"/allowed/\*\*"|"/reloaded/**"|' "$WORK/policy.yaml"
kill -HUP "$PROXY_PID"
wait_grep "$WORK/proxy.log" "Policy reloaded"
out=$(curl -sS -o /dev/null -w '%{http_code}' $P "http://127.0.0.1:$UP/reloaded/x" 2>&1)
expect "SIGHUP reload applies the new policy" "$out" "200"
printf 'version: 1\nnetwork_policies:\n  x:\n    endpoints:\n      - host: a\n        port: 0\n' >"$WORK/policy.yaml"
kill -HUP "$PROXY_PID"
wait_grep "$WORK/proxy.log" "keeping the previous policy"
expect "invalid reload is refused with the reason" "$(cat "$WORK/proxy.log")" "line 6: network_policies.x.endpoints[0].port"
out=$(curl -sS -o /dev/null -w '%{http_code}' $P "http://127.0.0.1:$UP/reloaded/y" 2>&1)
expect "last good policy stays after an invalid reload" "$out" "200"

write_policy
sed -i 's|"/allowed/\*\*"|"/watched/**"|' "$WORK/policy.yaml"
cp "$WORK/policy.yaml" "$WORK/policy.new" && mv "$WORK/policy.new" "$WORK/policy.yaml"
wait_grep "$WORK/proxy.log" "Policy reloaded from .* (file changed)"
# write_policy's own change may be the reload seen above: the replacement's follows (bounded retries).
for _ in $(seq 100); do
        out=$(curl -sS -o /dev/null -w '%{http_code}' $P "http://127.0.0.1:$UP/watched/x" 2>&1)
        [ "$out" = 200 ] && break
        sleep 0.1
done
expect "policy file replaced: reloaded without a signal (inotify)" "$out" "200"

# --- SIGTERM ------------------------------------------------------------------------------------------------------
start=$(date +%s%N)
kill -TERM "$PROXY_PID"
wait "$PROXY_PID"; rc=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
PROXY_PID=
expect "SIGTERM: exit status 0" "$rc" "0"
if [ "$elapsed_ms" -lt 1000 ]; then ok "SIGTERM: exited within 1 s (${elapsed_ms} ms)"; else fail "SIGTERM: exited within 1 s" "took ${elapsed_ms} ms"; fi

# --- restart keeps the CA -----------------------------------------------------------------------------------------
write_policy
start_proxy --handshake-timeout 1s --max-header-bytes 2048 || fail "restart" "$(tail -5 "$WORK/proxy.log")"
FP2=$(openssl x509 -in "$WORK/tls/ca/ca.crt" -noout -fingerprint -sha256 2>&1)
if [ "$FP1" = "$FP2" ]; then ok "CA reused across restart (same fingerprint)"; else fail "CA reused across restart" "$FP1 vs $FP2"; fi
out=$(python3 "$HELPER" raw 127.0.0.1 "$PX" 'GET http://127.0.0.1/ HTTP/1.1\r\nX-Slow: ' 2>&1)
expect "a request head that does not finish in HandshakeTimeoutSec= gets 408" "$out" "HTTP/1.1 408"
big=$(head -c 3000 /dev/zero | tr '\0' b)
out=$(curl -sS -o /dev/null -w '%{http_code}' $P -H "X-Big: $big" "http://127.0.0.1:$UP/allowed/big" 2>&1)
expect "--max-header-bytes is applied" "$out" "431"
stop_proxy

# --- invalid policy refuses to start ------------------------------------------------------------------------------
printf 'version: 1\nnetwork_policies:\n  x:\n    endpoints:\n      - host: a\n        prot: rest\n        port: 1\n' >"$WORK/bad.yaml"
out=$("$PROXY" --listen "127.0.0.1:$PX" --policy "$WORK/bad.yaml" 2>&1); rc=$?
if [ "$rc" -ne 0 ]; then ok "invalid policy: refuses to start"; else fail "invalid policy: refuses to start" "$out"; fi
expect "invalid policy: message names line and field" "$out" 'line 6: network_policies.x.endpoints[0]: unknown key "prot"'
out=$("$PROXY" --check-policy "$WORK/bad.yaml" 2>&1); rc=$?
if [ "$rc" -ne 0 ]; then ok "--check-policy rejects it too"; else fail "--check-policy rejects it too" "$out"; fi
out=$("$PROXY" --listen nonsense 2>&1); rc=$?
if [ "$rc" -ne 0 ]; then ok "bad --listen refused"; else fail "bad --listen refused" "$out"; fi

echo "1..$N"
if [ "$FAILED" -gt 0 ]; then
        echo "# $FAILED of $N failed; proxy log:"
        sed 's/^/# /' "$WORK/proxy.log" | tail -40
        exit 1
fi
exit 0
