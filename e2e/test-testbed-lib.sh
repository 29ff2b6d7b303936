#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The cached-rootfs rules of e2e/lib/testbed.sh, without debootstrap or root: a missing rootfs is built,
# a package removed from the list rebuilds it, an added one is installed in place and the stamp records
# the verified list, a package still missing afterwards is an error.
set -u
. "$(dirname "$0")/lib/testbed.sh" || exit 1
fail=0
ok() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
TB_DIR=$T TB_ROOTFS=$T/trixie TB_STAMP=$T/trixie.stamp

# Stubs for the expensive parts; each records that it ran.
MISSING=
tb_rootfs_build() { echo build >>"$T/calls"; mkdir -p "$TB_ROOTFS/usr/libexec/podman"; : >"$TB_ROOTFS/usr/libexec/podman/quadlet"; chmod +x "$TB_ROOTFS/usr/libexec/podman/quadlet"; MISSING=$(tb_pkg_list | tail -n 2); }
tb_rootfs_missing() { printf '%s\n' $MISSING; }
tb_chroot_apt() { echo "apt $*" >>"$T/calls"; [ "$2" != install ] || MISSING=${STILL_MISSING:-}; }
calls() { cat "$T/calls" 2>/dev/null | awk '{ print $1 }' | sort -u | tr '\n' ' '; rm -f "$T/calls"; }

tb_rootfs_ensure && [ "$(calls)" = "apt build " ] && [ "$(cat "$TB_STAMP")" = "$(tb_pkg_list)" ] &&
        ok "missing rootfs: built, extras installed, stamp written" || bad "missing rootfs"
tb_rootfs_ensure 2>/dev/null && [ -z "$(calls)" ] && ok "matching stamp: nothing to do" || bad "matching stamp"
tb_pkg_list | grep -v -x libyaml-0-2 >"$TB_STAMP"; MISSING=libyaml-0-2
tb_rootfs_ensure 2>/dev/null && [ "$(calls)" = "apt " ] && [ "$(cat "$TB_STAMP")" = "$(tb_pkg_list)" ] &&
        ok "added package: installed in place, stamp updated" || bad "added package"
(tb_pkg_list; echo zz-dropped) | sort >"$TB_STAMP"
tb_rootfs_ensure 2>/dev/null && [ "$(calls)" = "apt build " ] && ok "removed package: rebuilt" || bad "removed package"
rm -f "$TB_STAMP"; MISSING=libcjson1 STILL_MISSING=libcjson1
if tb_rootfs_ensure 2>"$T/err"; then bad "a package that cannot be installed is accepted"
elif grep -q 'still lacks: libcjson1' "$T/err" && [ ! -e "$TB_STAMP" ]; then ok "uninstallable package: error, no stamp"
else bad "uninstallable package: unclear error '$(cat "$T/err")'"; fi
[ "$(tb_mounts_under /proc)" = "/proc" ] && ok "tb_mounts_under finds a mount point" || bad "tb_mounts_under /proc"
[ -z "$(tb_mounts_under "$T")" ] && ok "tb_mounts_under: none under a plain directory" || bad "tb_mounts_under $T"
exit $fail
