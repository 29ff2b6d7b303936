#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration test of the relay on loopback: the real openshell-gateway in foreground mode with the
# certificates it generates, an openshell-sandbox supervisor (a normal process, not PID 1) that dials the
# callback listener with the sandbox's agent certificate (CN=agent:NAME), and the openshell CLI running
# commands through the gateway: stdout, stderr, exit codes, stdin, env propagation, a pty,
# upload/download, and the identity checks on the session and exec routes.
# Usage: test-relay.sh GATEWAY SUPERVISOR CLI. TAP output; 77 without curl/python3.
set -u

GATEWAY=${1:?usage: test-relay.sh GATEWAY SUPERVISOR CLI}
SUPERVISOR=${2:?usage: test-relay.sh GATEWAY SUPERVISOR CLI}
CLI=${3:?usage: test-relay.sh GATEWAY SUPERVISOR CLI}
for tool in curl python3 tar; do
        command -v "$tool" >/dev/null || { echo "1..0 # skip: $tool not installed"; exit 77; }
done

WORK=$(mktemp -d /tmp/test-relay-XXXXXX)
GW_PID=
SUP_PID=
N=0
FAILED=0


. "$(dirname "$0")/lib.sh" || exit 1
trap relay_cleanup EXIT

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
STATE=$WORK/state
TLS=$STATE/tls
cat >"$WORK/gateway.conf" <<CONF
[Gateway]
BindAddress=127.0.0.1:$API_PORT
CallbackAddress=
CallbackAddress=127.0.0.2:$CB_PORT
StateDirectory=$STATE
CONF

# User mode keeps every path inside $WORK; without a bus, sandboxes are created but not started.
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_RUNTIME_DIR=$WORK/run XDG_STATE_HOME=$WORK/xdgstate
export DBUS_SESSION_BUS_ADDRESS=unix:path=$WORK/no-bus
unset OPENSHELL_GATEWAY
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
"$GATEWAY" --user --config "$WORK/gateway.conf" >"$WORK/gateway.log" 2>&1 &
GW_PID=$!
if ! wait_port 127.0.0.1 "$API_PORT" || ! wait_port 127.0.0.2 "$CB_PORT"; then
        echo "1..1"; fail "gateway starts" "$(cat "$WORK/gateway.log")"; exit 1
fi

echo "1..29"

# 1-2. the CLI learns the gateway; a sandbox record with its own certificate
out=$("$CLI" gateway add local "https://127.0.0.1:$API_PORT" --tls-dir "$TLS" 2>&1)
expect "gateway add" "$out" "(selected)"
out=$("$CLI" sandbox create demo --image localhost/agent:latest --no-start -- sleep infinity 2>&1)
expect "sandbox create" "$out" "demo: created"
"$CLI" sandbox create other --image localhost/agent:latest --no-start >/dev/null 2>&1

# 3. exec before any supervisor: a clear error, exit 5
out=$("$CLI" sandbox exec demo -- true 2>&1); rc=$?
expect "exec without a session says why" "$out" "no supervisor session"
check "exec without a session exits 5" "$rc" 5

# 4-6. the session routes check identities: only demo's agent certificate (CN=agent:demo) opens demo's
# session; not another sandbox's agent, not demo's proxy certificate (it fetches credentials and is never
# in the agent), not the administrator
ST=$STATE/sandboxes
up() { curl -sS --max-time 10 --cacert "$TLS/ca.crt" -H 'Connection: Upgrade' -H 'Upgrade: openshell-relay/1' "$@" 2>&1; }
out=$(up --cert "$ST/other/tls/agent.crt" --key "$ST/other/tls/agent.key" "https://127.0.0.2:$CB_PORT/v1/sandboxes/demo/session")
expect "another sandbox's agent cannot open demo's session" "$out" '"error":"forbidden"'
out=$(up --cert "$ST/demo/tls/tls.crt" --key "$ST/demo/tls/tls.key" "https://127.0.0.2:$CB_PORT/v1/sandboxes/demo/session")
expect "demo's proxy certificate cannot open demo's session" "$out" '"error":"forbidden"'
out=$(up --cert "$TLS/client.crt" --key "$TLS/client.key" "https://127.0.0.2:$CB_PORT/v1/sandboxes/demo/session")
expect "the administrator cannot open a sandbox session" "$out" '"error":"forbidden"'

# The supervisor, as the agent container runs it (here as a normal process), with the agent's certificate.
export OPENSHELL_ENDPOINT=https://127.0.0.2:$CB_PORT OPENSHELL_SANDBOX=demo
export OPENSHELL_TLS_CA=$ST/demo/tls/ca.crt OPENSHELL_TLS_CERT=$ST/demo/tls/agent.crt OPENSHELL_TLS_KEY=$ST/demo/tls/agent.key
export HTTP_PROXY=http://10.213.0.2:3128 SSL_CERT_FILE=/etc/openshell-tls/ca/ca-bundle.crt
"$SUPERVISOR" --no-workload >"$WORK/supervisor.log" 2>&1 &
SUP_PID=$!
unset OPENSHELL_ENDPOINT OPENSHELL_SANDBOX OPENSHELL_TLS_CA OPENSHELL_TLS_CERT OPENSHELL_TLS_KEY HTTP_PROXY SSL_CERT_FILE
for _ in $(seq 200); do
        grep -q "session established" "$WORK/supervisor.log" && break
        sleep 0.05
done

# 7-9. the session is up (GET says so); neither sandbox certificate can exec
out=$("$CLI" sandbox get demo -o json 2>&1 | tr -d ' \t\n')
expect "GET reports the supervisor's session" "$out" '"session":true'
out=$(up --cert "$ST/demo/tls/tls.crt" --key "$ST/demo/tls/tls.key" -X POST "https://127.0.0.1:$API_PORT/v1/sandboxes/demo/exec")
expect "a sandbox's proxy certificate cannot exec" "$out" '"error":"forbidden"'
out=$(up --cert "$ST/demo/tls/agent.crt" --key "$ST/demo/tls/agent.key" -X POST "https://127.0.0.1:$API_PORT/v1/sandboxes/demo/exec")
expect "a sandbox's agent certificate cannot exec" "$out" '"error":"forbidden"'

# 7-9. stdout, stderr and the exit code, separately
"$CLI" sandbox exec demo -- sh -c 'echo out; echo err >&2; exit 3' >"$WORK/out" 2>"$WORK/err"; rc=$?
check "exec exit code" "$rc" 3
check "exec stdout" "$(cat "$WORK/out")" "out"
check "exec stderr" "$(cat "$WORK/err")" "err"

# 10. stdin passes through, EOF included
out=$(printf 'line1\nline2\n' | "$CLI" sandbox exec demo -- sh -c 'cat; echo done')
check "stdin passthrough" "$out" $'line1\nline2\ndone'

# 11. a large stdin/stdout round trip (flow control on both legs)
head -c 3000000 /dev/urandom >"$WORK/big"
"$CLI" sandbox exec demo -- cat <"$WORK/big" >"$WORK/big.out"
check "3 MB through cat" "$(cmp "$WORK/big" "$WORK/big.out" && echo same)" "same"

# parallel channels on one session, one of them read slowly: every byte arrives on each
PAR=
for i in 1 2 3; do
        "$CLI" sandbox exec demo -- head -c 4000000 /dev/zero | wc -c >"$WORK/par.$i" &
        PAR="$PAR $!"
done
"$CLI" sandbox exec demo -- head -c 2000000 /dev/zero |
        python3 -c 'import sys, time
n = 0
while True:
    b = sys.stdin.buffer.read(65536)
    if not b: break
    n += len(b); time.sleep(0.002)
print(n)' >"$WORK/par.slow"
wait $PAR
check "3 parallel channels and a slow reader" "$(cat "$WORK/par.1" "$WORK/par.2" "$WORK/par.3" "$WORK/par.slow" | tr '\n' ' ')" \
        "4000000 4000000 4000000 2000000 "

# 12-13. the proxy/CA environment reaches exec'd children; --env adds, never unpins
out=$("$CLI" sandbox exec demo --env FOO=bar --env HTTP_PROXY=http://evil:1 -- sh -c 'echo "$HTTP_PROXY $SSL_CERT_FILE $FOO"')
check "proxy env in an exec'd child" "$out" "http://10.213.0.2:3128 /etc/openshell-tls/ca/ca-bundle.crt bar"
out=$("$CLI" sandbox exec demo -- sh -c 'echo "${OPENSHELL_TLS_KEY:-unset}"')
check "the supervisor's key path is not passed on" "$out" "unset"

# 14-15. command not found, workdir
out=$("$CLI" sandbox exec demo -- no-such-command-xyz 2>&1); rc=$?
check "command not found exits 127" "$rc" 127
expect "command not found says so" "$out" "cannot run 'no-such-command-xyz'"
out=$("$CLI" sandbox exec demo --workdir / -- pwd)
check "workdir" "$out" "/"

# 17. a pty: stdout is a terminal
out=$("$CLI" sandbox exec demo --tty -- sh -c 'test -t 1 && echo tty' </dev/null | tr -d '\r')
check "--tty gives a terminal" "$out" "tty"

# 18. --tty in a real terminal (tmux): the initial size, then a resize, reach the remote pty
if command -v tmux >/dev/null; then
        TM="tmux -S $WORK/tmux.sock"
        $TM new-session -d -s relay -x 100 -y 30 "$CLI sandbox exec demo --tty -- sh -c 'stty size; read x; stty size' >$WORK/tty.out 2>&1; sleep 30"
        for _ in $(seq 200); do grep -q "30 100" "$WORK/tty.out" 2>/dev/null && break; sleep 0.05; done
        $TM resize-window -t relay -x 120 -y 40
        # the SIGWINCH travels asynchronously: send the line only once the window has its new size
        for _ in $(seq 100); do [ "$($TM display -p -t relay '#{window_width}')" = 120 ] && break; sleep 0.05; done
        sleep 0.2
        $TM send-keys -t relay go Enter
        for _ in $(seq 200); do grep -q "40 120" "$WORK/tty.out" 2>/dev/null && break; sleep 0.05; done
        check "pty size follows the terminal" "$(tr -d '\r' <"$WORK/tty.out" | tr '\n' '/')" "30 100/go/40 120/"
        $TM kill-server 2>/dev/null
else
        ok "pty size follows the terminal # skip: tmux not installed"
fi

# 19. a signal from the CLI reaches the remote process
"$CLI" sandbox exec demo -- sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done' >"$WORK/sig" 2>&1 &
cpid=$!
for _ in $(seq 200); do grep -q ready "$WORK/sig" && break; sleep 0.05; done
kill -TERM $cpid
wait $cpid; rc=$?
# (the whole remote process group gets it, as from a terminal: sh may report its killed sleep)
expect "SIGTERM forwarded, remote exit code returned" "$rc/$(tr '\n' ' ' <"$WORK/sig")" "got-term"
check "SIGTERM: the trap's exit code" "$rc" 7

# 19-20. upload and download a tree with odd names
mkdir -p "$WORK/src/tree/sub dir"
printf 'a\n' >"$WORK/src/tree/sub dir/it's *odd*.txt"
printf 'b\n' >"$WORK/src/tree/-dash"
"$CLI" sandbox upload demo "$WORK/src/tree" "$WORK/remote" 2>&1
check "upload" "$(cat "$WORK/remote/tree/sub dir/it's *odd*.txt" 2>&1)" "a"
mkdir -p "$WORK/dl"
"$CLI" sandbox download demo "$WORK/remote/tree" "$WORK/dl" 2>&1
check "download" "$(cat "$WORK/dl/tree/-dash" 2>&1)" "b"

# 21-22. the supervisor reconnects after the gateway restarts
kill "$GW_PID"; wait "$GW_PID" 2>/dev/null
"$GATEWAY" --user --config "$WORK/gateway.conf" >>"$WORK/gateway.log" 2>&1 &
GW_PID=$!
wait_port 127.0.0.1 "$API_PORT"
for _ in $(seq 300); do
        [ "$(grep -c "session established" "$WORK/supervisor.log")" -ge 2 ] && break
        sleep 0.05
done
out=$("$CLI" sandbox exec demo -- echo again 2>&1)
check "exec after the gateway restarted (supervisor redialed)" "$out" "again"
kill "$SUP_PID"; wait "$SUP_PID"; rc=$?
check "supervisor without a workload: SIGTERM is a clean stop (exit 0)" "$rc" 0
SUP_PID=

[ "$FAILED" -eq 0 ] || { echo "# gateway log:"; sed 's/^/#   /' "$WORK/gateway.log" | tail -20; echo "# supervisor log:"; sed 's/^/#   /' "$WORK/supervisor.log" | tail -20; }
exit $((FAILED > 0))
