# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The gateway's end-to-end cases (issue 4 item 7, issue 6 item 3), run once per mode by
# test-gateway-system.sh and test-gateway-user.sh: the socket-activated gateway, a sandbox created through
# its API whose proxy runs in gateway mode, mTLS from the agent through the proxy's forward onto the
# narrow callback listener with the certificate the agent has (its own, CN=agent:NAME: no secrets through
# it, while the proxy's certificate still gets them), GET's progress fields, `openshell sandbox create`
# following the stages, a policy change enforced, DELETE leaving nothing behind, idle exit.
# Needs e2e.sh sourced and e2e_init called. Everything the cases create is removed by gw_cleanup.

GW_API=127.0.0.1:17670
GW_SERVER_URL=http://$TB_INET_NAME/
GW_DENIED_URL=http://denied.openshell.test/
GW_IDLE_SEC=5
GW_CLIENT_DIR=/etc/openshell/tls/client

# gw_wait SECONDS CMD...: until CMD succeeds or SECONDS have passed (by the clock: CMD may be slow).
gw_wait() {
        local end=$(( $(date +%s) + $1 ))
        shift
        until "$@" >/dev/null 2>&1; do
                [ "$(date +%s)" -lt "$end" ] || return 1
                sleep 0.5
        done
}
gw_unit_is() { test "$(e2e_systemctl is-active "$1")" = "$2"; }

gw_home() { echo "/home/$TB_USER"; }
gw_state_dir() { if [ "$E2E_MODE" = user ]; then echo "$(gw_home)/.local/state/openshell"; else echo /var/lib/openshell; fi; }
gw_tls_dir() { echo "$(gw_state_dir)/tls"; }
gw_conf_dropin() {
        if [ "$E2E_MODE" = user ]; then echo "$(gw_home)/.config/openshell/gateway.conf.d/90-e2e-gateway.conf"
        else echo /etc/openshell/gateway.conf.d/90-e2e-gateway.conf; fi
}

# The callback listener and the endpoint sandboxes get (OPENSHELL_E2E_CALLBACK=unix|tcp picks the kind).
# Rootful (tcp, the default): the host end of the openshell bridge. Rootless (unix, the default): the user
# gateway's Unix socket in $XDG_RUNTIME_DIR/openshell/callback/, mounted into each proxy container; the
# specs get https://host.openshell.internal plus the socket's path, whatever carries the rootless network
# (pasta or slirp4netns). Rootless tcp: Podman (>= 5.3) maps host.containers.internal to pasta's
# --map-guest-addr 169.254.1.2, which pasta translates to the host's own address on its template interface
# (not to the host's loopback: Podman runs pasta with --no-map-gw), so the user gateway listens there
# (docs/gateway.md); a user gateway derives https://host.containers.internal:PORT from it for the specs.
gw_host_ip() { tb_exec ip -4 -o route get 192.0.2.254 | sed -n 's/.* src \([0-9.]*\).*/\1/p'; }
gw_set_callback() {
        GW_CALLBACK_KIND=${OPENSHELL_E2E_CALLBACK:-}
        if [ -z "$GW_CALLBACK_KIND" ]; then
                if [ "$E2E_MODE" = user ]; then GW_CALLBACK_KIND=unix; else GW_CALLBACK_KIND=tcp; fi
        fi
        if [ "$GW_CALLBACK_KIND" = unix ]; then
                if [ "$E2E_MODE" = user ]; then GW_CALLBACK=/run/user/$TB_UID/openshell/callback/gateway.sock
                else GW_CALLBACK=/run/openshell/callback/gateway.sock; fi
                GW_ENDPOINT=https://host.openshell.internal
        elif [ "$E2E_MODE" = user ]; then
                # GW_HOST_IP: where host.containers.internal leads, if not pasta's (test-gateway-slirp4netns.sh).
                GW_CALLBACK=${GW_HOST_IP:-$(gw_host_ip)}:17671
                GW_ENDPOINT=https://host.containers.internal:17671
        else
                GW_CALLBACK=10.214.0.1:17671
                GW_ENDPOINT=https://$GW_CALLBACK
        fi
}
gw_callback_is_unix() { [ "$GW_CALLBACK_KIND" = unix ]; }
# gw_conf IDLE-SECONDS: a test drop-in for gateway.conf. No CallbackAddress= for the user gateway's unix
# socket: that is its built-in default, which the suites thereby test.
gw_conf() {
        printf '[Gateway]\nBindAddress=%s\n' "$GW_API"
        gw_callback_is_unix && [ "$E2E_MODE" = user ] || printf 'CallbackAddress=\nCallbackAddress=%s\n' "$GW_CALLBACK"
        printf 'IdleTimeoutSec=%ss\n' "$1"
}
# gw_callback_target PATH: the curl arguments that reach PATH on the callback listener (TCP or the socket).
gw_callback_target() {
        if gw_callback_is_unix; then echo "--unix-socket $GW_CALLBACK https://host.openshell.internal$1"
        else echo "https://$GW_CALLBACK$1"; fi
}

# gw_api METHOD PATH [BODY]: the CLI's certificate against the primary listener, as the mode's identity.
# Prints the body, then a last line with the HTTP status.
gw_api() {
        local method=$1 path=$2 body=${3:-} d
        d=$(gw_tls_dir)
        printf '%s' "$body" | e2e_as_in curl -sS -m 30 -X "$method" --cacert "$d/ca.crt" --cert "$d/client.crt" \
                --key "$d/client.key" -H 'Content-Type: application/json' ${body:+--data-binary @-} \
                -w '\n%{http_code}' "https://$GW_API$path"
}
gw_status() { tail -n 1 <<<"$1"; }
gw_body() { sed '$d' <<<"$1"; }

# e2e_as with stdin passed through.
e2e_as_in() {
        if [ "$E2E_MODE" = user ]; then
                tb_exec_in runuser -u "$TB_USER" -- env HOME="$(gw_home)" XDG_RUNTIME_DIR="/run/user/$TB_UID" \
                        DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$TB_UID/bus" "$@"
        else
                tb_exec_in "$@"
        fi
}

gw_proxy_ip() { e2e_podman inspect --format "{{(index .NetworkSettings.Networks \"openshell-sbx-$1\").IPAddress}}" "openshell-proxy-$1"; }

# gw_forward_curl NAME PATH [CURL-ARGS...]: from inside the agent, through the proxy's TCP forward
# (PROXY_IP:8081), verifying the gateway's server certificate by the name the supervisor uses.
gw_forward_curl() {
        local n=$1 path=$2 p
        shift 2
        p=$(gw_proxy_ip "$n")
        e2e_cexec "openshell-agent-$n" curl -sS -m 10 --noproxy '*' --cacert "$GW_CLIENT_DIR/ca.crt" \
                --resolve "host.openshell.internal:8081:$p" -w '\n%{http_code}' "$@" "https://host.openshell.internal:8081$path"
}
# The certificate the agent container actually has mounted (the supervisor's, CN=agent:NAME).
gw_mounted_cert() { echo --cert "$GW_CLIENT_DIR/tls.crt" --key "$GW_CLIENT_DIR/tls.key"; }

# gw_proxy_curl NAME PATH: on the machine, with the proxy's own certificate (CN=sandbox:NAME, mounted into
# the proxy only) against the callback listener, as the proxy talks to it. Body, then the status.
gw_proxy_curl() {
        local n=$1 path=$2 d
        d=$(gw_state_dir)/sandboxes/$n/tls
        # shellcheck disable=SC2046
        e2e_as curl -sS -m 10 --cacert "$d/ca.crt" --cert "$d/tls.crt" --key "$d/tls.key" -w '\n%{http_code}' \
                $(gw_callback_target "$path")
}

gw_agent_code() { e2e_cexec "openshell-agent-$1" curl -sS -m 10 -o /dev/null -w '%{http_code}' "$2" 2>/dev/null; }

# The gateway's listeners in the machine: TCP on its ports, and Unix sockets in a callback directory.
gw_listeners() {
        { tb_exec ss -Hltn | awk '{ print $4 }' | grep -E ':1767[01]$'
          tb_exec ss -Hlx | awk '{ print $5 }' | grep -E '/openshell/callback/'; } | sort | tr '\n' ' '
}
gw_service_state() { e2e_systemctl show -P ActiveState openshell-gateway.service; }

# ---- 1. socket activation --------------------------------------------------------------------------

gw_case_activation() {
        local out want conf d
        d=$(gw_tls_dir)
        e2e_check "openshell-gateway generate-certs into $d" e2e_as openshell-gateway generate-certs --output-dir "$d"
        out=$(e2e_as stat -c '%n %a' "$d/ca.key" "$d/server.key" "$d/client.key" 2>&1)
        e2e_check "generated keys are 0600 ($(echo $out | tr -s ' ' | sed "s|$d/||g"))" \
                test "$(grep -c ' 600$' <<<"$out")" = 3

        # No CallbackEndpoint=: the endpoint written into specs is derived from CallbackAddress=.
        conf=$(gw_conf "$GW_IDLE_SEC")
        e2e_put "$(gw_conf_dropin)" <<<"$conf"
        e2e_check "daemon-reload: the generator writes the socket drop-ins" e2e_systemctl daemon-reload
        out="$(e2e_systemctl show -P Listen openshell-gateway.socket) / $(e2e_systemctl show -P Listen openshell-gateway-callback.socket)"
        e2e_check "socket units follow gateway.conf ($out)" \
                test "$out" = "$GW_API (Stream) / $GW_CALLBACK (Stream)"
        e2e_check "systemctl start openshell-gateway.socket openshell-gateway-callback.socket" \
                e2e_systemctl start openshell-gateway.socket openshell-gateway-callback.socket
        out=$(gw_service_state)
        e2e_check "the gateway service is not running before the first connection ($out)" test "$out" = inactive
        want="$(printf '%s\n' "$GW_CALLBACK" "$GW_API" | sort | tr '\n' ' ')"
        out=$(gw_listeners)
        e2e_check "listening on exactly $want(ss: $out)" test "$out" = "$want"

        out=$(gw_api GET /v1/health)
        if [ "$(gw_status "$out")" = 200 ] && grep -q '"identity":"admin"' <<<"$out"; then
                e2e_pass "curl --cert (CLI certificate) to $GW_API/v1/health starts the gateway: $(gw_body "$out")"
        else
                e2e_fail "curl --cert (CLI certificate) to $GW_API/v1/health (got: $(echo $out | cut -c1-200))"
        fi
        out="$(e2e_systemctl show -P Type openshell-gateway.service) $(gw_service_state)"
        e2e_check "the service is Type=notify and active after the first connection ($out)" test "$out" = "notify active"
        out=$(gw_listeners)
        e2e_check "the running gateway opened no other listener, never 0.0.0.0 (ss: $out)" test "$out" = "$want"
        gw_case_no_children
}

# LISTEN_* must not reach anything the gateway spawns; it spawns nothing (it drives systemd over D-Bus).
gw_case_no_children() {
        local pid kids
        pid=$(e2e_systemctl show -P MainPID openshell-gateway.service)
        kids=$(tb_exec sh -c "cat /proc/$pid/task/*/children 2>/dev/null" | tr -s ' \n' ' ')
        if [ -n "$pid" ] && [ "$pid" != 0 ] && [ -z "${kids// /}" ]; then
                e2e_pass "LISTEN_* leak: not applicable, the gateway (pid $pid) has no child processes"
        else
                e2e_fail "the gateway (pid '$pid') has no child processes (children: $kids)"
        fi
}

# ---- 2. a sandbox created through the API ----------------------------------------------------------

gw_create_body() {
        local n=$1
        cat <<-EOF
	{"spec": {"name": "$n", "image": "localhost/openshell-test-debian:latest",
	          "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 1000000 & wait"]},
	 "policy": $(cat "$E2E_SRC/e2e/fixtures/policy-e2e.json"),
	 "start": true}
	EOF
}

gw_case_create() {
        local n=$1 out d
        d=$(gw_state_dir)/sandboxes/$n/tls
        out=$(gw_api POST /v1/sandboxes "$(gw_create_body "$n")")
        if [ "$(gw_status "$out")" = 201 ] && grep -q "\"gateway\":\"$GW_ENDPOINT\"" <<<"$out" &&
           grep -q "\"cert\":\"$d/tls.crt\"" <<<"$out" && grep -q "\"agent_cert\":\"$d/agent.crt\"" <<<"$out" &&
           grep -q "\"policy\":\"$(gw_state_dir)/sandboxes/$n/" <<<"$out"; then
                e2e_pass "POST /v1/sandboxes: 201, gateway $GW_ENDPOINT, tls (proxy and agent) and policy filled in"
        else
                e2e_fail "POST /v1/sandboxes (got: $(echo $out | cut -c1-300))"
                return 1
        fi
        e2e_check "the sandbox's client certificates were issued ($d/tls.crt, $d/agent.crt)" \
                tb_exec test -s "$d/tls.key" -a -s "$d/agent.key"
        if gw_wait 90 gw_unit_is "openshell-sandbox@$n.service" active; then
                e2e_pass "openshell-sandbox@$n becomes active (started by the gateway)"
        else
                e2e_fail "openshell-sandbox@$n becomes active ($(e2e_systemctl is-active "openshell-sandbox@$n.service"))"
                e2e_systemctl status --no-pager "openshell-sandbox@$n" "openshell-proxy-$n" 2>&1 | tail -n 20 | sed 's/^/#     /'
                return 1
        fi
        out=$(gw_api GET "/v1/sandboxes/$n")
        e2e_check "GET /v1/sandboxes/$n reports state active" grep -q '"state":"active"' <<<"$out"
        # The agent unit is ready only once its supervisor's session is up (Notify): both show at once.
        if grep -q '"units":{"network":"active","volume":"active","proxy":"active","agent":"active"},"session":true' <<<"$out"; then
                e2e_pass "GET /v1/sandboxes/$n: every unit active, the supervisor's session up"
        else
                e2e_fail "GET /v1/sandboxes/$n: every unit active and the session up (got: $(gw_body "$out" | grep -o '"state".*' | cut -c1-200))"
        fi
        e2e_check "the proxy runs in gateway mode (--gateway $GW_ENDPOINT)" gw_proxy_has_gateway "$n"
        if gw_wait 30 gw_proxy_journal_has "$n" 'Policy revision 1 from the gateway applied'; then
                e2e_pass "the proxy fetched policy revision 1 from the gateway (journal)"
        else
                e2e_fail "the proxy fetched policy revision 1 from the gateway (journal: $(gw_proxy_journal "$n" | tail -n 3 | cut -c1-200))"
        fi
        out=$(gw_agent_code "$n" "$GW_SERVER_URL")
        e2e_check "the agent reaches $GW_SERVER_URL through the proxy ($out)" test "$out" = 200
        out=$(gw_agent_code "$n" "$GW_DENIED_URL")
        e2e_check "the denied host gets 403 ($out)" test "$out" = 403
}

gw_proxy_journal() {
        if [ "$E2E_MODE" = user ]; then
                tb_exec journalctl --no-pager -q "_SYSTEMD_USER_UNIT=openshell-proxy-$1.service"
        else
                tb_exec journalctl --no-pager -q -u "openshell-proxy-$1.service"
        fi
}
gw_proxy_has_gateway() { e2e_systemctl cat "openshell-proxy-$1.service" | grep -q -- "--gateway $GW_ENDPOINT"; }
gw_proxy_journal_has() { gw_proxy_journal "$1" | grep -q "$2"; }

# ---- 3. mTLS from the agent through the proxy's forward --------------------------------------------

# From inside the agent only its own certificate exists: it reaches health (and its session), never the
# secrets. The proxy's certificate, outside the agent, still gets them.
gw_case_forward() {
        local n=$1 out mounts d
        d=$(gw_state_dir)/sandboxes/$n/tls
        # shellcheck disable=SC2046
        out=$(gw_forward_curl "$n" /v1/health $(gw_mounted_cert) 2>&1)
        if [ "$(gw_status "$out")" = 200 ] && grep -q "\"identity\":\"agent:$n\"" <<<"$out" &&
           grep -q '"listener":"callback"' <<<"$out"; then
                e2e_pass "agent -> PROXY:8081 -> callback listener, mTLS with the certificate mounted in the agent: $(gw_body "$out")"
        else
                e2e_fail "agent -> PROXY:8081 -> callback listener with the mounted certificate, identity agent:$n (got: $(echo $out | cut -c1-300))"
        fi
        # shellcheck disable=SC2046
        out=$(gw_forward_curl "$n" "/v1/sandboxes/$n/credentials" $(gw_mounted_cert) 2>&1)
        if [ "$(gw_status "$out")" = 403 ] && grep -q '"error":"forbidden"' <<<"$out"; then
                e2e_pass "secrets stay out of the agent: GET /v1/sandboxes/$n/credentials with the agent's certificate gets 403"
        else
                e2e_fail "secrets stay out of the agent: GET /v1/sandboxes/$n/credentials with the agent's certificate (got: $(echo $out | cut -c1-300))"
        fi
        out=$(gw_proxy_curl "$n" "/v1/sandboxes/$n/credentials" 2>&1)
        if [ "$(gw_status "$out")" = 200 ] && grep -q '"credentials":' <<<"$out"; then
                e2e_pass "the proxy's own path still works: its certificate gets the credentials (200)"
        else
                e2e_fail "the proxy's certificate gets the credentials (got: $(echo $out | cut -c1-200))"
        fi
        # shellcheck disable=SC2046
        out="$(gw_status "$(gw_forward_curl "$n" "/v1/sandboxes/$n/policy" $(gw_mounted_cert) 2>&1)")"
        # shellcheck disable=SC2046
        out+=" $(gw_status "$(gw_forward_curl "$n" "/v1/sandboxes/$n/inference" $(gw_mounted_cert) 2>&1)")"
        # shellcheck disable=SC2046
        out+=" $(gw_status "$(gw_forward_curl "$n" "/v1/sandboxes/$n" $(gw_mounted_cert) 2>&1)")"
        e2e_check "the agent's certificate gets no policy, inference route or record either ($out)" test "$out" = "403 403 403"
        mounts=$(e2e_podman inspect --format '{{range .Mounts}}{{.Source}} {{end}}' "openshell-agent-$n" 2>&1)
        if grep -q "$d/agent.key" <<<"$mounts" && ! grep -q "$d/tls.key" <<<"$mounts"; then
                e2e_pass "the agent mounts agent.key, not the proxy's tls.key"
        else
                e2e_fail "the agent mounts agent.key, not the proxy's tls.key (mounts: $mounts)"
        fi
        out=$(gw_forward_curl "$n" /v1/health 2>&1)
        if [ "$(gw_status "$out")" != 200 ]; then
                e2e_pass "without a client certificate the gateway refuses ($(echo $out | grep -o 'alert[a-z ]*\|curl: ([0-9]*)' | head -n1))"
        else
                e2e_fail "without a client certificate the gateway refuses (got: $(echo $out | cut -c1-200))"
        fi
        # shellcheck disable=SC2046
        out=$(gw_forward_curl "$n" /v1/sandboxes $(gw_mounted_cert) 2>&1)
        e2e_check "an admin route (GET /v1/sandboxes) with the agent's certificate gets 403 ($(echo $out | cut -c1-100))" \
                test "$(gw_status "$out")" = 403
        # shellcheck disable=SC2046
        out=$(gw_forward_curl "$n" /v1/sandboxes/other/session $(gw_mounted_cert) -H 'Connection: Upgrade' \
                -H 'Upgrade: openshell-relay/1' 2>&1)
        e2e_check "another sandbox's session with this agent's certificate gets 403" test "$(gw_status "$out")" = 403
        e2e_check_not "the agent cannot reach the API listener $GW_API directly" \
                e2e_cexec "openshell-agent-$n" curl -sS -m 5 --noproxy '*' -k "https://$GW_API/v1/health"
        if gw_callback_is_unix; then
                gw_case_socket_mounts "$n"
        else
                e2e_check_not "the agent cannot reach the callback listener $GW_CALLBACK directly" \
                        e2e_cexec "openshell-agent-$n" curl -sS -m 5 --noproxy '*' -k "https://$GW_CALLBACK/v1/health"
                out=$(gw_agent_code "$n" "https://$GW_CALLBACK/v1/health")
                e2e_check "nor through the L7 proxy (the policy does not allow it: $out)" test "$out" != 200
        fi
}

# The Unix callback socket: its directory is mounted into the proxy (read-only) and nowhere else; the
# socket is the user's alone (0600 in a 0700 directory).
gw_case_socket_mounts() {
        local n=$1 dir out owner
        dir=$(dirname "$GW_CALLBACK")
        out=$(e2e_podman inspect --format '{{range .Mounts}}{{.Source}}:{{.Destination}}:{{.RW}} {{end}}' "openshell-proxy-$n" 2>&1)
        e2e_check "the proxy mounts $dir read-only at /run/openshell/gateway" grep -q "$dir:/run/openshell/gateway:false" <<<"$out"
        out=$(e2e_podman inspect --format '{{range .Mounts}}{{.Source}} {{end}}' "openshell-agent-$n" 2>&1)
        e2e_check "the agent mounts nothing of $dir ($out)" test "${out#*"$dir"}" = "$out"
        e2e_check_not "the agent has no gateway socket (neither $GW_CALLBACK nor /run/openshell/gateway)" \
                e2e_cexec "openshell-agent-$n" sh -c "test -e '$GW_CALLBACK' || test -e /run/openshell/gateway"
        owner=root
        [ "$E2E_MODE" != user ] || owner=$TB_USER
        out=$(tb_exec stat -c '%a %U' "$dir" "$GW_CALLBACK" | tr '\n' ' ')
        e2e_check "the socket is the gateway owner's alone ($out)" test "$out" = "700 $owner 600 $owner "
}

# ---- 3b. the CLI follows a sandbox's stages --------------------------------------------------------

# openshell sandbox create (not a terminal: one line per stage) until "agent ready"; exec works at once.
# The workload exits 0 on SIGTERM, so that DELETE leaves no failed agent unit behind (gw_case_delete).
gw_case_cli_create() {
        local n=$1 out rc want
        want=$(printf '%s: created\n%s: network ready\n%s: volume ready\n%s: proxy ready\n%s: agent ready' "$n" "$n" "$n" "$n" "$n")
        out=$(e2e_as openshell --gateway "https://$GW_API" sandbox create "$n" --image localhost/openshell-test-debian:latest \
                --timeout 150 -- sh -c "trap 'exit 0' TERM; sleep 1000000 & wait" 2>&1)
        rc=$?
        if [ "$rc" = 0 ] && [ "$out" = "$want" ]; then
                e2e_pass "openshell sandbox create $n shows created, network, volume, proxy ready, agent ready ($(tr '\n' ',' <<<"$out" | sed "s/$n: //g"))"
        else
                e2e_fail "openshell sandbox create $n shows the stages (exit $rc, got: $(tr '\n' '|' <<<"$out" | cut -c1-400))"
                return 1
        fi
        out=$(e2e_as openshell --gateway "https://$GW_API" sandbox exec "$n" -- echo from-the-agent 2>&1)
        e2e_check "right after 'agent ready' exec works (the session is up): $out" test "$out" = from-the-agent
}

# ---- 4. a policy change reaches the proxy ----------------------------------------------------------

gw_case_policy() {
        local n=$1 out t0 t i code=
        out=$(gw_api PUT "/v1/sandboxes/$n/policy" '{"policy": {"version": 1}}')
        t0=$(date +%s%N)
        if [ "$(gw_status "$out")" != 200 ]; then
                e2e_fail "PUT /v1/sandboxes/$n/policy (deny all) (got: $(echo $out | cut -c1-200))"
                return 1
        fi
        for i in $(seq 1 40); do
                code=$(gw_agent_code "$n" "$GW_SERVER_URL")
                [ "$code" = 403 ] && break
                sleep 0.1
        done
        t=$(( ($(date +%s%N) - t0) / 1000000 ))
        if [ "$code" = 403 ]; then
                e2e_pass "PUT policy (deny all, $(gw_body "$out")): request $i through the proxy gets 403 (${t} ms after the PUT returned, podman exec included)"
        else
                e2e_fail "PUT policy (deny all): still $code after $i requests (${t} ms)"
        fi
        e2e_check "the proxy applied revision 2 from the gateway (journal)" \
                gw_proxy_journal_has "$n" 'Policy revision 2 from the gateway applied'
}

# ---- 5. DELETE, then idle exit ---------------------------------------------------------------------

gw_leftovers() {
        local n=$1 left
        left="$(e2e_podman ps -a --filter "label=openshell.sandbox=$n" --format 'container:{{.Names}}')"
        e2e_podman network exists "openshell-sbx-$n" 2>/dev/null && left+=" network:openshell-sbx-$n"
        e2e_podman volume exists "openshell-tls-$n" 2>/dev/null && left+=" volume:openshell-tls-$n"
        left+=" $(tb_exec sh -c "ls -d $(e2e_unit_globs "$n") $(e2e_spec_dir)/$n.json $(gw_state_dir)/sandboxes/$n 2>/dev/null")"
        left+=" $(e2e_loaded_units "$n")"
        echo $left
}
gw_nothing_left() { test -z "$(gw_leftovers "$1")"; }

gw_case_delete() {
        local n=$1 out
        out=$(gw_api DELETE "/v1/sandboxes/$n")
        e2e_check "DELETE /v1/sandboxes/$n: $(gw_body "$out")" test "$(gw_status "$out")" = 200
        out=$(gw_api GET "/v1/sandboxes/$n")
        e2e_check "GET /v1/sandboxes/$n afterwards: 404" test "$(gw_status "$out")" = 404
        if gw_wait 60 gw_nothing_left "$n"; then
                e2e_pass "no container, network, volume, unit, spec or state of $n left"
        else
                e2e_fail "no container, network, volume, unit, spec or state of $n left (left: $(gw_leftovers "$n"))"
        fi
}

gw_case_idle() {
        local out want t0
        want="$(printf '%s\n' "$GW_CALLBACK" "$GW_API" | sort | tr '\n' ' ')"
        t0=$(date +%s)
        if gw_wait $((GW_IDLE_SEC * 8)) gw_unit_is openshell-gateway.service inactive; then
                e2e_pass "the gateway exits after IdleTimeoutSec=${GW_IDLE_SEC}s without connections (inactive after $(( $(date +%s) - t0 ))s)"
        else
                e2e_fail "the gateway exits after IdleTimeoutSec=${GW_IDLE_SEC}s ($(gw_service_state))"
        fi
        out="$(e2e_systemctl is-active openshell-gateway.socket openshell-gateway-callback.socket | tr '\n' ' ')"
        e2e_check "both sockets stay active ($out)" test "$out" = "active active "
        out=$(gw_listeners)
        e2e_check "and listening ($out)" test "$out" = "$want"
        out=$(gw_api GET /v1/health)
        e2e_check "the next connection starts it again" test "$(gw_status "$out") $(gw_service_state)" = "200 active"
}

# ---- setup and cleanup -----------------------------------------------------------------------------

# gw_cleanup NAME: best effort; removes everything this suite may have created.
gw_cleanup() {
        local n=$1
        e2e_sandbox_cleanup "$n" "$n-cli"
        e2e_systemctl stop openshell-gateway.service openshell-gateway.socket openshell-gateway-callback.socket >/dev/null 2>&1
        e2e_systemctl reset-failed openshell-gateway.service >/dev/null 2>&1
        tb_exec rm -f "$(gw_conf_dropin)"
        tb_exec rmdir "$(dirname "$(gw_conf_dropin)")" 2>/dev/null
        # The state (PKI, records, the sandboxes' certificates) exists only because of this suite.
        [ "$GW_STATE_EXISTED" = yes ] || tb_exec rm -rf "$(gw_state_dir)"
        [ "$GW_STATE_EXISTED" = no ] || tb_exec rm -rf "$(gw_state_dir)/sandboxes/$n" "$(gw_state_dir)/sandboxes/$n-cli"
        e2e_systemctl daemon-reload >/dev/null 2>&1
}

gw_suite() {
        local n=$1
        gw_set_callback
        if tb_exec test -e "$(gw_state_dir)"; then GW_STATE_EXISTED=yes; else GW_STATE_EXISTED=no; fi
        gw_cleanup "$n"
        [ "$GW_STATE_EXISTED" = no ] || e2e_info "$(gw_state_dir) existed before: kept (only sandboxes/$n is removed)"
        e2e_info "API $GW_API, callback $GW_CALLBACK, endpoint for sandboxes $GW_ENDPOINT"
        gw_case_activation
        if gw_case_create "$n"; then
                gw_case_forward "$n"
                gw_case_policy "$n"
                # A script's own checks while the sandbox runs (test-gateway-slirp4netns.sh).
                [ -z "${GW_RUNNING_HOOK:-}" ] || "$GW_RUNNING_HOOK" "$n"
        fi
        gw_case_cli_create "$n-cli" && gw_case_delete "$n-cli"
        gw_case_delete "$n"
        gw_case_idle
        gw_cleanup "$n"
        out=$(gw_listeners)
        e2e_check "cleanup: no gateway listener left (${out:-none})" test -z "$out"
}
