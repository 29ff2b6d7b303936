# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The sandbox lifecycle cases (issue 2, item 7), run once per mode by test-sandbox-system.sh and
# test-sandbox-user.sh. Needs e2e.sh sourced and e2e_init called.

E2E_SERVER_URL=http://$TB_INET_NAME/
E2E_DENIED_URL=http://denied.openshell.test/

# e2e_policy_path: where the sandboxes' policy file lives in the machine for this mode.
e2e_policy_path() {
        if [ "$E2E_MODE" = user ]; then echo "/home/$TB_USER/.config/openshell/policies/e2e.json"
        else echo /etc/openshell/policies/e2e.json; fi
}

# e2e_write_spec NAME IMAGE [GATEWAY]: the sandbox spec, placed in the spec directory. GATEWAY is the
# gateway's callback endpoint (ARCHITECTURE.md: 10.214.0.1:17671); without it the spec has none.
e2e_write_spec() {
        local n=$1 image=$2 gw=${3:-} gwline=
        [ -z "$gw" ] || gwline="\"gateway\": \"$gw\","
        e2e_put "$(e2e_spec_dir)/$n.json" <<-EOF
	{
	  "name": "$n",
	  "image": "$image",
	  $gwline
	  "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 1000000 & wait"],
	  "policy": "$(e2e_policy_path)"
	}
	EOF
}

e2e_net_field() { e2e_podman network inspect --format "{{range .Subnets}}{{.$2}}{{end}}" "openshell-sbx-$1"; }
e2e_cpid() { e2e_podman inspect --format '{{.State.Pid}}' "$1"; }
e2e_ca_sum() { tb_exec sha256sum "$(e2e_volume_path "openshell-tls-$1")/ca/ca.crt" | cut -d' ' -f1; }
e2e_ready_file() { tb_exec test -e "$(e2e_volume_path "openshell-tls-$1")/ca/.ready"; }

# A request with curl inside the agent container; prints "HTTP_CODE BODY".
e2e_agent_curl() {
        local n=$1; shift
        e2e_cexec "openshell-agent-$n" sh -c 'rm -f /tmp/body; curl -sS -m 10 -o /tmp/body -w "%{http_code} " "$@"; r=$?; cat /tmp/body; exit $r' \
                curl "$@"
}

e2e_case_setup() {
        local n=$1
        e2e_put "$(e2e_policy_path)" <"$E2E_SRC/e2e/fixtures/policy-e2e.json"
        e2e_write_spec "$n" localhost/openshell-test-debian:latest
        e2e_check "spec + daemon-reload makes openshell-sandbox@$n startable" e2e_reload_and_cat "$n"
}

e2e_reload_and_cat() {
        e2e_systemctl daemon-reload &&
                e2e_systemctl cat "openshell-proxy-$1.service" "openshell-agent-$1.service" >/dev/null
}

e2e_agent_reaches_server() { test "$(e2e_agent_curl "$1" "$E2E_SERVER_URL" 2>&1)" = "200 hello-from-testserver"; }

e2e_case_start() {
        local n=$1 t0 t
        t0=$(date +%s.%N)
        if e2e_systemctl start "openshell-sandbox@$n.service"; then
                t=$(echo "$(date +%s.%N) - $t0" | bc)
                # Checked right after start returned: systemd must have waited for the proxy's READY=1.
                local proxy_state ready=no
                proxy_state=$(e2e_systemctl is-active "openshell-proxy-$n.service")
                e2e_ready_file "$n" && ready=yes
                e2e_pass "systemctl start openshell-sandbox@$n returned ($(printf '%.2f' "$t")s)"
                if [ "$proxy_state" = active ] && [ $ready = yes ]; then
                        e2e_pass "proxy ready when start returns (active, ca/.ready on the TLS volume)"
                else
                        e2e_fail "proxy ready when start returns (state=$proxy_state, .ready=$ready)"
                fi
                e2e_check "agent service active" test "$(e2e_systemctl is-active "openshell-agent-$n.service")" = active
        else
                e2e_fail "systemctl start openshell-sandbox@$n"
                e2e_systemctl status --no-pager "openshell-sandbox@$n" "openshell-proxy-$n" "openshell-agent-$n" 2>&1 |
                        tail -n 30 | sed 's/^/#     /'
                return 1
        fi
}

e2e_case_labels() {
        local n=$1 kind obj role got
        for kind in "network:openshell-sbx-$n:network" "volume:openshell-tls-$n:tls" \
                    "container:openshell-proxy-$n:proxy" "container:openshell-agent-$n:agent"; do
                IFS=: read -r kind obj role <<<"$kind"
                if [ "$kind" = container ]; then
                        got=$(e2e_podman container inspect --format '{{index .Config.Labels "openshell.sandbox"}}/{{index .Config.Labels "openshell.role"}}' "$obj" 2>&1)
                else
                        got=$(e2e_podman "$kind" inspect --format '{{index .Labels "openshell.sandbox"}}/{{index .Labels "openshell.role"}}' "$obj" 2>&1)
                fi
                if [ "$got" = "$n/$role" ]; then
                        e2e_pass "$kind $obj exists with labels openshell.sandbox=$n openshell.role=$role"
                else
                        e2e_fail "$kind $obj exists with labels openshell.sandbox=$n openshell.role=$role (got: $got)"
                fi
        done
        got=$(e2e_podman network inspect --format '{{.Internal}}' "openshell-sbx-$n" 2>&1)
        e2e_check "network openshell-sbx-$n is internal" test "$got" = true
}

# The agent's PID 1 is our supervisor from the sidecar image (whatever the image holds), and the
# workload runs under it with the proxy environment.
e2e_case_supervisor() {
        local n=$1 out
        out=$(e2e_cexec "openshell-agent-$n" sh -c 'tr "\0" " " </proc/1/cmdline' 2>&1)
        e2e_check "agent PID 1 is openshell-sandbox from /opt/openshell ($(echo $out | cut -c1-90))" \
                grep -q '/opt/openshell/bin/openshell-sandbox' <<<"$out"
        out=$(e2e_cexec "openshell-agent-$n" sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = sleep ] && tr "\0" "\n" <$p/environ; done' 2>&1)
        e2e_check "the workload (sleep, a child of PID 1) has HTTP_PROXY" grep -q '^HTTP_PROXY=http://' <<<"$out"
        e2e_check_not "the workload has none of the supervisor's own variables (NOTIFY_SOCKET, OPENSHELL_POLICY_FILE)" \
                grep -qE '^(NOTIFY_SOCKET|OPENSHELL_POLICY_FILE)=' <<<"$out"
}

e2e_case_isolation() {
        local n=$1 routes gw
        routes=$(e2e_cexec "openshell-agent-$n" ip route 2>&1)
        if [ -n "$routes" ] && ! grep -q default <<<"$routes"; then
                e2e_pass "agent has no default route"
        else
                e2e_fail "agent has no default route (ip route: $(echo $routes))"
        fi
        e2e_check "machine reaches the test server (control)" tb_exec curl -sS -m 5 -o /dev/null "http://$TB_INET_SERVER/"
        e2e_check_not "agent cannot reach the test server $TB_INET_SERVER directly" \
                e2e_cexec "openshell-agent-$n" curl -sS -m 5 --noproxy '*' "http://$TB_INET_SERVER/"
        e2e_check_not "agent with HTTP_PROXY unset cannot reach $E2E_SERVER_URL" \
                e2e_cexec "openshell-agent-$n" env -u HTTP_PROXY -u http_proxy -u HTTPS_PROXY -u https_proxy \
                -u ALL_PROXY -u all_proxy curl -sS -m 5 "$E2E_SERVER_URL"
        gw=$(e2e_net_field "$n" Gateway)
        if [ "$E2E_MODE" = system ]; then
                e2e_check "openshell-firewall.service is active (pulled in by openshell-sandbox@$n)" \
                        test "$(e2e_systemctl is-active openshell-firewall.service)" = active
                # Control: without our firewall the hole is there (netavark leaves INPUT open), so the
                # case below really tests openshell-firewall.service.
                tb_exec systemctl stop openshell-firewall.service
                e2e_check "control: without openshell-firewall the agent reaches the host service via $gw:$TB_HOSTSRV_PORT" \
                        e2e_cexec "openshell-agent-$n" curl -sS -m 5 --noproxy '*' -o /dev/null "http://$gw:$TB_HOSTSRV_PORT/"
                tb_exec systemctl start openshell-firewall.service
        fi
        e2e_check_not "agent cannot reach the host service via its gateway $gw:$TB_HOSTSRV_PORT" \
                e2e_cexec "openshell-agent-$n" curl -sS -m 5 --noproxy '*' "http://$gw:$TB_HOSTSRV_PORT/"
        e2e_check "agent still resolves names through the bridge's DNS ($gw:53)" \
                e2e_cexec "openshell-agent-$n" getent hosts "openshell-proxy-$n"
        # The machine's resolver (the test internet's DNS) answers $TB_INET_NAME; the bridge's DNS must
        # not forward the agent's queries there, or DNS would be a way out (exfiltration).
        e2e_check "control: the machine resolves $TB_INET_NAME" tb_exec getent hosts "$TB_INET_NAME"
        e2e_check_not "agent cannot resolve an outside name ($TB_INET_NAME) through the bridge's DNS" \
                e2e_cexec "openshell-agent-$n" getent hosts "$TB_INET_NAME"
}

e2e_case_proxy() {
        local n=$1 out
        out=$(e2e_agent_curl "$n" "$E2E_SERVER_URL" 2>&1)
        if [ "$out" = "200 hello-from-testserver" ]; then
                e2e_pass "curl through the proxy reaches $E2E_SERVER_URL (200)"
        else
                e2e_fail "curl through the proxy reaches $E2E_SERVER_URL (got: $(echo $out | cut -c1-200))"
        fi
        out=$(e2e_agent_curl "$n" "$E2E_DENIED_URL" 2>&1)
        if [[ "$out" == "403 "* ]] &&
           printf '%s' "${out#403 }" | e2e_cexec_in "openshell-agent-$n" python3 -c \
                'import json,sys; d=json.load(sys.stdin); sys.exit(0 if isinstance(d, dict) else 1)' 2>/dev/null; then
                e2e_pass "denied host gets 403 with a JSON body ($(echo ${out#403 } | cut -c1-120))"
        else
                e2e_fail "denied host gets 403 with a JSON body (got: $(echo $out | cut -c1-200))"
        fi
        local ssh_cmd
        ssh_cmd=$(e2e_cexec "openshell-agent-$n" printenv GIT_SSH_COMMAND 2>/dev/null)
        out=$(e2e_cexec "openshell-agent-$n" git clone "git@$TB_INET_NAME:e2e/repo.git" /tmp/repo 2>&1)
        # The refusal must come from GIT_SSH_COMMAND (it names openshell), not from a network error.
        if [ $? -ne 0 ] && [ -n "$ssh_cmd" ] && grep -q 'openshell' <<<"$out"; then
                e2e_pass "git clone git@... is refused ($(echo $out | cut -c1-120))"
        else
                e2e_fail "git clone git@... is refused (GIT_SSH_COMMAND='$ssh_cmd', git said: $(echo $out | cut -c1-200))"
        fi
}

e2e_cexec_in() { local c=$1; shift; if [ "$E2E_MODE" = user ]; then tb_exec_in runuser -u "$TB_USER" -- env XDG_RUNTIME_DIR="/run/user/$TB_UID" DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$TB_UID/bus" podman exec -i "$c" "$@"; else tb_exec_in podman exec -i "$c" "$@"; fi; }

# Two sandboxes must not reach each other (the other one runs the busybox image).
e2e_case_other_sandbox() {
        local n=$1 o=$2 oproxy oagent
        e2e_write_spec "$o" localhost/openshell-test-busybox:latest
        e2e_systemctl daemon-reload
        if ! e2e_systemctl start "openshell-sandbox@$o.service"; then
                e2e_fail "second sandbox $o (busybox image) starts"
                e2e_systemctl stop "openshell-sandbox@$o.service"
                return 1
        fi
        e2e_pass "second sandbox $o (busybox image) starts"
        oproxy=$(e2e_podman inspect --format "{{(index .NetworkSettings.Networks \"openshell-sbx-$o\").IPAddress}}" "openshell-proxy-$o")
        oagent=$(e2e_podman inspect --format "{{(index .NetworkSettings.Networks \"openshell-sbx-$o\").IPAddress}}" "openshell-agent-$o")
        e2e_check "agent of $o reaches its own proxy $oproxy:3128 (control)" \
                e2e_cexec "openshell-agent-$o" sh -c "nc -z -w 3 $oproxy 3128 </dev/null || echo | nc -w 3 $oproxy 3128"
        e2e_check_not "agent of $n cannot reach the proxy of $o ($oproxy:3128)" \
                e2e_cexec "openshell-agent-$n" curl -sS -m 5 --noproxy '*' "http://$oproxy:3128/"
        e2e_check_not "agent of $n cannot reach the agent of $o ($oagent)" \
                e2e_cexec "openshell-agent-$n" sh -c "ping -c1 -W3 $oagent >/dev/null 2>&1 || curl -sS -m 5 --noproxy '*' http://$oagent:80/"
        e2e_systemctl stop "openshell-sandbox@$o.service"
        e2e_quadlet remove "$o" >/dev/null 2>&1
        e2e_as rm -f "$(e2e_spec_dir)/$o.json"
}

# A spec without "gateway" is valid (docs/spec.md): such a sandbox must start too.
e2e_case_no_gateway() {
        local n=$1
        e2e_write_spec "$n" localhost/openshell-test-busybox:latest
        e2e_systemctl daemon-reload
        if e2e_systemctl start "openshell-sandbox@$n.service"; then
                e2e_pass "sandbox $n (spec without a gateway) starts"
        else
                e2e_fail "sandbox $n (spec without a gateway) starts"
                tb_exec journalctl --no-pager -n 60 2>/dev/null | grep "openshell-proxy-$n\[" | tail -n 2 | sed 's/^/#     /'
        fi
        e2e_systemctl stop "openshell-sandbox@$n.service"
        e2e_quadlet remove "$n" >/dev/null 2>&1
}

e2e_case_restart() {
        local n=$1 pid1 pid2 ca1 ca2 i inv1 inv2
        ca1=$(e2e_ca_sum "$n")
        # NRestarts is reset by the restart job systemd propagates to the agent; the invocation ID is not.
        inv1=$(e2e_systemctl show -P InvocationID "openshell-proxy-$n.service")
        pid1=$(e2e_cpid "openshell-proxy-$n")
        if [ -z "$pid1" ] || [ "$pid1" = 0 ] || ! tb_exec kill -9 "$pid1"; then
                e2e_fail "kill -9 of the proxy's main process (pid '$pid1')"
                return 1
        fi
        pid2=
        for i in $(seq 1 240); do
                sleep 0.25
                [ "$(e2e_systemctl is-active "openshell-proxy-$n.service" 2>/dev/null)" = active ] || continue
                pid2=$(e2e_cpid "openshell-proxy-$n" 2>/dev/null)
                [ -n "$pid2" ] && [ "$pid2" != 0 ] && [ "$pid2" != "$pid1" ] && break
                pid2=
        done
        inv2=$(e2e_systemctl show -P InvocationID "openshell-proxy-$n.service")
        if [ -n "$pid2" ] && [ -n "$inv1" ] && [ "$inv1" != "$inv2" ]; then
                e2e_pass "kill -9 of the proxy (pid $pid1): systemd restarted it (pid $pid2, new invocation ${inv2:0:12})"
        else
                e2e_fail "kill -9 of the proxy (pid $pid1): systemd restarted it"
                return 1
        fi
        ca2=$(e2e_ca_sum "$n")
        if [ -n "$ca1" ] && [ "$ca1" = "$ca2" ]; then
                e2e_pass "CA unchanged across the restart (sha256 ${ca1:0:16}...)"
        else
                e2e_fail "CA unchanged across the restart ('$ca1' -> '$ca2')"
        fi
        # The agent may be restarted along with the proxy; either way the path must work again.
        e2e_wait 60 e2e_agent_reaches_server "$n"
        e2e_check "agent reaches the test server through the restarted proxy" e2e_agent_reaches_server "$n"
}

e2e_case_remove() {
        local n=$1 left
        e2e_check "systemctl stop openshell-sandbox@$n" e2e_systemctl stop "openshell-sandbox@$n.service"
        e2e_check "openshell-quadlet remove $n" e2e_quadlet remove "$n"
        left=$(e2e_podman ps -a --filter "label=openshell.sandbox=$n" --format '{{.Names}}')
        e2e_check "no container of $n left" test -z "$left"
        e2e_check_not "no network openshell-sbx-$n left" e2e_podman network exists "openshell-sbx-$n"
        e2e_check_not "no volume openshell-tls-$n left" e2e_podman volume exists "openshell-tls-$n"
        left=$(tb_exec sh -c "ls -d $(e2e_unit_globs "$n") 2>/dev/null")
        e2e_check "no unit file of $n left (${left:-none})" test -z "$left"
        e2e_check_not "systemd no longer knows openshell-proxy-$n.service" \
                e2e_systemctl cat "openshell-proxy-$n.service"
        e2e_check_not "spec of $n removed" tb_exec test -e "$(e2e_spec_dir)/$n.json"
        # Not even a unit without a file: an "active (exited)" network unit left behind would make the
        # next sandbox of this name skip creating its network.
        left=$(e2e_loaded_units "$n")
        e2e_check "systemd holds no unit of $n any more (${left:-none})" test -z "$left"
}

e2e_loaded_units() {
        e2e_systemctl list-units --all --plain --no-legend "openshell-proxy-$1.service" \
                "openshell-agent-$1.service" "openshell-sbx-$1-network.service" "openshell-tls-$1-volume.service" \
                "openshell-sandbox@$1.service" | awk '{ printf "%s(%s) ", $1, $3 }'
}

# The name is reusable after a removal: install, start, use, stop and remove it once more.
e2e_case_recreate() {
        local n=$1
        e2e_write_spec "$n" localhost/openshell-test-debian:latest
        e2e_systemctl daemon-reload
        if e2e_systemctl start "openshell-sandbox@$n.service"; then
                e2e_pass "recreated sandbox $n starts after a removal"
                e2e_check "recreated sandbox $n reaches the test server through its proxy" e2e_agent_reaches_server "$n"
        else
                e2e_fail "recreated sandbox $n starts after a removal"
                e2e_systemctl status --no-pager "openshell-proxy-$n" 2>&1 | grep -E 'Error|error' | tail -n 3 | sed 's/^/#     /'
        fi
        e2e_systemctl stop "openshell-sandbox@$n.service"
        e2e_check "openshell-quadlet remove $n (again)" e2e_quadlet remove "$n"
}

# Best-effort cleanup so a failed run leaves the machine usable for the next script.
e2e_sandbox_cleanup() {
        local n
        for n in "$@"; do
                e2e_systemctl stop "openshell-sandbox@$n.service" >/dev/null 2>&1
                e2e_quadlet remove "$n" >/dev/null 2>&1
                e2e_as rm -f "$(e2e_spec_dir)/$n.json"
                e2e_podman rm -f -t 0 "openshell-agent-$n" "openshell-proxy-$n" >/dev/null 2>&1
                e2e_podman volume rm -f "openshell-tls-$n" >/dev/null 2>&1
                e2e_podman network rm -f "openshell-sbx-$n" >/dev/null 2>&1
                e2e_systemctl stop "openshell-sbx-$n-network.service" "openshell-tls-$n-volume.service" >/dev/null 2>&1
                e2e_systemctl reset-failed "openshell-*-$n.service" "openshell-*-$n-*.service" >/dev/null 2>&1
        done
        e2e_systemctl daemon-reload >/dev/null 2>&1
}

e2e_sandbox_suite() {
        local n=$1 o=$2
        e2e_sandbox_cleanup "$n" "$o" nogw
        e2e_case_setup "$n"
        if e2e_case_start "$n"; then
                e2e_case_labels "$n"
                e2e_case_supervisor "$n"
                e2e_case_isolation "$n"
                e2e_case_proxy "$n"
                e2e_case_other_sandbox "$n" "$o"
                e2e_case_no_gateway nogw
                e2e_case_restart "$n"
        fi
        e2e_case_remove "$n"
        e2e_case_recreate "$n"
        e2e_sandbox_cleanup "$n" "$o" nogw
}
