# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Fault injection (issue 7 item 3), system mode, in the testbed machine: kill -9 of the proxy, of the
# supervisor (the agent's PID 1) and of the gateway during traffic; kill -9 of the gateway in the middle
# of an API create and of a delete, then the same call again; 50 creates and deletes through the API with
# leak checks; enabled sandboxes after the manager restarts (emulated, see ft_case_reboot); a full state
# directory. Each case prints PASS/FAIL lines and ends as one row of a results table (TAP, like
# lib/bypass-cases.sh; OPENSHELL_FAULTS_TAP=FILE writes it there too).
# Needs e2e.sh, sandbox-cases.sh and gateway-cases.sh sourced and e2e_init called.

FT_S=bypass-fa
FT_LOOP=${OPENSHELL_FAULTS_LOOP:-50}
FT_ROWS=()
FT_IDLE_SEC=600
FT_SERVER_URL=http://$TB_INET_NAME/

# ---- results ---------------------------------------------------------------------------------------

# ft_begin ID WHAT: a case; ft_check / ft_fail add to it (e2e_check semantics); ft_end makes the row.
ft_begin() { FT_ID=$1 FT_WHAT=$2 FT_OK=yes FT_NOTE= FT_FIGS=; e2e_info "---- $FT_ID: $FT_WHAT"; }
ft_note() { [ "$FT_OK" = no ] || { FT_OK=no; FT_NOTE=$1; }; }
ft_check() {
        local name=$1 out
        shift
        if out=$("$@" 2>&1); then
                e2e_pass "$FT_ID $name"
        else
                e2e_fail "$FT_ID $name"
                [ -z "$out" ] || printf '%s\n' "$out" | tail -n 10 | sed 's/^/#     /'
                ft_note "$name: $(printf '%s' "$out" | tr -s '\n ' '  ' | cut -c1-120)"
        fi
}
ft_pass() { e2e_pass "$FT_ID $*"; }
ft_fail() { e2e_fail "$FT_ID $*"; ft_note "$*"; }
# Figures for the report (timings, counts).
ft_fig() { FT_FIGS+="${FT_FIGS:+; }$*"; e2e_info "  $*"; }
ft_end() {
        if [ "$FT_OK" = yes ]; then
                FT_ROWS+=("ok|$FT_ID|$FT_WHAT|recovered${FT_FIGS:+ ($FT_FIGS)}")
        else
                FT_ROWS+=("not ok|$FT_ID|$FT_WHAT|FAILED: $FT_NOTE${FT_FIGS:+ ($FT_FIGS)}")
        fi
}

ft_report() {
        local row st id what res i=0 tap
        echo "#"
        echo "# fault results ($E2E_MODE): case | fault | result"
        for row in "${FT_ROWS[@]}"; do
                IFS='|' read -r st id what res <<<"$row"
                printf '# %-4s | %-75s | %s\n' "$id" "$what" "$res"
        done
        tap="TAP version 13"$'\n'"1..${#FT_ROWS[@]}"
        for row in "${FT_ROWS[@]}"; do
                i=$((i + 1))
                IFS='|' read -r st id what res <<<"$row"
                tap+=$'\n'"$st $i - $id | $what | $res"
        done
        echo "#"
        printf '%s\n' "$tap"
        [ -z "${OPENSHELL_FAULTS_TAP:-}" ] || printf '%s\n' "$tap" >"$OPENSHELL_FAULTS_TAP"
}

# ---- helpers ---------------------------------------------------------------------------------------

ft_now() { date +%s.%N; }
ft_since() { printf '%.1f' "$(echo "$(ft_now) - $1" | bc)"; }
ft_gw_pid() { tb_exec systemctl show -P MainPID openshell-gateway.service; }
ft_invocation() { tb_exec systemctl show -P InvocationID "$1"; }
ft_reaches() { test "$(gw_agent_code "$1" "$FT_SERVER_URL")" = 200; }

ft_create_body() {
        cat <<-EOF
	{"spec": {"name": "$1", "image": "localhost/openshell-test-${2:-debian}:latest",
	          "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 1000000 & wait"]},
	 "policy": $(cat "$E2E_SRC/e2e/fixtures/policy-e2e.json"), "start": true}
	EOF
}
ft_create() { gw_api POST /v1/sandboxes "$(ft_create_body "$@")"; }

# Until a unit is active again with an invocation other than OLD (a restart happened).
ft_restarted() { [ "$(e2e_systemctl is-active "$1")" = active ] && [ "$(ft_invocation "$1")" != "$2" ]; }

# Traffic from the agent through its proxy, driven from the machine (the agent's own /tmp does not survive
# a restart of its container): a transient unit runs `podman exec AGENT curl` back to back and logs each
# status (000: the exec or the connection failed).
ft_traffic_start() {
        tb_exec systemctl stop bypass-traffic.service >/dev/null 2>&1
        tb_exec systemctl reset-failed bypass-traffic.service >/dev/null 2>&1
        tb_exec rm -f /run/bypass-traffic.log
        tb_exec systemd-run --quiet --unit=bypass-traffic sh -c "while :; do
                podman exec openshell-agent-$1 curl -s -o /dev/null -m 2 -w '%{http_code}\\n' $FT_SERVER_URL \
                        >>/run/bypass-traffic.log 2>/dev/null || echo 000 >>/run/bypass-traffic.log; sleep 0.2; done"
}
# "N x CODE, ..." of the requests since ft_traffic_start; stops the traffic.
ft_traffic_summary() {
        tb_exec systemctl stop bypass-traffic.service >/dev/null 2>&1
        tb_exec systemctl reset-failed bypass-traffic.service >/dev/null 2>&1
        tb_exec sh -c 'sort /run/bypass-traffic.log | uniq -c | awk "{ printf \"%s%s x %s\", (NR > 1 ? \", \" : \"\"), \$1, \$2 }"; rm -f /run/bypass-traffic.log'
}

# What a sandbox leaves behind (lib/gateway-cases.sh's list).
ft_nothing_left() { local l; l=$(gw_leftovers "$1"); [ -z "$l" ] || { echo "left: $l"; return 1; }; }

ft_setup_gateway() {
        local d conf out
        d=$(gw_tls_dir)
        e2e_as openshell-gateway generate-certs --output-dir "$d" >/dev/null || return
        conf=$(gw_conf "$FT_IDLE_SEC")
        e2e_put "$(gw_conf_dropin)" <<<"$conf"
        e2e_systemctl daemon-reload &&
                e2e_systemctl restart openshell-gateway.socket openshell-gateway-callback.socket || return
        out=$(gw_api GET /v1/health)
        [ "$(gw_status "$out")" = 200 ] || { echo "gateway health: $out"; return 1; }
}

ft_setup_sandbox() {
        local out
        out=$(ft_create "$FT_S")
        [ "$(gw_status "$out")" = 201 ] || { echo "POST: $out"; return 1; }
        gw_wait 120 gw_unit_is "openshell-sandbox@$FT_S.service" active || return
        gw_wait 60 ft_reaches "$FT_S"
}

# ---- 1. kill -9 during traffic ---------------------------------------------------------------------

# ft_kill_container ID WHAT UNIT CONTAINER: kill -9 the container's main process from the machine while
# the agent sends traffic; systemd must restart the unit and traffic must flow again.
ft_kill_container() {
        local id=$1 what=$2 unit=$3 ctr=$4 pid inv ca1 ca2 t0
        ft_begin "$id" "kill -9 of $what during traffic"
        ca1=$(e2e_ca_sum "$FT_S")
        inv=$(ft_invocation "$unit")
        pid=$(e2e_cpid "$ctr")
        local agent_inv
        agent_inv=$(ft_invocation "openshell-agent-$FT_S.service")
        ft_traffic_start "$FT_S"
        sleep 2
        t0=$(ft_now)
        ft_check "kill -9 $what (pid $pid)" tb_exec kill -9 "$pid"
        if gw_wait 120 ft_restarted "$unit" "$inv"; then
                ft_pass "systemd restarted $unit (Restart=on-failure)"
                ft_fig "active again after $(ft_since "$t0")s"
        else
                ft_fail "systemd restarted $unit ($(e2e_systemctl is-active "$unit"))"
        fi
        if gw_wait 60 ft_reaches "$FT_S"; then
                ft_pass "traffic through the proxy works again"
                ft_fig "traffic back after $(ft_since "$t0")s"
        else
                ft_fail "traffic through the proxy works again"
        fi
        sleep 2
        ft_fig "requests from the agent around the fault: $(ft_traffic_summary)"
        [ "$unit" = "openshell-agent-$FT_S.service" ] ||
                ft_fig "the agent was $( [ "$(ft_invocation "openshell-agent-$FT_S.service")" = "$agent_inv" ] && echo kept || echo restarted with it)"
        ca2=$(e2e_ca_sum "$FT_S")
        ft_check "the proxy CA is unchanged (sha256 ${ca1:0:16}...)" test -n "$ca1" -a "$ca1" = "$ca2"
        ft_end
}

ft_case_kill_gateway() {
        local pid inv t0 out rev
        ft_begin F03 "kill -9 of the gateway during traffic (API calls, the proxy's policy watch)"
        pid=$(ft_gw_pid)
        inv=$(ft_invocation openshell-gateway.service)
        ft_traffic_start "$FT_S"
        tb_exec sh -c "for i in \$(seq 1 40); do curl -s -o /dev/null -m 2 --cacert $(gw_tls_dir)/ca.crt \
                --cert $(gw_tls_dir)/client.crt --key $(gw_tls_dir)/client.key https://$GW_API/v1/health; sleep 0.1; done" &
        sleep 1
        t0=$(ft_now)
        ft_check "kill -9 of the gateway (pid $pid)" tb_exec kill -9 "$pid"
        wait
        if gw_wait 60 ft_restarted openshell-gateway.service "$inv"; then
                ft_pass "the gateway is active again (Restart=on-failure, socket activation)"
                ft_fig "active again after $(ft_since "$t0")s"
        else
                ft_fail "the gateway is active again ($(e2e_systemctl is-active openshell-gateway.service))"
        fi
        out=$(gw_api GET "/v1/sandboxes/$FT_S")
        ft_check "the API answers and still knows $FT_S" grep -q '"state":"active"' <<<"$out"
        ft_check "the agent's traffic was not disturbed" ft_reaches "$FT_S"
        ft_fig "requests from the agent around the fault: $(ft_traffic_summary)"
        # The proxy's watch must have reconnected: a policy set now reaches it.
        out=$(gw_api PUT "/v1/sandboxes/$FT_S/policy" "{\"policy\": $(cat "$E2E_SRC/e2e/fixtures/policy-e2e.json")}")
        rev=$(grep -o '"revision":[0-9]*' <<<"$out" | cut -d: -f2)
        if [ -n "$rev" ] && gw_wait 60 gw_proxy_journal_has "$FT_S" "Policy revision $rev from the gateway applied"; then
                ft_pass "the proxy's policy watch reconnected: revision $rev set after the restart was applied"
        else
                ft_fail "the proxy's policy watch reconnected (PUT: $(echo $out | cut -c1-120))"
        fi
        ft_end
}

# ---- 2. kill -9 of the gateway in the middle of create and delete ----------------------------------

# ft_kill_during DELAY METHOD PATH [BODY]: the request in the background, kill -9 after DELAY seconds;
# prints the interrupted request's status (000 when the connection died).
ft_kill_during() {
        local delay=$1 method=$2 path=$3 body=${4:-} pid out
        pid=$(ft_gw_pid)
        [ -n "$pid" ] && [ "$pid" != 0 ] || { gw_api GET /v1/health >/dev/null; pid=$(ft_gw_pid); }
        gw_api "$method" "$path" "$body" >/tmp/ft-interrupted.$$ 2>&1 &
        sleep "$delay"
        tb_exec kill -9 "$pid" >/dev/null 2>&1
        wait
        out=$(tail -n 1 /tmp/ft-interrupted.$$)
        rm -f /tmp/ft-interrupted.$$
        echo "${out:-000}"
        gw_wait 30 ft_api_up
}
ft_api_up() { test "$(gw_status "$(gw_api GET /v1/health)")" = 200; }

ft_case_kill_create_delete() {
        local n d first out st i=0
        ft_begin F04 "kill -9 of the gateway during an API create and during a delete, then the same call again"
        for d in 0.05 0.3 0.8 1.5; do
                i=$((i + 1))
                n=bypass-fk$i
                first=$(ft_kill_during "$d" POST /v1/sandboxes "$(ft_create_body "$n" busybox)")
                out=$(ft_create "$n" busybox)
                st=$(gw_status "$out")
                if [ "$st" = 201 ] || [ "$st" = 409 ]; then
                        ft_pass "create killed after ${d}s (answer ${first:-none}), retried: $st"
                else
                        ft_fail "create killed after ${d}s, retried: $st $(gw_body "$out" | cut -c1-150)"
                fi
                if gw_wait 90 gw_unit_is "openshell-sandbox@$n.service" active && ft_complete "$n"; then
                        ft_pass "$n is complete and active after the retry"
                else
                        ft_fail "$n is complete and active after the retry ($(ft_complete "$n" 2>&1 | tail -n1))"
                fi
                first=$(ft_kill_during "$d" DELETE "/v1/sandboxes/$n")
                out=$(gw_api DELETE "/v1/sandboxes/$n")
                st=$(gw_status "$out")
                if [ "$st" = 200 ] || [ "$st" = 404 ]; then
                        ft_pass "delete killed after ${d}s (answer ${first:-none}), retried: $st"
                else
                        ft_fail "delete killed after ${d}s, retried: $st $(gw_body "$out" | cut -c1-150)"
                fi
                if gw_wait 60 ft_nothing_left "$n"; then
                        ft_pass "nothing of $n left (containers, network, volume, units, spec, state)"
                else
                        ft_fail "nothing of $n left: $(gw_leftovers "$n")"
                        e2e_sandbox_cleanup "$n"
                        gw_api DELETE "/v1/sandboxes/$n" >/dev/null
                fi
        done
        ft_fig "4 kill points per call (0.05/0.3/0.8/1.5 s)"
        ft_end
}

# Everything a created sandbox has: record, spec, certificate, units, both containers running.
ft_complete() {
        local n=$1 st
        st=$(gw_state_dir)
        [ "$(gw_status "$(gw_api GET "/v1/sandboxes/$n")")" = 200 ] || { echo "no record"; return 1; }
        tb_exec test -s "$(e2e_spec_dir)/$n.json" || { echo "no spec"; return 1; }
        tb_exec test -s "$st/sandboxes/$n/tls/tls.key" || { echo "no certificate"; return 1; }
        [ "$(e2e_podman ps --filter "label=openshell.sandbox=$n" --format '{{.Names}}' | wc -l)" = 2 ] ||
                { echo "containers: $(e2e_podman ps -a --filter "label=openshell.sandbox=$n" --format '{{.Names}}:{{.Status}}')"; return 1; }
}

# ---- 3. 50 creates and deletes: nothing leaks -------------------------------------------------------

ft_counts() {
        local pid=$1
        printf 'containers=%s networks=%s volumes=%s units=%s quadlet=%s nft=%s' \
                "$(e2e_podman ps -aq | wc -l)" "$(e2e_podman network ls -q | wc -l)" "$(e2e_podman volume ls -q | wc -l)" \
                "$(tb_exec sh -c 'systemctl list-units --all --plain --no-legend "openshell-*" | wc -l')" \
                "$(tb_exec sh -c 'ls /run/openshell/quadlet /etc/openshell/sandboxes 2>/dev/null | wc -l')" \
                "$(tb_exec sh -c 'nft list ruleset | wc -l')"
}
ft_gw_fds() { tb_exec sh -c "ls /proc/$1/fd | wc -l"; }
ft_gw_rss() { tb_exec awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

ft_case_loop() {
        local pid pid2 before after fd0 fd1 rss0 rss1 i n out t0 bad=0
        ft_begin F05 "$FT_LOOP x create + start + delete through the API: no orphans, no fd or memory growth"
        n=bypass-loop
        # Warm up once (first-use allocations), then measure.
        ft_create "$n" busybox >/dev/null; gw_wait 60 gw_unit_is "openshell-sandbox@$n.service" active
        gw_api DELETE "/v1/sandboxes/$n" >/dev/null; gw_wait 60 ft_nothing_left "$n"
        pid=$(ft_gw_pid)
        before=$(ft_counts)
        fd0=$(ft_gw_fds "$pid") rss0=$(ft_gw_rss "$pid")
        t0=$(ft_now)
        for i in $(seq 1 "$FT_LOOP"); do
                out=$(ft_create "$n" busybox)
                [ "$(gw_status "$out")" = 201 ] || { bad=$((bad + 1)); e2e_info "  create $i: $(echo $out | cut -c1-120)"; }
                gw_wait 60 gw_unit_is "openshell-sandbox@$n.service" active || { bad=$((bad + 1)); e2e_info "  $i: not active"; }
                out=$(gw_api DELETE "/v1/sandboxes/$n")
                [ "$(gw_status "$out")" = 200 ] || { bad=$((bad + 1)); e2e_info "  delete $i: $(echo $out | cut -c1-120)"; }
                gw_wait 60 ft_nothing_left "$n" || { bad=$((bad + 1)); e2e_info "  $i left: $(gw_leftovers "$n")"; }
        done
        ft_fig "$FT_LOOP cycles in $(ft_since "$t0")s"
        pid2=$(ft_gw_pid)
        after=$(ft_counts)
        ft_check "every create, start, delete and cleanup succeeded ($bad problems)" test "$bad" = 0
        ft_check "the same gateway process throughout (pid $pid -> $pid2)" test "$pid" = "$pid2"
        ft_check "no orphans: $after" test "$before" = "$after"
        [ "$before" = "$after" ] || e2e_info "  before: $before"
        fd1=$(ft_gw_fds "$pid2") rss1=$(ft_gw_rss "$pid2")
        ft_fig "gateway fds $fd0 -> $fd1, RSS ${rss0} -> ${rss1} KiB"
        ft_check "gateway fds did not grow ($fd0 -> $fd1)" test "$fd1" -le "$((fd0 + 2))"
        ft_check "gateway RSS within 4 MiB of the start (${rss0} -> ${rss1} KiB)" test "$rss1" -le "$((rss0 + 4096))"
        ft_end
}

# ---- 4. enabled sandboxes after the manager restarts ------------------------------------------------

# The testbed is booted once per CI run, so a power-off cannot happen here. Emulated, in order:
#   a) systemctl daemon-reexec: systemd (PID 1) restarts and re-runs every generator; running sandboxes
#      must stay up and keep working;
#   b) a boot's work: the enabled sandbox and every unit of it stopped (as a shutdown leaves them), then
#      multi-user.target (where `systemctl enable` hooks it) started, as boot does: the enabled sandbox must
#      come back on its own, with its CA. (Starting the already active default.target, graphical.target,
#      does not pull in the stopped units of multi-user.target.)
# Not used: systemctl soft-reboot. Tried in the testbed: the machine stays up and userspace restarts in
# about 5 s, but the soft-reboot unmounts systemd-nspawn's --bind mounts (Podman's storage, /home, the
# source tree), so nothing in the machine can run a container afterwards; it also kills every other
# suite's processes in the machine.
ft_case_reboot() {
        local ca1 ca2 inv t0
        ft_begin F06 "enabled sandbox after the manager restarts (daemon-reexec; everything stopped + multi-user.target started)"
        ft_check "systemctl enable openshell-sandbox@$FT_S" tb_exec systemctl enable "openshell-sandbox@$FT_S.service"
        ca1=$(e2e_ca_sum "$FT_S")
        inv=$(ft_invocation "openshell-proxy-$FT_S.service")
        t0=$(ft_now)
        ft_check "systemctl daemon-reexec" tb_exec systemctl daemon-reexec
        gw_wait 60 ft_manager_running
        ft_check "after daemon-reexec the sandbox is still active, not restarted" \
                test "$(e2e_systemctl is-active "openshell-sandbox@$FT_S.service") $(ft_invocation "openshell-proxy-$FT_S.service")" = "active $inv"
        ft_check "and its agent reaches the test server" gw_wait 30 ft_reaches "$FT_S"
        ft_fig "daemon-reexec: $(ft_since "$t0")s"

        ft_check "shutdown emulated: openshell-sandbox@$FT_S and its units stopped" ft_stop_all "$FT_S"
        t0=$(ft_now)
        ft_check "boot emulated: systemctl start multi-user.target" tb_exec systemctl start multi-user.target
        if gw_wait 120 gw_unit_is "openshell-sandbox@$FT_S.service" active && gw_wait 60 ft_reaches "$FT_S"; then
                ft_pass "the enabled sandbox came back by itself and its agent reaches the test server"
                ft_fig "back after $(ft_since "$t0")s"
        else
                ft_fail "the enabled sandbox came back ($(e2e_systemctl is-active "openshell-sandbox@$FT_S.service"))"
        fi
        ca2=$(e2e_ca_sum "$FT_S")
        ft_check "same CA after the emulated reboot" test -n "$ca1" -a "$ca1" = "$ca2"
        tb_exec systemctl disable "openshell-sandbox@$FT_S.service" >/dev/null 2>&1
        ft_end
}
ft_manager_running() { case $(tb_raw systemctl is-system-running 2>/dev/null) in running|degraded) return 0 ;; esac; return 1; }
ft_stop_all() {
        tb_exec systemctl stop "openshell-sandbox@$1.service" "openshell-agent-$1.service" "openshell-proxy-$1.service" \
                "openshell-sbx-$1-network.service" "openshell-tls-$1-volume.service" &&
                [ -z "$(e2e_podman ps -q --filter "label=openshell.sandbox=$1")" ]
}

# ---- 5. the gateway's state directory is full -------------------------------------------------------

# A tiny tmpfs with a copy of the state is mounted over the state directory while the gateway is
# stopped (its mount namespace is made at start), filled up, and the API is asked to write. Afterwards
# the gateway is stopped again, the tmpfs unmounted, and the real directory is back as it was.
ft_case_disk_full() {
        local st out before after
        st=$(gw_state_dir)
        ft_begin F07 "the gateway's state directory is full (a 4 MiB tmpfs over $st, filled)"
        out=$(gw_api POST /v1/providers '{"name":"bypass-keep","type":"generic","credentials":{"K":"v"}}')
        ft_check "a provider stored before (control)" test "$(gw_status "$out")" = 201
        if ! ft_full_mount "$st"; then
                ft_fail "mounting the tmpfs over $st"
                ft_full_umount "$st"
                ft_end
                return
        fi
        before=$(ft_state_sums "$st")
        out=$(gw_api POST /v1/providers '{"name":"bypass-full","type":"generic","credentials":{"K":"v"}}')
        ft_check "POST /v1/providers: a clear error ($(gw_status "$out") $(gw_body "$out" | cut -c1-100))" \
                grep -q '"error":"insufficient_storage"' <<<"$out"
        out=$(ft_create bypass-full busybox)
        ft_check "POST /v1/sandboxes: a clear error ($(gw_status "$out") $(gw_body "$out" | cut -c1-100))" \
                grep -q '"error":"insufficient_storage"' <<<"$out"
        out=$(gw_api PUT "/v1/sandboxes/$FT_S/policy" '{"policy": {"version": 1}}')
        ft_check "PUT policy: a clear error ($(gw_status "$out"))" grep -q '"error":"insufficient_storage"' <<<"$out"
        after=$(ft_state_sums "$st")
        ft_check "nothing lost or changed in the state directory (checksums of every file)" test "$before" = "$after"
        ft_check "GET /v1/providers/bypass-keep still answers" test "$(gw_status "$(gw_api GET /v1/providers/bypass-keep)")" = 200
        ft_check "GET /v1/sandboxes/$FT_S still answers with its policy revision" \
                test "$(gw_status "$(gw_api GET "/v1/sandboxes/$FT_S/policy")")" = 200
        ft_check "the failed create left no half sandbox" ft_nothing_left bypass-full
        tb_exec rm -f "$st/bypass-filler"
        out=$(gw_api POST /v1/providers '{"name":"bypass-full","type":"generic","credentials":{"K":"v"}}')
        ft_check "with space again, the same POST succeeds" test "$(gw_status "$out")" = 201
        gw_api DELETE /v1/providers/bypass-full >/dev/null
        gw_api DELETE /v1/providers/bypass-keep >/dev/null
        ft_full_umount "$st"
        ft_check "the real state directory is back (the gateway answers)" ft_api_up
        ft_end
}
ft_state_sums() { tb_exec sh -c "cd '$1' && find . -type f ! -name bypass-filler -exec sha256sum {} + | sort -k2"; }
ft_full_mount() {
        local st=$1
        e2e_systemctl stop openshell-gateway.service || return
        tb_exec sh -ec "rm -rf /run/bypass-state; cp -a '$st' /run/bypass-state
                mount -t tmpfs -o size=4m,mode=0700 bypass-state '$st'
                cp -a /run/bypass-state/. '$st'/
                dd if=/dev/zero of='$st/bypass-filler' bs=64k 2>/dev/null || true
                sync" || return
        ft_api_up
}
ft_full_umount() {
        local st=$1
        e2e_systemctl stop openshell-gateway.service
        tb_exec sh -c "mountpoint -q '$st' && umount '$st'; rm -rf /run/bypass-state"
        gw_wait 30 ft_api_up
}

# ---- the suite -------------------------------------------------------------------------------------

ft_cleanup() {
        local n
        tb_exec systemctl stop bypass-traffic.service >/dev/null 2>&1
        tb_exec systemctl reset-failed bypass-traffic.service >/dev/null 2>&1
        tb_exec rm -f /run/bypass-traffic.log
        tb_exec sh -c "mountpoint -q '$(gw_state_dir)' && { systemctl stop openshell-gateway.service; umount '$(gw_state_dir)'; }; rm -rf /run/bypass-state"
        tb_exec systemctl disable "openshell-sandbox@$FT_S.service" >/dev/null 2>&1
        for n in "$FT_S" bypass-loop bypass-full bypass-fk1 bypass-fk2 bypass-fk3 bypass-fk4; do
                gw_api DELETE "/v1/sandboxes/$n" >/dev/null 2>&1
                e2e_sandbox_cleanup "$n"
                tb_exec rm -rf "$(gw_state_dir)/sandboxes/$n"
        done
        gw_api DELETE /v1/providers/bypass-full >/dev/null 2>&1
        gw_api DELETE /v1/providers/bypass-keep >/dev/null 2>&1
}

ft_suite() {
        gw_set_callback
        if tb_exec test -e "$(gw_state_dir)"; then GW_STATE_EXISTED=yes; else GW_STATE_EXISTED=no; fi
        ft_cleanup >/dev/null 2>&1
        e2e_check "setup: the gateway (IdleTimeoutSec=${FT_IDLE_SEC}s) answers on $GW_API" ft_setup_gateway
        if e2e_check "setup: sandbox $FT_S created through the API, active, reaching the test server" ft_setup_sandbox &&
           gw_unit_is "openshell-sandbox@$FT_S.service" active; then
                ft_kill_container F01 "the proxy" "openshell-proxy-$FT_S.service" "openshell-proxy-$FT_S"
                ft_kill_container F02 "the supervisor (the agent's PID 1, from the machine)" \
                        "openshell-agent-$FT_S.service" "openshell-agent-$FT_S"
                ft_case_kill_gateway
                ft_case_kill_create_delete
                ft_case_loop
                ft_case_disk_full
                ft_case_reboot
        fi
        ft_report
        ft_cleanup
        gw_cleanup "$FT_S" >/dev/null 2>&1
        e2e_check "cleanup: nothing of the fault suite left" ft_all_gone
}
ft_all_gone() {
        local n left=
        for n in "$FT_S" bypass-loop bypass-full bypass-fk1 bypass-fk2 bypass-fk3 bypass-fk4; do
                left+=" $(gw_leftovers "$n")"
        done
        tb_exec mountpoint -q "$(gw_state_dir)" && left+=" tmpfs-on-state"
        left=$(echo $left)
        [ -z "$left" ] || { echo "$left"; return 1; }
}
