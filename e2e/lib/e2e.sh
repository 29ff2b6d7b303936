# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Helpers for e2e test scripts: PASS/FAIL cases, skipping, and sandbox operations in the testbed machine
# for both modes (system: systemctl/rootful podman; user: systemctl --user/rootless podman as $TB_USER).
#
# A script sources this file, calls e2e_init MODE, runs cases with e2e_pass/e2e_fail/e2e_check, and ends
# with e2e_finish (exit status non-zero on any FAIL). When OPENSHELL_E2E_RESULTS names a file, every
# case result is appended to it ("PASS script [mode] name") so tools/check can count cases.

E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_SRC=$(cd "$E2E_LIB/../.." && pwd)
# shellcheck source=testbed.sh
. "$E2E_LIB/testbed.sh"

E2E_PASSED=0
E2E_FAILED=0
E2E_T0=$(date +%s.%N)
E2E_MODE=system

e2e_elapsed() { printf '%6.1fs' "$(echo "$(date +%s.%N) - $E2E_T0" | bc)"; }
E2E_SCRIPT=$(basename "$0" .sh)
e2e_record() { [ -z "${OPENSHELL_E2E_RESULTS:-}" ] || echo "$1 $E2E_SCRIPT [$E2E_MODE] $2" >>"$OPENSHELL_E2E_RESULTS"; }
e2e_pass() { E2E_PASSED=$((E2E_PASSED + 1)); echo "$(e2e_elapsed) PASS: [$E2E_MODE] $*"; e2e_record PASS "$*"; }
e2e_fail() { E2E_FAILED=$((E2E_FAILED + 1)); echo "$(e2e_elapsed) FAIL: [$E2E_MODE] $*"; e2e_record FAIL "$*"; }
e2e_info() { echo "$(e2e_elapsed) #     $*"; }

# e2e_check NAME CMD...: PASS when CMD succeeds; on failure, show its output.
e2e_check() {
        local name=$1 out
        shift
        if out=$("$@" 2>&1); then
                e2e_pass "$name"
        else
                e2e_fail "$name"
                [ -z "$out" ] || printf '%s\n' "$out" | tail -n 15 | sed 's/^/#     /'
        fi
}

# e2e_check_not NAME CMD...: PASS when CMD fails (something must be impossible).
e2e_check_not() {
        local name=$1 out
        shift
        if out=$("$@" 2>&1); then
                e2e_fail "$name"
                [ -z "$out" ] || printf '%s\n' "$out" | tail -n 15 | sed 's/^/#     /'
        else
                e2e_pass "$name"
        fi
}

e2e_finish() {
        echo "# $E2E_PASSED passed, $E2E_FAILED failed"
        [ "$E2E_FAILED" = 0 ]
}

# e2e_init MODE: skip (exit 77) unless root and the testbed is booted.
e2e_init() {
        E2E_MODE=$1
        if [ "$(id -u)" != 0 ]; then
                echo "SKIP: e2e tests need root"
                exit 77
        fi
        if ! tb_booted; then
                echo "SKIP: the testbed is not booted (tools/testbed up BUILDDIR, or tools/check)"
                exit 77
        fi
}

# ---- mode-dependent operations ---------------------------------------------------------------------

# Run in the machine as the mode's identity.
e2e_as() { if [ "$E2E_MODE" = user ]; then tb_user "$@"; else tb_exec "$@"; fi; }
e2e_systemctl() { if [ "$E2E_MODE" = user ]; then tb_user systemctl --user "$@"; else tb_exec systemctl "$@"; fi; }
e2e_podman() { e2e_as podman "$@"; }
e2e_quadlet() { if [ "$E2E_MODE" = user ]; then tb_user openshell-quadlet "$@" --user; else tb_exec openshell-quadlet "$@"; fi; }

e2e_spec_dir() {
        if [ "$E2E_MODE" = user ]; then echo "/home/$TB_USER/.config/openshell/sandboxes"; else echo /etc/openshell/sandboxes; fi
}

# Places where unit files for sandbox NAME may exist (generated and installed), for leftover checks.
e2e_unit_globs() {
        local n=$1
        if [ "$E2E_MODE" = user ]; then
                echo "/home/$TB_USER/.config/containers/systemd/*$n* /run/user/$TB_UID/openshell/quadlet/*-$n.* /run/user/$TB_UID/systemd/generator/*-$n.service"
        else
                echo "/etc/containers/systemd/*-$n.* /run/containers/systemd/*-$n.* /run/openshell/quadlet/*-$n.* /run/systemd/generator/*-$n.service"
        fi
}

# e2e_put FILE_IN_MACHINE MODE_OWNED < content: write a file in the machine (owned by the mode's user).
e2e_put() {
        local f=$1
        if [ "$E2E_MODE" = user ]; then
                tb_exec_in runuser -u "$TB_USER" -- sh -c 'mkdir -p "$(dirname "$1")" && cat >"$1"' sh "$f"
        else
                tb_exec_in sh -c 'mkdir -p "$(dirname "$1")" && cat >"$1"' sh "$f"
        fi
}

# Exec in a container of the mode's podman.
e2e_cexec() { local c=$1; shift; e2e_podman exec "$c" "$@"; }

# Host path of a Podman volume's data (rootless: inside the user's storage, readable by root).
e2e_volume_path() { e2e_podman volume inspect --format '{{.Mountpoint}}' "$1"; }

# Wait up to SECONDS for CMD to succeed.
e2e_wait() {
        local secs=$1 i
        shift
        for i in $(seq 1 $((secs * 4))); do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.25
        done
        return 1
}
