#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# e2e (user mode): the socket-activated user gateway (issue 4 item 7) and the rootless callback path
# (issue 6 item 3) on real systemd + Podman in the testbed machine, as the lingering user with
# systemctl --user, rootless networking by pasta: a sandbox created through the API whose proxy reaches
# the gateway, mTLS from the agent through the proxy's forward, a policy change, DELETE, idle exit
# (lib/gateway-cases.sh). Twice: through the user gateway's default Unix callback socket (mounted into the
# proxy), and through a TCP callback listener on the machine's outbound address that pasta maps
# host.containers.internal to. test-gateway-slirp4netns.sh does the same with slirp4netns.
# Skips (77) unless root and the testbed is booted (tools/testbed up, or tools/check).
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/e2e.sh
. "$E2E_DIR/lib/e2e.sh"
# shellcheck source=lib/sandbox-cases.sh
. "$E2E_DIR/lib/sandbox-cases.sh"
# shellcheck source=lib/gateway-cases.sh
. "$E2E_DIR/lib/gateway-cases.sh"

e2e_init user
for kind in ${OPENSHELL_E2E_CALLBACKS:-unix tcp}; do
        e2e_info "---- callback over $kind ----"
        # shellcheck disable=SC2034 # read by gw_set_callback
        OPENSHELL_E2E_CALLBACK=$kind
        gw_suite "gwusr-$kind"
done
e2e_finish
