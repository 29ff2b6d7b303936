# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The supervisor and CLI end-to-end cases (issue 5 item 6, issue 6 item 3), run once per mode by
# test-exec-system.sh and test-exec-user.sh: the socket-activated gateway (set up as gateway-cases.sh
# does), sandboxes created with `openshell sandbox create` whose agent runs openshell-sandbox from the
# sidecar image, then exec (exit codes, stdin, stdout/stderr, env propagation, --env/--workdir, signals),
# --tty and connect driven with tmux, upload/download of odd file names, logs, Landlock, a busybox-only
# image, and delete. Needs e2e.sh, sandbox-cases.sh and gateway-cases.sh sourced and e2e_init called.

EX_POLICY=/tmp/openshell-e2e-exec-policy.json
EX_LANDLOCK_POLICY=/tmp/openshell-e2e-exec-landlock.json
EX_TMUX="tmux -L openshell-e2e-exec"
EX_WORK=/tmp/openshell-e2e-exec

# ex_cli ARGS...: the openshell CLI in the machine as the mode's user (stdin passed through).
ex_cli() { e2e_as_in openshell "$@"; }

# ex_cli_tty_cmd: the command line that runs the CLI in the machine on the caller's terminal (no
# systemd-run: tmux on the host gives nsenter a pty and that must reach the CLI unchanged).
ex_cli_tty_cmd() {
        local l env
        l=$(tb_leader)
        env="env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=xterm-256color LANG=C.UTF-8"
        if [ "$E2E_MODE" = user ]; then
                echo "nsenter -t $l -a runuser -u $TB_USER -- $env HOME=$(gw_home) XDG_RUNTIME_DIR=/run/user/$TB_UID openshell $*"
        else
                echo "nsenter -t $l -a $env HOME=/root openshell $*"
        fi
}

ex_pane() { $EX_TMUX capture-pane -p -t ex 2>/dev/null; }
ex_pane_has() { ex_pane | grep -q -- "$1"; }

# ---- create ----------------------------------------------------------------------------------------

ex_write_policies() {
        e2e_put "$EX_POLICY" <"$E2E_SRC/e2e/fixtures/policy-e2e.json"
        # The same network policy plus a filesystem policy: the whole image readable, /tmp writable.
        python3 - "$E2E_SRC/e2e/fixtures/policy-e2e.json" <<-'EOF' | e2e_put "$EX_LANDLOCK_POLICY"
	import json, sys
	p = json.load(open(sys.argv[1]))
	p["filesystem_policy"] = {"read_only": ["/"], "read_write": ["/tmp", "/dev"]}
	p["landlock"] = {"compatibility": "hard_requirement"}
	print(json.dumps(p))
	EOF
}

# ex_case_create NAME IMAGE POLICY: `openshell sandbox create` (no command: the supervisor runs no
# workload) until the sandbox is ready; the agent unit is active only once the supervisor's session is up.
ex_case_create() {
        local n=$1 image=$2 policy=$3 out rc
        out=$(ex_cli sandbox create "$n" --image "$image" --policy "$policy" 2>&1)
        rc=$?
        if [ $rc = 0 ]; then
                e2e_pass "openshell sandbox create $n --image ${image#localhost/} ($(echo $out | cut -c1-160))"
        else
                e2e_fail "openshell sandbox create $n (exit $rc: $(echo $out | cut -c1-300))"
                e2e_systemctl status --no-pager "openshell-agent-$n" 2>&1 | tail -n 20 | sed 's/^/#     /'
                return 1
        fi
        e2e_check "agent unit of $n active (READY=1 from the supervisor once its session is up)" \
                gw_unit_is "openshell-agent-$n.service" active
        out=$(gw_api GET "/v1/sandboxes/$n")
        e2e_check "GET /v1/sandboxes/$n reports the supervisor session" grep -q '"session":true' <<<"$out"
        out=$(ex_agent_cert_subject "$n")
        e2e_check "the agent holds its own certificate (CN=agent:$n), not the proxy's ($out)" \
                test "$out" = "subject=CN=agent:$n"
}

# The subject of the client certificate mounted in the agent (read inside, parsed on the host).
ex_agent_cert_subject() {
        e2e_cexec "openshell-agent-$1" cat /etc/openshell/tls/client/tls.crt 2>&1 |
                openssl x509 -noout -subject 2>&1 | sed 's/ = /=/g'
}

# ---- exec ------------------------------------------------------------------------------------------

ex_case_exec() {
        local n=$1 out rc sum_in sum_out
        out=$(ex_cli sandbox exec "$n" -- sh -c 'exit 7' 2>&1)
        rc=$?
        e2e_check "exec: the remote exit code comes back (sh -c 'exit 7' -> $rc)" test $rc = 7
        ex_cli sandbox exec "$n" -- true
        e2e_check "exec: true exits 0" test $? = 0
        ex_cli sandbox exec "$n" -- /nonexistent/program >/dev/null 2>&1
        rc=$?
        e2e_check "exec: a missing program exits 127 ($rc)" test $rc = 127
        out=$(ex_cli sandbox exec "$n" -- sh -c 'echo to-stdout; echo to-stderr >&2' 2>/dev/null)
        e2e_check "exec: stdout alone on stdout ($out)" test "$out" = to-stdout
        out=$(ex_cli sandbox exec "$n" -- sh -c 'echo to-stdout; echo to-stderr >&2' 2>&1 >/dev/null)
        e2e_check "exec: stderr alone on stderr ($out)" test "$out" = to-stderr
        out=$(printf 'hello\nsandbox\n' | ex_cli sandbox exec "$n" -- tr a-z A-Z 2>&1)
        e2e_check "exec: stdin streams in ($(echo $out))" test "$out" = "$(printf 'HELLO\nSANDBOX')"
        # 8 MiB through the relay and back: nothing lost or reordered, EOF delivered.
        sum_in=$(e2e_as sh -c "head -c 8388608 /dev/urandom | tee $EX_WORK-big | sha256sum | cut -d' ' -f1")
        sum_out=$(e2e_as_in sh -c "openshell sandbox exec $n -- cat <$EX_WORK-big | sha256sum | cut -d' ' -f1")
        e2e_check "exec: 8 MiB stdin -> cat -> stdout round trip intact" test -n "$sum_in" -a "$sum_in" = "$sum_out"
        e2e_as rm -f "$EX_WORK-big"

        # The proxy environment reaches exec'd children, and it works: the child gets out through the proxy.
        out=$(ex_cli sandbox exec "$n" -- sh -c 'echo "$HTTP_PROXY|$SSL_CERT_FILE|$OPENSHELL_SANDBOX"' 2>&1)
        e2e_check "exec: HTTP_PROXY, SSL_CERT_FILE, OPENSHELL_SANDBOX in the child ($out)" \
                grep -qE '^http://10\.213\.[0-9.]+:3128\|/etc/openshell-tls/ca/ca-bundle.crt\|'"$n"'$' <<<"$out"
        out=$(ex_cli sandbox exec "$n" -- curl -sS -m 10 -o /dev/null -w '%{http_code}' "$GW_SERVER_URL" 2>&1)
        e2e_check "exec: curl in the child reaches $GW_SERVER_URL through the proxy ($out)" test "$out" = 200
        out=$(ex_cli sandbox exec "$n" -- curl -sS -m 10 -o /dev/null -w '%{http_code}' "$GW_DENIED_URL" 2>&1)
        e2e_check "exec: the denied host gets 403 from the child ($out)" test "$out" = 403
        out=$(ex_cli sandbox exec "$n" -- sh -c 'env | grep -cE "^(OPENSHELL_TLS_KEY|NOTIFY_SOCKET|OPENSHELL_POLICY_FILE)="' 2>&1)
        e2e_check "exec: the supervisor's own variables do not reach the child (count $out)" test "$out" = 0
        out=$(ex_cli sandbox exec "$n" --env FOO=bar --env HTTP_PROXY=http://evil.example:1 --workdir /tmp -- \
                sh -c 'echo "$FOO $(pwd) $HTTP_PROXY"' 2>&1)
        e2e_check "exec --env FOO=bar --workdir /tmp (HTTP_PROXY keeps the container's: $out)" \
                grep -qE '^bar /tmp http://10\.213\.[0-9.]+:3128$' <<<"$out"
        ex_cli sandbox exec "$n" --workdir /nonexistent -- true >/dev/null 2>&1
        rc=$?
        e2e_check "exec --workdir /nonexistent fails ($rc)" test $rc != 0

        # A signal to the CLI reaches the remote process group; the CLI exits 128+15.
        e2e_as sh -c "openshell sandbox exec $n -- sleep 300 >/dev/null 2>&1 & echo \$! >$EX_WORK-pid; wait \$!; echo \$? >$EX_WORK-rc" &
        local bg=$!
        if e2e_wait 20 ex_sleep_running "$n"; then
                e2e_as sh -c "kill -TERM \$(cat $EX_WORK-pid)"
                wait $bg
                rc=$(e2e_as cat "$EX_WORK-rc" 2>/dev/null)
                e2e_check "exec: SIGTERM to the CLI ends the remote sleep, exit $rc" test "$rc" = 143
                e2e_wait 10 ex_no_sleep "$n"
                e2e_check_not "exec: no sleep left in the sandbox" ex_sleep_running "$n"
        else
                e2e_fail "exec: the remote sleep started"
                kill $bg 2>/dev/null
        fi
        e2e_as rm -f "$EX_WORK-pid" "$EX_WORK-rc"

        # Errors: unknown sandbox, bad usage.
        ex_cli sandbox exec no-such-sandbox -- true >/dev/null 2>&1
        rc=$?
        e2e_check "exec in an unknown sandbox exits 3 (not found) ($rc)" test $rc = 3
        ex_cli sandbox exec "$n" >/dev/null 2>&1
        rc=$?
        e2e_check "exec without a command is a usage error (2) ($rc)" test $rc = 2
}

ex_no_sleep() { ! ex_sleep_running "$1"; }
ex_sleep_running() { e2e_cexec "openshell-agent-$1" sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = sleep ] && exit 0; done; exit 1'; }

# ---- --tty and connect, driven with tmux -----------------------------------------------------------

ex_case_tty() {
        local n=$1
        $EX_TMUX kill-server 2>/dev/null
        $EX_TMUX new-session -d -s ex -x 120 -y 40 "$(ex_cli_tty_cmd sandbox exec "$n" --tty -- sh -c "'tty; stty size; sleep 1; exit 5'"); echo cli-exit=\$?; sleep 30"
        if e2e_wait 30 ex_pane_has 'cli-exit='; then
                e2e_check "exec --tty: the command has a pty ($(ex_pane | grep -m1 /dev/))" ex_pane_has '^/dev/pts/'
                e2e_check "exec --tty: it has the terminal's size (40 120)" ex_pane_has '^40 120'
                e2e_check "exec --tty: the exit code comes back ($(ex_pane | grep -m1 cli-exit=))" ex_pane_has 'cli-exit=5'
        else
                e2e_fail "exec --tty in tmux finished (pane: $(ex_pane | tr -s '\n' ' ' | cut -c1-200))"
        fi
        $EX_TMUX kill-server 2>/dev/null

        $EX_TMUX new-session -d -s ex -x 120 -y 40 "$(ex_cli_tty_cmd sandbox connect "$n"); echo cli-exit=\$?; sleep 30"
        sleep 1
        $EX_TMUX send-keys -t ex 'echo "marker-$((6*7))"; stty size' Enter
        if e2e_wait 20 ex_pane_has '^marker-42'; then
                e2e_pass "connect: an interactive shell answers typed input (marker-42)"
                e2e_check "connect: the pty has the window size (40 120)" ex_pane_has '^40 120'
                $EX_TMUX resize-window -t ex -x 100 -y 30
                sleep 0.5
                $EX_TMUX send-keys -t ex 'clear; stty size' Enter
                e2e_wait 10 ex_pane_has '^30 100'
                e2e_check "connect: a window resize reaches the pty (30 100)" ex_pane_has '^30 100'
                $EX_TMUX send-keys -t ex 'echo "$HTTPS_PROXY" | sed s/^/proxy=/; exit 3' Enter
                e2e_wait 20 ex_pane_has 'cli-exit='
                e2e_check "connect: the login shell has HTTPS_PROXY ($(ex_pane | grep -m1 '^proxy='))" ex_pane_has '^proxy=http://10\.213\.'
                e2e_check "connect: exit 3 ends the CLI with 3 ($(ex_pane | grep -m1 cli-exit=))" ex_pane_has 'cli-exit=3'
        else
                e2e_fail "connect: an interactive shell answers typed input (pane: $(ex_pane | tr -s '\n' ' ' | cut -c1-300))"
        fi
        $EX_TMUX kill-server 2>/dev/null
}

# ---- upload and download ---------------------------------------------------------------------------

# A tree of awkward names: spaces, a leading dash, quotes, UTF-8, a newline, an empty file, a symlink.
ex_make_tree() {
        e2e_as sh -c '
                set -e
                d=$1; rm -rf "$d"; mkdir -p "$d/dir with space/nested" "$d/-dash-dir"
                printf "a b\n" >"$d/a b.txt"
                printf "dash\n" >"$d/-leading-dash"
                printf "q\n" >"$d/it'"'"'s \"quoted\""
                printf "utf8\n" >"$d/ünïcødé-文件"
                printf "nl\n" >"$d/new
line"
                : >"$d/empty"
                head -c 300000 /dev/urandom >"$d/dir with space/nested/blob.bin"
                printf "x\n" >"$d/-dash-dir/x"
                ln -s "a b.txt" "$d/link to a b"
                chmod 0750 "$d/dir with space"' sh "$1"
}
# A listing that covers names, types, modes, link targets and file content (directory sizes differ
# between file systems).
ex_tree_sum() {
        e2e_as sh -c 'cd "$1" && find . -mindepth 1 -printf "%y %m %p -> %l\n" | LC_ALL=C sort &&
                find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum' sh "$1" | sha256sum | cut -d' ' -f1
}
ex_remote_sum() {
        ex_cli sandbox exec "$1" -- sh -c 'cd "$1" && find . -mindepth 1 -printf "%y %m %p -> %l\n" | LC_ALL=C sort &&
                find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum' sh "$2" | sha256sum | cut -d' ' -f1
}

ex_case_files() {
        local n=$1 src=$EX_WORK-src dst=$EX_WORK-dst s1 s2 s3 out rc
        ex_make_tree "$src"
        s1=$(ex_tree_sum "$src")
        out=$(ex_cli sandbox upload "$n" "$src" /tmp/up 2>&1)
        rc=$?
        e2e_check "upload of a tree with odd names ($rc: $(echo $out | cut -c1-100))" test $rc = 0
        s2=$(ex_remote_sum "$n" /tmp/up/openshell-e2e-exec-src)
        e2e_check "upload: names, modes, sizes, links and content identical inside" test -n "$s1" -a "$s1" = "$s2"
        e2e_as rm -rf "$dst"
        e2e_as mkdir -p "$dst"
        out=$(ex_cli sandbox download "$n" /tmp/up/openshell-e2e-exec-src "$dst" 2>&1)
        rc=$?
        e2e_check "download of the tree back ($rc: $(echo $out | cut -c1-100))" test $rc = 0
        s3=$(ex_tree_sum "$dst/openshell-e2e-exec-src")
        e2e_check "download: the round trip is identical" test -n "$s1" -a "$s1" = "$s3"
        ex_cli sandbox download "$n" /nonexistent "$dst" >/dev/null 2>&1
        rc=$?
        e2e_check "download of a missing path fails ($rc)" test $rc != 0
        e2e_as rm -rf "$src" "$dst"
}

# ---- logs, Landlock, busybox, delete ---------------------------------------------------------------

ex_case_logs() {
        local n=$1 out
        out=$(ex_cli sandbox logs "$n" --lines 200 2>&1)
        e2e_check "logs: the proxy's decisions are there ($(grep -m1 'decision=' <<<"$out" | cut -c1-120))" \
                grep -qE 'proxy .*decision=(allowed|denied)' <<<"$out"
        e2e_check "logs: the agent's stream is there" grep -q ' agent ' <<<"$out"
        e2e_check "logs: merged in time order" sh -c 'awk "{ print \$1 }" | LC_ALL=C sort -c' <<<"$out"
        out=$(ex_cli sandbox logs "$n" -o json --lines 5 2>&1)
        e2e_check "logs -o json is JSON" python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$out"
}

ex_denied() { test "$1" != 0 && grep -qi 'permission denied' <<<"$2"; }

ex_case_landlock() {
        local n=$1 out rc
        ex_case_create "$n" localhost/openshell-test-debian:latest "$EX_LANDLOCK_POLICY" || return 1
        out=$(ex_cli sandbox exec "$n" -- sh -c 'echo ok >/tmp/allowed && cat /tmp/allowed' 2>&1)
        e2e_check "landlock: a write under read_write (/tmp) works ($out)" test "$out" = ok
        out=$(ex_cli sandbox exec "$n" -- sh -c 'echo no >/var/denied' 2>&1)
        rc=$?
        e2e_check "landlock: a write outside read_write (/var) is denied (exit $rc: $(echo $out | cut -c1-80))" \
                ex_denied "$rc" "$out"
        # Control: the same write works in the sandbox without a filesystem policy.
        out=$(ex_cli sandbox exec "$2" -- sh -c 'echo yes >/var/control && cat /var/control && rm /var/control' 2>&1)
        e2e_check "landlock control: the same write works without filesystem_policy ($out)" test "$out" = yes
        ex_cli sandbox delete "$n" >/dev/null 2>&1
}

# ex_case_seccomp NAME CONTROL: a sandbox whose policy asks for process.seccomp (the baseline profile and
# a deny list): unshare -U is refused with EPERM while it works in CONTROL (a sandbox without seccomp),
# mkdir is refused by the deny list, ordinary programs run. Writes and removes its own policy.
ex_case_seccomp() {
        local n=$1 policy=/tmp/openshell-e2e-exec-seccomp.json out rc
        ex_cli sandbox delete "$n" >/dev/null 2>&1
        python3 - "$E2E_SRC/e2e/fixtures/policy-e2e.json" <<-'EOF' | e2e_put "$policy"
	import json, sys
	p = json.load(open(sys.argv[1]))
	p["process"] = {"seccomp": {"profile": "baseline", "deny": ["mkdir", "mkdirat"]}}
	print(json.dumps(p))
	EOF
        if ex_case_create "$n" localhost/openshell-test-debian:latest "$policy"; then
                out=$(ex_cli sandbox exec "$n" -- unshare -U true 2>&1)
                rc=$?
                e2e_check "seccomp: unshare -U is refused (exit $rc: $(echo $out | cut -c1-80))" \
                        bash -c 'test "$1" != 0 && grep -q "Operation not permitted" <<<"$2"' sh "$rc" "$out"
                out=$(ex_cli sandbox exec "$2" -- sh -c 'unshare -U true && echo works' 2>&1)
                e2e_check "seccomp control: unshare -U works without process.seccomp ($(echo $out | cut -c1-80))" \
                        test "$out" = works
                out=$(ex_cli sandbox exec "$n" -- mkdir /tmp/seccomp-denied 2>&1)
                rc=$?
                e2e_check "seccomp: mkdir is refused by the deny list (exit $rc: $(echo $out | cut -c1-80))" \
                        bash -c 'test "$1" != 0 && grep -q "Operation not permitted" <<<"$2"' sh "$rc" "$out"
                out=$(ex_cli sandbox exec "$n" -- sh -c 'ls / | grep -c . >/dev/null && getent ahosts localhost >/dev/null && echo ok' 2>&1)
                e2e_check "seccomp: ordinary programs run under the filter ($out)" test "$out" = ok
                out=$(ex_cli sandbox logs "$n" --lines 200 2>&1)
                e2e_check "seccomp: the supervisor logs its status at start" grep -q 'seccomp: profile baseline' <<<"$out"
        fi
        ex_cli sandbox delete "$n" >/dev/null 2>&1
        e2e_sandbox_cleanup "$n"
        e2e_as rm -f "$policy"
}

ex_case_busybox() {
        local n=$1 out rc
        ex_case_create "$n" localhost/openshell-test-busybox:latest "$EX_POLICY" || return 1
        out=$(ex_cli sandbox exec "$n" -- sh -c 'ls /usr/lib/x86_64-linux-gnu 2>/dev/null | wc -l; echo "$HTTP_PROXY"' 2>&1)
        e2e_check "busybox-only image: exec works, no libc in the image ($(echo $out))" \
                grep -qE '^0 http://10\.213\.' <<<"$(echo $out)"
        ex_cli sandbox exec "$n" -- sh -c 'exit 9'
        rc=$?
        e2e_check "busybox-only image: exit code ($rc)" test $rc = 9
        out=$(ex_cli sandbox exec "$n" -- wget -q -O - "$GW_SERVER_URL" 2>&1)
        e2e_check "busybox-only image: wget through the proxy ($out)" test "$out" = hello-from-testserver
        ex_cli sandbox delete "$n" >/dev/null 2>&1
}

ex_case_delete() {
        local n=$1 out
        out=$(ex_cli sandbox delete "$n" 2>&1)
        e2e_check "openshell sandbox delete $n ($out)" test $? = 0
        gw_wait 60 gw_nothing_left "$n"
        out=$(gw_leftovers "$n")
        e2e_check "nothing of $n left (${out:-none})" test -z "$out"
        ex_cli sandbox get "$n" >/dev/null 2>&1
        e2e_check "sandbox get $n afterwards exits 3" test $? = 3
}

# ---- suite -----------------------------------------------------------------------------------------

ex_cleanup() {
        local n
        $EX_TMUX kill-server 2>/dev/null
        for n in "$@"; do
                ex_cli sandbox delete "$n" >/dev/null 2>&1
                e2e_sandbox_cleanup "$n"
        done
        gw_cleanup "$1"
        e2e_as rm -rf "$EX_POLICY" "$EX_LANDLOCK_POLICY" "$EX_WORK"-*
}

ex_suite() {
        local n=$1 ll=$1-ll bb=$1-bb
        gw_set_callback
        if tb_exec test -e "$(gw_state_dir)"; then GW_STATE_EXISTED=yes; else GW_STATE_EXISTED=no; fi
        ex_cleanup "$n" "$ll" "$bb"
        ex_write_policies
        gw_case_activation
        if ex_case_create "$n" localhost/openshell-test-debian:latest "$EX_POLICY"; then
                ex_case_exec "$n"
                ex_case_tty "$n"
                ex_case_files "$n"
                ex_case_logs "$n"
                ex_case_landlock "$ll" "$n"
                ex_case_seccomp "$n-sc" "$n"
                ex_case_busybox "$bb"
        fi
        ex_case_delete "$n"
        ex_cleanup "$n" "$ll" "$bb"
}
