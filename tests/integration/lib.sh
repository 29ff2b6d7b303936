# SPDX-License-Identifier: Apache-2.0
# TAP helpers shared by the integration scripts (sourced). Each script sets N=0 FAILED=0 and ends with
# its own summary; a failing check records "not ok" and lets the script go on.

ok() { N=$((N + 1)); echo "ok $N - $1"; }
# fail DESCRIPTION [DETAIL]: DETAIL (first 3000 bytes) is printed as TAP comments.
fail() {
        N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"
        [ -n "${2:-}" ] && printf '%s\n' "$2" | head -c 3000 | sed 's/^/# /'
        return 0
}
# check DESCRIPTION GOT EXPECTED: equality.
check() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "expected: $3"$'\n'"got:      $2"; fi; }
# expect DESCRIPTION HAYSTACK NEEDLE / expect_not: substring present / absent.
expect() { case "$2" in *"$3"*) ok "$1" ;; *) fail "$1" "expected to find: $3"$'\n'"in: $2" ;; esac; }
expect_not() { case "$2" in *"$3"*) fail "$1" "unexpected: $3"$'\n'"in: $2" ;; *) ok "$1" ;; esac; }
# A free TCP port on 127.0.0.1 (the kernel picks it).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_tcp HOST PORT [PID]: until HOST:PORT accepts (10 s), or PID (a daemon being waited for) died.
wait_tcp() {
        for _ in $(seq 200); do
                (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
                [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && return 1
                sleep 0.05
        done
        return 1
}
# wait_socket PATH [PID]: until PATH is a Unix socket (10 s, like wait_tcp), or PID died.
wait_socket() {
        for _ in $(seq 200); do
                [ -S "$1" ] && return 0
                [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && return 1
                sleep 0.05
        done
        return 1
}
# until_out MAX NEEDLE CMD...: run CMD (up to MAX times, 0.1 s apart) until its output contains NEEDLE;
# the last output is left in $out.
until_out() {
        local max=$1 needle=$2; shift 2
        for _ in $(seq "$max"); do
                out=$("$@" 2>&1)
                case "$out" in *"$needle"*) return 0 ;; esac
                sleep 0.1
        done
        return 1
}
# sanitizer_report FILE...: ASan/UBSan/LSan reports in daemon logs, as TAP comments (first 60 lines each).
sanitizer_report() {
        local f
        for f in "$@"; do
                [ -f "$f" ] || continue
                grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" || continue
                echo "# sanitizer report in $(basename "$f"):"
                sed -n '/ERROR: \(Address\|Leak\)Sanitizer\|runtime error:/,/SUMMARY/p' "$f" | grep -v '^ *0x\|Shadow\|redzone\|^  [A-Z]' |
                        head -60 | sed 's/^/#   /'
        done
}

# The relay scripts' exit trap: stop the supervisor ($SUP_PID) and the gateway ($GW_PID) they started,
# then remove $WORK (kept when KEEP_WORK is set). Usage: trap relay_cleanup EXIT
relay_cleanup() {
        [ -n "${SUP_PID:-}" ] && kill "$SUP_PID" 2>/dev/null
        [ -n "${GW_PID:-}" ] && kill "$GW_PID" 2>/dev/null
        wait 2>/dev/null
        [ -n "${KEEP_WORK:-}" ] && echo "# kept $WORK" || rm -rf "$WORK"
}
