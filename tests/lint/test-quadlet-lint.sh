#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Lint the renderer's golden outputs (tests/unit/golden/*/) and a fresh `openshell-quadlet render` with
# Podman's own `quadlet -dryrun` and `systemd-analyze verify`, inside the Debian 13 rootfs (Podman 5.4,
# systemd 257) by chroot: nothing is booted. Skips (77) without root or without the rootfs.
# usage: test-quadlet-lint.sh SOURCE_DIR OPENSHELL_QUADLET [ROOTFS]
set -u
src=${1:?source dir} tool=${2:?openshell-quadlet path}
rootfs=${3:-${OPENSHELL_TESTBED_ROOTFS:-/var/tmp/openshell-testbed/trixie}}

if [ "$(id -u)" != 0 ]; then echo "skip: needs root for chroot"; exit 77; fi
if [ ! -x "$rootfs/usr/libexec/podman/quadlet" ] || [ ! -x "$rootfs/usr/bin/systemd-analyze" ]; then
        echo "skip: no Debian 13 rootfs with Podman's quadlet at $rootfs"; exit 77
fi

work=$(mktemp -d "$rootfs/tmp/openshell-lint.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
inner=${work#"$rootfs"}
fail=0
# The units run openshell-quadlet: verify them against the built binary, copied into the work dir.
mkdir -p "$work/bin" "$work/rt" && chmod 700 "$work/rt"
cp "$tool" "$work/bin/openshell-quadlet"
ship_units() { # $1 = destination directory
        mkdir -p "$1/user"
        for u in "$src"/units/*.service "$src"/units/user/*.service; do
                sed "s|/usr/bin/openshell-quadlet|$inner/bin/openshell-quadlet|" "$u" > "$1/${u#"$src"/units/}"
        done
}
ship_units "$work/shipped"
# systemd-analyze inside the rootfs; $1 = "" or --user, then arguments (a shell snippet, globs allowed)
analyze() {
        local user=$1; shift
        chroot "$rootfs" env XDG_RUNTIME_DIR="$inner/rt" SYSTEMD_UNIT_PATH="$UNIT_PATH" \
                sh -c "systemd-analyze verify --man=no $user $*" 2>&1
}

# $1 = directory with Quadlet files (host path), $2 = -user or "", $3 = label
lint() {
        local d=$1 user=$2 label=$3 w="$work/q" o="$work/out" log r units
        rm -rf "$w" "$o"; mkdir -p "$w" "$o"
        cp "$d"/*.container "$d"/*.network "$d"/*.volume "$w"/ 2>/dev/null
        cp "$src/quadlet/openshell.network" "$w"/
        units=$inner/shipped; [ -n "$user" ] && units=$inner/shipped/user
        log=$(chroot "$rootfs" env QUADLET_UNIT_DIRS="$inner/q" /usr/libexec/podman/quadlet -dryrun $user 2>&1 >/dev/null)
        r=$?
        if [ $r != 0 ] || printf '%s' "$log" | grep -qiE "error|unsupported|invalid|unknown key"; then
                echo "FAIL $label: quadlet -dryrun (rc $r): $log"; fail=1; return
        fi
        chroot "$rootfs" env QUADLET_UNIT_DIRS="$inner/q" /usr/libexec/podman/quadlet $user "$inner/out" || {
                echo "FAIL $label: quadlet generate"; fail=1; return; }
        log=$(UNIT_PATH="$inner/out:$units:" analyze "${user:+--user}" "$inner/out/*.service")
        r=$?
        if [ $r != 0 ] || [ -n "$log" ]; then
                echo "FAIL $label: systemd-analyze verify (rc $r): $log"; fail=1; return
        fi
        echo "ok   $label ($(ls "$o"/*.service | wc -l) services)"
}

for d in "$src"/tests/unit/golden/*/; do
        [ -e "$d/spec.json" ] || continue
        name=$(basename "$d") user=
        case $name in *user*) user=-user ;; esac
        lint "$d" "$user" "golden/$name${user:+ (user)}"
        # The CLI renders the same spec into files that lint just as well.
        rm -rf "$work/render"
        "$tool" render --spec "$d/spec.json" --output "$work/render" --selinux no >/dev/null ||
                { echo "FAIL render $name"; fail=1; continue; }
        lint "$work/render" "$user" "render/$name${user:+ (user)}"
done

# The shipped units on their own (a template is verified as an instance; its agent dependency only
# exists once the generator has run, so that one message is expected).
for u in openshell-firewall.service openshell-sandbox@.service user/openshell-sandbox@.service; do
        user=; case $u in user/*) user=--user ;; esac
        log=$(UNIT_PATH="$inner/shipped/${user:+user/}:" analyze "$user" "$inner/shipped/$u")
        r=$?
        if [ $r != 0 ] || [ -n "$log" ]; then echo "FAIL verify units/$u (rc $r): $log"; fail=1; else echo "ok   verify units/$u"; fi
done
# The nftables table parses (check mode: nothing is loaded).
if command -v nft >/dev/null; then
        if log=$(nft -c -f "$src/units/openshell.nft" 2>&1); then echo "ok   nft -c units/openshell.nft"
        else echo "FAIL nft -c units/openshell.nft: $log"; fail=1; fi
fi
exit $fail
