#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Fault test on loopback: daemons killed with SIGKILL at every step of their writes, and a full disk.
#  * openshell-proxy: killed at each rename while it creates its CA, and by kill -9 during traffic;
#    restarted, it serves again with the same CA (an agent that trusted the old ca.crt still verifies).
#  * openshell-gateway: killed (strace injects SIGKILL at the syscall) at each rename of its first start,
#    of a policy PUT, a sandbox create and delete, a provider create; after a restart every state file
#    parses, no temporary file is left, and each object is the old or the new one, never half of it.
#  * the gateway with its state directory on a 128k tmpfs (unshare -m, root only): writes that do not fit
#    fail with 507 insufficient_storage and change nothing; after space is freed they succeed.
# Usage: test-stress-faults.sh PROXY GATEWAY. TAP output; 77 without curl/python3/strace/jq.
set -u

PROXY=${1:?usage: test-stress-faults.sh PROXY GATEWAY}
GATEWAY=${2:?usage: test-stress-faults.sh PROXY GATEWAY}
HERE=$(cd "$(dirname "$0")" && pwd)
HELPER=$HERE/proxy-helper.py
for tool in curl python3 strace jq openssl; do
        command -v "$tool" >/dev/null || { echo "1..0 # skip: $tool not installed"; exit 77; }
done

WORK=$(mktemp -d /tmp/test-stress-faults-XXXXXX)
PIDS=()
PROXY_PID=
GW_PID=
N=0
FAILED=0

cleanup() {
        [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
        [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        [ -n "${KEEP_WORK:-}" ] && echo "# kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

. "$HERE/lib.sh" || exit 1

RENAMES=rename,renameat,renameat2
# stop_traced PID: ends a daemon started under strace (SIGTERM to strace itself would only detach).
stop_traced() { pkill -TERM -P "$1"; wait "$1" 2>/dev/null; }
# renames_of LOG: how many renames a traced run made.
renames_of() { grep -cE '^[0-9]+ +(rename|renameat2?)\(' "$1"; }

# ======================================================================================================
# The proxy
# ======================================================================================================
UP=$(free_port)
TLSUP=$(free_port)
PX=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=test upstream CA" \
        -keyout "$WORK/upca.key" -out "$WORK/upca.crt" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
        -keyout "$WORK/up.key" -out "$WORK/up.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$WORK/up.ext"
openssl x509 -req -in "$WORK/up.csr" -CA "$WORK/upca.crt" -CAkey "$WORK/upca.key" -CAcreateserial -days 2 \
        -extfile "$WORK/up.ext" -out "$WORK/up.crt" 2>/dev/null
python3 "$HELPER" echo "$UP" 2>/dev/null & PIDS+=($!)
python3 "$HELPER" tls-echo "$TLSUP" "$WORK/up.crt" "$WORK/up.key" 2>/dev/null & PIDS+=($!)
wait_tcp 127.0.0.1 "$UP" && wait_tcp 127.0.0.1 "$TLSUP" || { echo "Bail out! upstreams did not start"; exit 1; }
cat >"$WORK/policy.yaml" <<POLICY
version: 1
network_policies:
  plain:
    endpoints:
      - host: 127.0.0.1
        port: $UP
        protocol: rest
        rules:
          - allow: {method: GET, path: "/**"}
        allowed_ips: [127.0.0.1]
  inspected:
    endpoints:
      - host: localhost
        port: $TLSUP
        protocol: rest
        rules:
          - allow: {method: GET, path: "/**"}
        allowed_ips: [127.0.0.0/8]
POLICY
PROXY_ARGS=(--listen "127.0.0.1:$PX" --policy "$WORK/policy.yaml" --upstream-ca "$WORK/upca.crt" --sandbox faults)

start_proxy() { # TLS-DIR: the proxy listens first, then sets up its CA (.ready last)
        "$PROXY" "${PROXY_ARGS[@]}" --tls-dir "$1" 2>>"$WORK/proxy.log" &
        PROXY_PID=$!
        wait_tcp 127.0.0.1 "$PX" "$PROXY_PID" || return 1
        for _ in $(seq 200); do [ -s "$1/ca/.ready" ] && return 0; sleep 0.05; done
        return 1
}
stop_proxy() { kill -TERM "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; PROXY_PID=; }
fingerprint() { openssl x509 -in "$1/ca/ca.crt" -noout -fingerprint -sha256 2>&1 | sed 's/.*=//; s/://g'; }
keyhash() { [ -e "$1/private/ca.key" ] && openssl pkey -in "$1/private/ca.key" -pubout 2>/dev/null | sha256sum | cut -c1-16; }
mitm() { curl -sS --max-time 10 --cacert "$1" -x "http://127.0.0.1:$PX" "https://localhost:$TLSUP/$2" 2>&1; }
# ca_sound DIR: the CA files agree with each other and the key is private.
ca_sound() {
        local d=$1 fp ready
        fp=$(fingerprint "$d")
        ready=$(tr -d ':\n' <"$d/ca/.ready" 2>/dev/null | tr 'a-f' 'A-F')
        [ -n "$fp" ] && [ "$fp" = "$(echo "$ready" | tr 'a-f' 'A-F')" ] &&
                [ "$(openssl x509 -in "$d/ca/ca.crt" -noout -pubkey | sha256sum | cut -c1-16)" = "$(keyhash "$d")" ] &&
                [ "$(stat -c %a "$d/private/ca.key")" = 600 ] &&
                ! ls "$d/ca" "$d/private" | grep -q '\.tmp\.'
}

# 1. Killed at every rename of the first start (key, certificate, bundle, .ready).
strace -f -o "$WORK/proxy-first.trace" -e trace=$RENAMES "$PROXY" "${PROXY_ARGS[@]}" --tls-dir "$WORK/tls-count" \
        2>>"$WORK/proxy.log" &
PROXY_PID=$!
wait_tcp 127.0.0.1 "$PX" "$PROXY_PID"
stop_traced "$PROXY_PID"
PROXY_PID=
K=$(renames_of "$WORK/proxy-first.trace")
echo "# the proxy's first start makes $K renames"
bad=
for k in $(seq "$K"); do
        d=$WORK/tls-kill-$k
        timeout 30 strace -f -o /dev/null -e trace=$RENAMES -e inject=$RENAMES:signal=KILL:when=$k \
                "$PROXY" "${PROXY_ARGS[@]}" --tls-dir "$d" 2>>"$WORK/proxy.log"
        before=$(keyhash "$d")
        if ! start_proxy "$d"; then
                bad="$bad rename $k: no restart;"
                continue
        fi
        ca_sound "$d" || bad="$bad rename $k: CA files disagree;"
        [ -z "$before" ] || [ "$before" = "$(keyhash "$d")" ] || bad="$bad rename $k: the written key was replaced;"
        case $(mitm "$d/ca/ca.crt" "after-kill-$k") in *"/after-kill-$k"*) ;; *) bad="$bad rename $k: MITM fails;" ;; esac
        stop_proxy
done
[ "$K" -ge 4 ] && [ -z "$bad" ] && ok "proxy killed at each of its $K first-start renames: restarts with a sound CA, a written key kept" ||
        fail "proxy killed at each first-start rename" "renames $K;$bad"

# 2. kill -9 during traffic, three times: the same CA afterwards, and the old ca.crt still verifies.
TLSD=$WORK/tls
start_proxy "$TLSD" || { echo "Bail out! proxy did not start: $(tail -5 "$WORK/proxy.log")"; exit 1; }
cp "$TLSD/ca/ca.crt" "$WORK/agent-trusted-ca.crt"
FP0=$(fingerprint "$TLSD")
traffic() {
        while :; do
                curl -s --max-time 5 -x "http://127.0.0.1:$PX" "http://127.0.0.1:$UP/t" >/dev/null
                mitm "$WORK/agent-trusted-ca.crt" t >/dev/null
        done
}
for i in 1 2 3; do
        T=()
        for _ in 1 2 3 4; do traffic & T+=($!); done
        sleep 0.$((3 + i * 2))
        kill -9 "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null; PROXY_PID=
        kill "${T[@]}" 2>/dev/null; wait "${T[@]}" 2>/dev/null
        start_proxy "$TLSD" || break
done
check "kill -9 during traffic (3 times): the same CA afterwards" "$(fingerprint "$TLSD")" "$FP0"
ca_sound "$TLSD" && ok "kill -9 during traffic: CA files sound" || fail "kill -9 during traffic: CA files sound" "$(ls -laR "$TLSD")"
expect "after the kills: MITM with the CA the agent trusted before" "$(mitm "$WORK/agent-trusted-ca.crt" again)" '"path": "/again"'
expect "after the kills: plain HTTP" "$(curl -sS --max-time 10 -x "http://127.0.0.1:$PX" "http://127.0.0.1:$UP/plain" 2>&1)" '"path": "/plain"'
stop_proxy

# ======================================================================================================
# The gateway
# ======================================================================================================
API_PORT=$(free_port)
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_RUNTIME_DIR=$WORK/run XDG_STATE_HOME=$WORK/xdgstate
export DBUS_SESSION_BUS_ADDRESS=unix:path=$WORK/no-bus
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
gw_conf() { # STATE-DIR
        printf '[Gateway]\nBindAddress=127.0.0.1:%s\nCallbackAddress=\nStateDirectory=%s\n' "$API_PORT" "$1" >"$WORK/gateway.conf"
}
start_gateway() { # [WRAPPER...]
        "$@" "$GATEWAY" --user --config "$WORK/gateway.conf" >>"$WORK/gateway.log" 2>&1 &
        GW_PID=$!
        wait_tcp 127.0.0.1 "$API_PORT" "$GW_PID"
}
stop_gateway() { kill -TERM "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null; GW_PID=; }
# wait_pki STATE: the gateway listens first and completes its PKI next; the client certificate (written
# after its key) may only now be issued.
wait_pki() { for _ in $(seq 200); do [ -s "$1/tls/client.crt" ] && return 0; sleep 0.05; done; return 1; }
api() { # STATE METHOD PATH [BODY]: "STATUS BODY" (the client certificate from $API_TLS or STATE/tls)
        local t=${API_TLS:-$1/tls}
        curl -sS --max-time 20 --cacert "$t/ca.crt" --cert "$t/client.crt" --key "$t/client.key" -X "$2" \
                ${4:+--data "$4"} -w '\n%{http_code}' "https://127.0.0.1:$API_PORT$3" 2>&1 |
                awk '{ l[NR] = $0 } END { printf "%s", l[NR]; for (i = 1; i < NR; i++) if (l[i] != "") printf " %s", l[i]; print "" }'
}
# state_sound STATE: every JSON file parses, no temporary file is left over.
state_sound() {
        local f
        for f in $(find "$1" -name '*.json'); do jq -e . "$f" >/dev/null 2>&1 || { echo "torn: $f"; return 1; }; done
        if find "$1" -name '*.tmp.*' | grep -q .; then echo "left over: $(find "$1" -name '*.tmp.*')"; return 1; fi
        return 0
}

# kill_during STATE K REQUEST...: the running gateway is killed at its K-th rename while it handles the
# request, then started again. The request's answer is in $KILLED_REPLY.
kill_during() {
        local state=$1 k=$2
        shift 2
        strace -f -p "$GW_PID" -o /dev/null -e trace=$RENAMES -e inject=$RENAMES:signal=KILL:when=$k 2>"$WORK/strace.err" &
        local s=$!
        for _ in $(seq 100); do grep -q attached "$WORK/strace.err" && break; sleep 0.05; done
        KILLED_REPLY=$(api "$state" "$@")
        wait "$GW_PID" 2>/dev/null
        GW_PID=
        wait $s 2>/dev/null
        start_gateway
}
# count_renames STATE REQUEST...: how many renames the request makes (run once, traced): $COUNT, and
# the answer in $COUNT_REPLY.
count_renames() {
        local state=$1 s
        shift
        strace -f -p "$GW_PID" -o "$WORK/count.trace" -e trace=$RENAMES 2>"$WORK/strace.err" &
        s=$!
        for _ in $(seq 100); do grep -q attached "$WORK/strace.err" && break; sleep 0.05; done
        COUNT_REPLY=$(api "$state" "$@")
        kill -INT $s; wait $s 2>/dev/null
        COUNT=$(renames_of "$WORK/count.trace")
}

# 3. Killed at every rename of the gateway's first start (the PKI).
gw_conf "$WORK/gw-count"
start_gateway strace -f -o "$WORK/gw-first.trace" -e trace=$RENAMES
stop_traced "$GW_PID"
GW_PID=
K=$(renames_of "$WORK/gw-first.trace")
echo "# the gateway's first start makes $K renames"
bad=
for k in $(seq "$K"); do
        st=$WORK/gw-first-$k
        gw_conf "$st"
        timeout 30 strace -f -o /dev/null -e trace=$RENAMES -e inject=$RENAMES:signal=KILL:when=$k \
                "$GATEWAY" --user --config "$WORK/gateway.conf" >>"$WORK/gateway.log" 2>&1
        if ! start_gateway; then
                bad="$bad rename $k: no restart ($(tail -1 "$WORK/gateway.log"));"
                continue
        fi
        wait_pki "$st"
        case $(api "$st" GET /v1/health) in "200 "*'"identity":"admin"'*) ;; *) bad="$bad rename $k: not serving;" ;; esac
        state_sound "$st" >/dev/null || bad="$bad rename $k: $(state_sound "$st");"
        stop_gateway
done
[ "$K" -ge 6 ] && [ -z "$bad" ] && ok "gateway killed at each of its $K first-start renames: restarts and serves" ||
        fail "gateway killed at each first-start rename" "renames $K;$bad"

# 4. Killed in the middle of API writes.
ST=$WORK/gw
gw_conf "$ST"
start_gateway && wait_pki "$ST" || { echo "Bail out! gateway did not start: $(tail -5 "$WORK/gateway.log")"; exit 1; }
policy() { printf '{"policy":{"version":1,"network_policies":{"p":{"name":"%s","endpoints":[{"host":"example.com","port":443}]}}}}' "$1"; }
api "$ST" POST /v1/sandboxes '{"spec":{"name":"demo","image":"localhost/agent:latest"}}' >/dev/null
api "$ST" PUT /v1/sandboxes/demo/policy "$(policy rev2)" >/dev/null

# Policy PUT: the revision and the policy file the proxy reads are both the old ones or both the new.
count_renames "$ST" PUT /v1/sandboxes/demo/policy "$(policy counted)"
K=$COUNT
echo "# a policy PUT makes $K renames ($COUNT_REPLY)"
bad=
for k in $(seq "$K"); do
        old=$(api "$ST" GET /v1/sandboxes/demo/policy | cut -d' ' -f2- | jq -c '{revision, name: .policy.network_policies.p.name}')
        kill_during "$ST" "$k" PUT /v1/sandboxes/demo/policy "$(policy "kill$k")"
        now=$(api "$ST" GET /v1/sandboxes/demo/policy | cut -d' ' -f2- | jq -c '{revision, name: .policy.network_policies.p.name}')
        rev=$(jq -r .revision <<<"$old")
        new="{\"revision\":$((rev + 1)),\"name\":\"kill$k\"}"
        [ "$now" = "$old" ] || [ "$now" = "$new" ] || bad="$bad rename $k: $old -> $now;"
        file=$(jq -c '.network_policies.p.name' "$ST/sandboxes/demo/policy-current.json" 2>&1)
        [ "$file" = "$(jq -c .name <<<"$now")" ] || bad="$bad rename $k: policy-current.json has $file, the record $now;"
        state_sound "$ST" >/dev/null || bad="$bad rename $k: $(state_sound "$ST");"
done
[ "$K" -ge 2 ] && [ -z "$bad" ] && ok "policy PUT killed at each of its $K renames: old or new revision, the proxy's file agrees" ||
        fail "policy PUT killed at each rename" "renames $K;$bad"

# Sandbox create: afterwards the sandbox is absent (and can be created) or complete.
complete() { # NAME: the record, its certificates and a policy revision
        [ "$(api "$ST" GET "/v1/sandboxes/$1" | cut -c1-3)" = 200 ] &&
                [ -s "$ST/sandboxes/$1/tls/tls.crt" ] && [ -s "$ST/sandboxes/$1/tls/ca.crt" ] &&
                [ "$(api "$ST" GET "/v1/sandboxes/$1/policy" | cut -d' ' -f2- | jq -r .revision)" -ge 1 ]
}
count_renames "$ST" POST /v1/sandboxes '{"spec":{"name":"counted","image":"localhost/agent:latest"}}'
K=$COUNT
echo "# a sandbox create makes $K renames ($(cut -c1-3 <<<"$COUNT_REPLY"))"
bad=
for k in $(seq "$K"); do
        kill_during "$ST" "$k" POST /v1/sandboxes "{\"spec\":{\"name\":\"c$k\",\"image\":\"localhost/agent:latest\"}}"
        if [ "$(api "$ST" GET "/v1/sandboxes/c$k" | cut -c1-3)" = 404 ]; then
                r=$(api "$ST" POST /v1/sandboxes "{\"spec\":{\"name\":\"c$k\",\"image\":\"localhost/agent:latest\"}}" | cut -c1-3)
                [ "$r" = 201 ] || bad="$bad rename $k: absent but create again gives $r;"
        fi
        complete "c$k" || bad="$bad rename $k: half-created ($(ls "$ST/sandboxes/c$k" "$ST/sandboxes/c$k/tls" 2>&1 | tr '\n' ' '));"
        state_sound "$ST" >/dev/null || bad="$bad rename $k: $(state_sound "$ST");"
done
[ "$K" -ge 3 ] && [ -z "$bad" ] && ok "sandbox create killed at each of its $K renames: absent (created again) or complete" ||
        fail "sandbox create killed at each rename" "renames $K;$bad"

# Sandbox delete (unlinks): afterwards present and complete, or gone and creatable again.
bad=
for k in 1 2 3; do
        api "$ST" POST /v1/sandboxes "{\"spec\":{\"name\":\"d$k\",\"image\":\"localhost/agent:latest\"}}" >/dev/null
        strace -f -p "$GW_PID" -o /dev/null -e trace=unlink,unlinkat -e inject=unlink,unlinkat:signal=KILL:when=$k 2>"$WORK/strace.err" &
        s=$!
        for _ in $(seq 100); do grep -q attached "$WORK/strace.err" && break; sleep 0.05; done
        api "$ST" DELETE "/v1/sandboxes/d$k" >/dev/null
        wait "$GW_PID" 2>/dev/null; GW_PID=; wait $s 2>/dev/null
        start_gateway
        if [ "$(api "$ST" GET "/v1/sandboxes/d$k" | cut -c1-3)" = 404 ]; then
                r=$(api "$ST" POST /v1/sandboxes "{\"spec\":{\"name\":\"d$k\",\"image\":\"localhost/agent:latest\"}}" | cut -c1-3)
                [ "$r" = 201 ] || bad="$bad unlink $k: gone but create again gives $r;"
        fi
        complete "d$k" || bad="$bad unlink $k: half-deleted;"
        state_sound "$ST" >/dev/null || bad="$bad unlink $k: $(state_sound "$ST");"
done
[ -z "$bad" ] && ok "sandbox delete killed at its first 3 unlinks: present and complete, or gone and creatable" ||
        fail "sandbox delete killed at its unlinks" "$bad"

# Provider create: absent or present with its keys.
bad=
for k in 1; do
        kill_during "$ST" "$k" POST /v1/providers '{"name":"prov","type":"openai","credentials":{"OPENAI_API_KEY":"sk-1"}}'
        r=$(api "$ST" GET /v1/providers/prov)
        case $r in 404*|200*OPENAI_API_KEY*) ;; *) bad="$bad rename $k: $r;" ;; esac
        state_sound "$ST" >/dev/null || bad="$bad rename $k: $(state_sound "$ST");"
done
[ -z "$bad" ] && ok "provider create killed at its rename: absent or complete" || fail "provider create killed at its rename" "$bad"
check "the sandbox from before the kills is intact" "$(api "$ST" GET /v1/sandboxes/demo | cut -c1-3)" 200
stop_gateway

# ======================================================================================================
# A full disk
# ======================================================================================================
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
        ok "disk full # skip: needs root and unshare -m"
else
        ST=$WORK/small
        mkdir -p "$ST"
        gw_conf "$ST"
        # A private mount namespace with a 128k tmpfs on the state directory (room for the PKI and two
        # sandboxes); unshare execs the gateway.
        start_gateway unshare -m --propagation private sh -c 'mount -t tmpfs -o size=128k,mode=0700 openshell-test "$0" && exec "$@"' "$ST"
        inns() { nsenter -t "$GW_PID" -m -- "$@"; }
        inns findmnt -n -o FSTYPE,SIZE "$ST" | sed 's/^/# state directory: /'
        # The tmpfs is only visible inside the gateway's mount namespace: the client takes a copy.
        for _ in $(seq 200); do inns test -s "$ST/tls/client.crt" && break; sleep 0.05; done
        mkdir -p "$WORK/small-tls"
        for f in ca.crt client.crt client.key; do inns cat "$ST/tls/$f" >"$WORK/small-tls/$f"; done
        API_TLS=$WORK/small-tls
        check "sandbox created on the small disk" "$(api "$ST" POST /v1/sandboxes '{"spec":{"name":"demo","image":"localhost/agent:latest"}}' | cut -c1-3)" 201
        check "policy set on the small disk" "$(api "$ST" PUT /v1/sandboxes/demo/policy "$(policy before-full)" | cut -c1-3)" 200
        inns cp -a "$ST" "$WORK/small-before"
        # Fill the disk but for 2 pages: room for one 6 KB file, not for two. A policy of that size
        # makes both its files (the record and the proxy's copy) need 2 pages each.
        free=$(inns stat -f -c %a "$ST")
        inns sh -c "head -c $(((free - 2) * 4096)) /dev/zero >$ST/filler" 2>/dev/null
        echo "# free blocks: $free before the filler, $(inns stat -f -c %a "$ST") after"
        big=$(printf '{"policy":{"version":1,"network_policies":{"p":{"name":"too-big","endpoints":[%s{"host":"example.com","port":443}]}}}}' \
                "$(for i in $(seq 150); do printf '{"host":"h%03d.example.com","port":443},' "$i"; done)")
        out=$(api "$ST" PUT /v1/sandboxes/demo/policy "$big")
        expect "policy PUT on a full disk: 507" "$out" "507 "
        expect "... with a clear error" "$out" '"error":"insufficient_storage"'
        now=$(api "$ST" GET /v1/sandboxes/demo/policy | cut -d' ' -f2- | jq -c '{revision, name: .policy.network_policies.p.name}')
        check "... the old policy revision stays" "$now" '{"revision":2,"name":"before-full"}'
        check "... and the proxy's policy file is untouched" \
                "$(inns cat "$ST/sandboxes/demo/policy-current.json" | jq -c .network_policies.p.name)" '"before-full"'
        inns sh -c "head -c $((free * 4096)) /dev/zero >$ST/filler2" 2>/dev/null
        out=$(api "$ST" POST /v1/sandboxes '{"spec":{"name":"second","image":"localhost/agent:latest"}}')
        expect "sandbox create on a full disk: 507 insufficient_storage" "$out" '507 {"error":"insufficient_storage"'
        check "... the sandbox does not exist" "$(api "$ST" GET /v1/sandboxes/second | cut -c1-3)" 404
        check "... and left nothing behind" "$(inns ls "$ST/sandboxes")" demo
        out=$(api "$ST" POST /v1/providers '{"name":"prov","type":"openai","credentials":{"OPENAI_API_KEY":"sk-1"}}')
        expect "provider create on a full disk: 507 insufficient_storage" "$out" '507 {"error":"insufficient_storage"'
        inns rm -f "$ST/filler" "$ST/filler2"
        msg=$(inns sh -c "cd $ST && find . -name '*.tmp.*'")
        check "no temporary file left on the full disk" "$msg" ""
        msg=$(inns diff -r "$WORK/small-before" "$ST" 2>&1)
        check "nothing lost or half-written: the state equals the copy from before the disk filled" "$msg" ""
        check "space freed: the policy PUT succeeds" "$(api "$ST" PUT /v1/sandboxes/demo/policy "$(policy after-full)" | cut -c1-3)" 200
        check "space freed: the sandbox create succeeds" \
                "$(api "$ST" POST /v1/sandboxes '{"spec":{"name":"second","image":"localhost/agent:latest"}}' | cut -c1-3)" 201
        stop_gateway
        unset API_TLS
fi

sanitizer_report "$WORK/proxy.log" "$WORK/gateway.log"
echo "1..$N"
[ $FAILED -eq 0 ] || { echo "# gateway log (tail):"; tail -15 "$WORK/gateway.log" | sed 's/^/# /'; }
exit $((FAILED > 0))
