#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration test: inference.local routing through the real openshell-proxy on loopback, against a fake
# model backend (proxy-helper.py inference-backend) that checks the injected key. Usage:
# test-proxy-inference.sh PATH-TO-openshell-proxy. TAP output; exit 77 when curl/python3/openssl are missing.
set -u

PROXY=${1:?usage: test-proxy-inference.sh PATH-TO-openshell-proxy}
HELPER="$(cd "$(dirname "$0")" && pwd)/proxy-helper.py"
for tool in curl python3 openssl; do
        command -v "$tool" >/dev/null || { echo "1..0 # skip: $tool not installed"; exit 77; }
done

WORK=$(mktemp -d /tmp/test-proxy-inference-XXXXXX)
PIDS=()
PROXY_PID=
N=0
FAILED=0
KEY=sk-backend-secret-1234

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

BP=$(free_port)
mkdir -p "$WORK/sse"
python3 "$HELPER" inference-backend "$BP" "$KEY" "$WORK/backend.log" "$WORK/sse" & PIDS+=($!)
wait_port "$BP" || { echo "Bail out! backend did not start"; exit 1; }

# An https backend with a certificate from a test CA that the proxy trusts through --upstream-ca.
TBP=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=test backend CA" \
        -keyout "$WORK/bca.key" -out "$WORK/bca.crt" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
        -keyout "$WORK/b.key" -out "$WORK/b.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$WORK/b.ext"
openssl x509 -req -in "$WORK/b.csr" -CA "$WORK/bca.crt" -CAkey "$WORK/bca.key" -CAcreateserial -days 2 \
        -extfile "$WORK/b.ext" -out "$WORK/b.crt" 2>/dev/null
mkdir -p "$WORK/sse-tls"
python3 "$HELPER" inference-backend "$TBP" "$KEY" "$WORK/backend-tls.log" "$WORK/sse-tls" "$WORK/b.crt" "$WORK/b.key" &
PIDS+=($!)
wait_port "$TBP" || { echo "Bail out! TLS backend did not start"; exit 1; }

printf '%s\n' "$KEY" >"$WORK/key"
cat >"$WORK/inference.json" <<JSON
{"base_url": "http://127.0.0.1:$BP/v1", "api": "openai", "model": "backend-model",
 "credential": {"value_file": "$WORK/key"}}
JSON

PX=$(free_port)
"$PROXY" --listen "127.0.0.1:$PX" --tls-dir "$WORK/tls" --inference "$WORK/inference.json" \
        --upstream-ca "$WORK/bca.crt" --inference-max-body-bytes 64K 2>"$WORK/proxy.log" &
PROXY_PID=$!
wait_port "$PX" || { echo "Bail out! proxy did not start"; cat "$WORK/proxy.log"; exit 1; }
for _ in $(seq 100); do [ -e "$WORK/tls/ca/.ready" ] && break; sleep 0.05; done
CA="$WORK/tls/ca/ca.crt"
C=(curl -sS --max-time 20 -x "http://127.0.0.1:$PX")
CHAT='{"model":"gpt-agent","messages":[{"role":"user","content":"hi"}]}'

echo "1..26"

# 1-4: plain http://inference.local — model rewritten, our key injected, the agent's key stripped.
out=$("${C[@]}" -H 'Authorization: Bearer sk-agent-plain' -H 'x-api-key: sk-agent-x' \
        -H 'Content-Type: application/json' -d "$CHAT" http://inference.local/v1/chat/completions)
expect "http: routed to the backend" "$out" '"auth": "ok"'
expect "http: model rewritten" "$out" '"model": "backend-model"'
expect "http: backend path keeps /v1 once" "$out" '"path": "/v1/chat/completions"'
log=$(cat "$WORK/backend.log")
expect_not "http: the agent's keys never reach the backend" "$log" "sk-agent"

# 5-8: https://inference.local (CONNECT, TLS with the sandbox CA).
out=$("${C[@]}" --cacert "$CA" -H 'Authorization: Bearer sk-agent-tls' -H 'Content-Type: application/json' \
        -d "$CHAT" https://inference.local/v1/chat/completions)
expect "https: routed with the sandbox CA" "$out" '"model": "backend-model"'
out=$("${C[@]}" --cacert "$CA" https://inference.local/v1/models)
expect "https: GET /v1/models" "$out" '"path": "/v1/models"'
out=$("${C[@]}" --cacert "$CA" -H 'Content-Type: application/json' -d "$CHAT" \
        https://inference.local/v1/embeddings https://inference.local/v1/responses)
expect "https: keep-alive, two calls on one connection" "$out" '"path": "/v1/responses"'
log=$(cat "$WORK/backend.log")
expect_not "https: the agent's key never reaches the backend" "$log" "sk-agent-tls"

# 9-13: anything else is denied with inference_denied.
out=$("${C[@]}" --cacert "$CA" -w ' %{http_code}' -d '{}' https://inference.local/v1/files)
expect "https: unknown path denied" "$out" '"error":"inference_denied"'
expect "https: 403" "$out" ' 403'
out=$("${C[@]}" -w ' %{http_code}' -d '{}' http://inference.local/v1/messages)
expect "openai backend: /v1/messages denied" "$out" 'inference_denied'
out=$("${C[@]}" -w ' %{http_code}' -X DELETE http://inference.local/v1/models)
expect "method not allowed for an inference endpoint" "$out" 'method not allowed'
out=$("${C[@]}" -w ' %{http_code}' http://example.com/)
expect "other destinations still follow the (deny-all) policy" "$out" '"error":"policy_denied"'

# 14-16: bad bodies.
out=$("${C[@]}" -w ' %{http_code}' -H 'Content-Type: application/json' -d 'not json' \
        http://inference.local/v1/chat/completions)
expect "invalid JSON body: 400" "$out" ' 400'
out=$("${C[@]}" -w ' %{http_code}' -H 'Transfer-Encoding: chunked' -d "$CHAT" \
        http://inference.local/v1/chat/completions)
expect "chunked body: 411" "$out" ' 411'
python3 -c 'import json; print(json.dumps({"model": "x", "pad": "a" * 100000}))' >"$WORK/big.json"
out=$("${C[@]}" -w ' %{http_code}' -H 'Content-Type: application/json' --data-binary @"$WORK/big.json" \
        http://inference.local/v1/chat/completions)
expect "body over InferenceMaxBodyBytes=: 413" "$out" ' 413'

# 17-20: streamed SSE is relayed without buffering: the first event arrives before the backend sends
# the last one (the backend holds the rest until the client has seen the first).
out=$(python3 "$HELPER" sse-client "$PX" https://inference.local/v1/chat/completions "$WORK/sse" "$CA")
expect "https SSE: text/event-stream" "$out" "status 200 text/event-stream"
expect "https SSE: first event before the last was sent" "$out" "first event before-last"
expect "https SSE: every event relayed" "$out" 'events {"n": 1} {"n": 2} {"n": 3} [DONE]'
rm -f "$WORK/sse/go" "$WORK/sse/last-sent"
out=$(python3 "$HELPER" sse-client "$PX" http://inference.local/v1/chat/completions "$WORK/sse")
expect "http SSE: first event before the last was sent" "$out" "first event before-last"

# 21-23: the route reloads on change; an https backend verified with --upstream-ca.
cat >"$WORK/inference.json.new" <<JSON
{"base_url": "https://localhost:$TBP", "model": "tls-model", "credential": {"value": "$KEY"}}
JSON
mv "$WORK/inference.json.new" "$WORK/inference.json"
out=
for _ in $(seq 100); do
        out=$("${C[@]}" -d "$CHAT" http://inference.local/v1/chat/completions)
        case "$out" in *tls-model*) break ;; esac
        sleep 0.1
done
expect "reloaded route: https backend, new model" "$out" '"model": "tls-model"'
out=$(python3 "$HELPER" sse-client "$PX" https://inference.local/v1/chat/completions "$WORK/sse-tls" "$CA")
expect "SSE from an https backend: first event before the last" "$out" "first event before-last"
log=$(cat "$WORK/backend-tls.log")
expect_not "https backend: the agent's key never arrives" "$log" "sk-agent"

# 24-26: failures: an untrusted backend certificate and an unreachable backend are 502; an invalid route
# is refused on reload and the last good one stays.
DEAD=$(free_port)
printf '{"base_url": "http://127.0.0.1:%s", "model": "m"}\n' "$DEAD" >"$WORK/inference.json.new"
mv "$WORK/inference.json.new" "$WORK/inference.json"
for _ in $(seq 100); do
        out=$("${C[@]}" -w ' %{http_code}' -d "$CHAT" http://inference.local/v1/chat/completions)
        case "$out" in *inference_backend_unreachable*) break ;; esac
        sleep 0.1
done
expect "unreachable backend: 502" "$out" 'inference_backend_unreachable'
printf '{"base_url": "ftp://nope", "model": "m"}\n' >"$WORK/inference.json.new"
mv "$WORK/inference.json.new" "$WORK/inference.json"
for _ in $(seq 100); do grep -q "keeping the previous" "$WORK/proxy.log" && break; sleep 0.1; done
out=$(grep "keeping the previous" "$WORK/proxy.log")
expect "invalid route refused on reload" "$out" "inference: base_url"
out=$("${C[@]}" -w ' %{http_code}' -d "$CHAT" http://inference.local/v1/chat/completions)
expect "the last good route stays" "$out" 'inference_backend_unreachable'

if [ "$FAILED" -gt 0 ]; then
        echo "# proxy log:"; tail -30 "$WORK/proxy.log" | sed 's/^/# /'
        exit 1
fi
exit 0
