#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tools/build-sidecar-image without Podman (--no-import): the rootfs tarball holds the program, every
# library it loads by soname, the loader, libgcc_s and the CA bundle; the program loads with the bundled
# libraries only; bad input gets a clear error. usage: test-build-sidecar-image.sh SRCDIR PROGRAM
set -u
SRC=$1 PROG=$2
TOOL=$SRC/tools/build-sidecar-image
fail=0
ok() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

if "$TOOL" --no-import --output "$T/sc.tar" "$PROG" >/dev/null 2>"$T/err"; then
        ok "builds a tarball from $(basename "$PROG")"
else
        bad "builds a tarball: $(cat "$T/err")"
fi
mkdir -p "$T/root" && tar -C "$T/root" -xf "$T/sc.tar"
for f in "opt/openshell/bin/$(basename "$PROG")" opt/openshell/lib/ld-linux-x86-64.so.2 opt/openshell/lib/libc.so.6 \
         opt/openshell/lib/libgcc_s.so.1 etc/ssl/certs/ca-certificates.crt etc/nsswitch.conf etc/passwd; do
        [ -s "$T/root/$f" ] && ok "image has /$f" || bad "image lacks /$f"
done
missing=
for lib in $(ldd "$PROG" | awk '/=> \// { print $1 }'); do
        [ -e "$T/root/opt/openshell/lib/$lib" ] || missing="$missing $lib"
done
[ -z "$missing" ] && ok "every library ldd lists is bundled" || bad "image lacks$missing"
if env -i "$T/root/opt/openshell/lib/ld-linux-x86-64.so.2" --library-path "$T/root/opt/openshell/lib" \
        "$T/root/opt/openshell/bin/$(basename "$PROG")" --help >/dev/null 2>&1; then
        ok "the program runs through the bundled loader"
else
        bad "the program does not run through the bundled loader"
fi
[ "$(stat -c %a "$T/root")" = 755 ] && ok "image root is 0755" || bad "image root mode $(stat -c %a "$T/root")"

# Bad input: a clear error, non-zero exit, no tarball.
expect_error() {
        local what=$1 pattern=$2
        shift 2
        if "$TOOL" "$@" >/dev/null 2>"$T/err"; then
                bad "$what: accepted"
        elif grep -q "$pattern" "$T/err"; then
                ok "$what: $(head -1 "$T/err")"
        else
                bad "$what: unclear error '$(head -1 "$T/err")'"
        fi
}
expect_error "no program" "no programs given" --no-import --output "$T/x.tar"
expect_error "missing program" "not an executable" --no-import --output "$T/x.tar" "$T/nonexistent"
cp /bin/true "$T/true"
expect_error "not an openshell program" "not an openshell program" --no-import --output "$T/x.tar" "$T/true"
expect_error "unknown option" "unknown option" --frobnicate
expect_error "--import of a missing tarball" "no such tarball" --import "$T/none.tar"
[ ! -e "$T/x.tar" ] && ok "no tarball left after errors" || bad "a tarball was written despite errors"
exit $fail
