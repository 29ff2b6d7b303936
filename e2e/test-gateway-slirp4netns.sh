#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# e2e (user mode, issue 6 item 3): the rootless callback path with slirp4netns instead of pasta. The
# lingering user's containers.conf says default_rootless_network_cmd="slirp4netns", so Podman connects the
# rootless network namespace (where the sandboxes' bridges live) to the host with slirp4netns; then the
# gateway suite (lib/gateway-cases.sh) runs twice: with the user gateway's default Unix callback socket
# (mounted into the proxy, no network involved) and with a TCP callback listener on the address Podman
# gives host.containers.internal under slirp4netns (not the outbound address pasta maps it to). Each run checks that slirp4netns, not pasta, carries the
# sandbox's traffic while it runs. containers.conf is restored afterwards.
# Skips (77) unless root and the testbed is booted (tools/testbed up, or tools/check).
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/e2e.sh
. "$E2E_DIR/lib/e2e.sh"
# shellcheck source=lib/sandbox-cases.sh
. "$E2E_DIR/lib/sandbox-cases.sh"
# shellcheck source=lib/gateway-cases.sh
. "$E2E_DIR/lib/gateway-cases.sh"

e2e_init user

SL_CONF=/home/$TB_USER/.config/containers/containers.conf
SL_SAVED=/home/$TB_USER/.config/containers/containers.conf.e2e-saved

sl_restore() {
        if tb_exec test -e "$SL_SAVED"; then tb_exec mv -f "$SL_SAVED" "$SL_CONF"; else tb_exec rm -f "$SL_CONF"; fi
}

# While the sandbox runs: the rootless network namespace is slirp4netns's, and pasta runs nowhere.
sl_running() {
        local out
        out=$(tb_exec pgrep -u "$TB_USER" -a slirp4netns | cut -c1-160)
        e2e_check "slirp4netns carries the rootless network (${out:-no slirp4netns process})" test -n "$out"
        out=$(tb_exec pgrep -u "$TB_USER" -a pasta | cut -c1-160)
        e2e_check "and pasta does not (${out:-none})" test -z "$out"
}

if ! tb_exec test -x /usr/bin/slirp4netns; then
        e2e_fail "slirp4netns is installed in the testbed (TB_EXTRA_PKGS)"
        e2e_finish
        exit
fi
if tb_exec test -e "$SL_CONF"; then tb_exec cp -a "$SL_CONF" "$SL_SAVED"; fi
trap sl_restore EXIT
e2e_put "$SL_CONF" <<'CONF'
# e2e/test-gateway-slirp4netns.sh (removed again at its end)
[network]
default_rootless_network_cmd="slirp4netns"
CONF
out=$(e2e_podman info --format '{{.Host.RootlessNetworkCmd}}' 2>&1)
e2e_check "podman info: RootlessNetworkCmd is slirp4netns ($out)" test "$out" = slirp4netns

# With slirp4netns, host.containers.internal is not the outbound address (pasta's mapping) but the address
# Podman picks for the host itself (its first non-loopback one): a TCP callback listener must sit there.
# Asked of a container on a bridge network, as the sandboxes' proxies see it.
GW_HOST_IP=$(e2e_as sh -c 'podman network create e2e-slirp-probe >/dev/null &&
        podman run --rm --network e2e-slirp-probe localhost/openshell-test-debian:latest getent hosts host.containers.internal;
        podman network rm -f e2e-slirp-probe >/dev/null' | awk '{ print $1; exit }')
e2e_check "host.containers.internal under slirp4netns: ${GW_HOST_IP:-unknown} (pasta's would be $(gw_host_ip))" test -n "$GW_HOST_IP"
# shellcheck disable=SC2034 # read by gw_suite (lib/gateway-cases.sh)
GW_RUNNING_HOOK=sl_running
for kind in ${OPENSHELL_E2E_CALLBACKS:-unix tcp}; do
        e2e_info "---- callback over $kind ----"
        # shellcheck disable=SC2034 # read by gw_set_callback
        OPENSHELL_E2E_CALLBACK=$kind
        gw_suite "gwsl-$kind"
done
e2e_finish
