#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# e2e lint: every golden output of the renderer (tests/unit/golden/*/) passes Podman's own
# `quadlet -dryrun` and, once converted to services, `systemd-analyze verify`, inside the Debian 13
# machine (Podman 5.4, systemd 257). The shipped quadlet/ and units/ files are verified with them.
# Skips (77) unless root and the testbed is booted.
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/e2e.sh
. "$E2E_DIR/lib/e2e.sh"

e2e_init system
GOLDEN=$E2E_SRC/tests/unit/golden

# Directories holding Quadlet files (a case may be a directory of files or files directly in golden/).
dirs=$(find "$GOLDEN" -type f \( -name '*.container' -o -name '*.network' -o -name '*.volume' \) \
        -printf '%h\n' 2>/dev/null | sort -u)
if [ -z "$dirs" ]; then
        e2e_fail "golden Quadlet outputs exist under tests/unit/golden"
        e2e_finish
        exit
fi

# Runs in the machine: lint one golden directory. $1 = directory (as seen in the machine), $2 = -user or "".
# The shipped openshell.network is added when the golden set refers to it and lacks it.
lint_script='
set -u
d=$1 user=$2 src=/usr/src/openshell
scope=; units=/usr/lib/systemd/system
[ -n "$user" ] && scope=--user && units=/usr/lib/systemd/user
w=$(mktemp -d) out=$(mktemp -d)
trap "rm -rf $w $out" EXIT
cp "$d"/*.container "$d"/*.network "$d"/*.volume "$w"/ 2>/dev/null
[ -e "$w/openshell.network" ] || ! grep -qs "openshell.network" "$w"/*.container || cp "$src/quadlet/openshell.network" "$w"/
log=$(QUADLET_UNIT_DIRS=$w /usr/libexec/podman/quadlet -dryrun $user 2>&1 >/dev/null); r=$?
if [ $r != 0 ] || printf "%s" "$log" | grep -qiE "error|unsupported|invalid"; then
        echo "quadlet -dryrun (rc $r): $log"; exit 1
fi
QUADLET_UNIT_DIRS=$w /usr/libexec/podman/quadlet $user "$out" || { echo "quadlet generate failed"; exit 1; }
n=$(ls "$out"/*.service 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || { echo "quadlet produced no services"; exit 1; }
# References to units the golden set does not contain (openshell-sandbox@.service, the firewall) resolve
# to the installed ones.
v=$(SYSTEMD_UNIT_PATH="$out:$units:" systemd-analyze verify --man=no $scope "$out"/*.service 2>&1)
r=$?
if [ $r != 0 ] || [ -n "$v" ]; then echo "systemd-analyze verify (rc $r): $v"; exit 1; fi
echo "$n services"
'

for d in $dirs; do
        rel=${d#"$E2E_SRC"/}
        user= run=tb_exec
        # User units are verified by the user (systemd-analyze --user needs its runtime directory).
        case $rel in *user*) user=-user run=tb_user ;; esac
        e2e_check "quadlet -dryrun + systemd-analyze verify: $rel ${user:+(user)}" \
                $run bash -c "$lint_script" lint "$TB_SRC_IN/$rel" "$user"
done

# The shipped files on their own, as installed in the machine.
if [ -e "$E2E_SRC/quadlet/openshell.network" ]; then
        e2e_check "quadlet -dryrun: quadlet/openshell.network" \
                tb_exec bash -c "$lint_script" lint "$TB_SRC_IN/quadlet" ""
fi
verify_script='v=$(systemd-analyze verify --man=no $2 "$1" 2>&1); r=$?; echo "$v"; [ $r = 0 ] && [ -z "$v" ]'
for u in $(tb_exec sh -c 'ls -d /usr/lib/systemd/system/openshell* /usr/lib/systemd/user/openshell* 2>/dev/null'); do
        scope= run=tb_exec
        case $u in /usr/lib/systemd/user/*) scope=--user run=tb_user ;; esac
        e2e_check "systemd-analyze verify: installed $u" $run sh -c "$verify_script" verify "$u" "$scope"
done
e2e_finish
