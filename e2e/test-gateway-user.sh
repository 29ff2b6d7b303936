#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# e2e (user mode): the socket-activated user gateway (issue 4 item 7) and the rootless callback path
# (issue 6 item 3) on real systemd + Podman in the testbed machine, as the lingering user with
# systemctl --user: a sandbox created through the API whose proxy reaches the gateway at
# host.containers.internal (pasta), mTLS from the agent through the proxy's forward, a policy change,
# DELETE, idle exit (lib/gateway-cases.sh).
# Skips (77) unless root and the testbed is booted (tools/testbed up, or tools/check).
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/e2e.sh
. "$E2E_DIR/lib/e2e.sh"
# shellcheck source=lib/sandbox-cases.sh
. "$E2E_DIR/lib/sandbox-cases.sh"
# shellcheck source=lib/gateway-cases.sh
. "$E2E_DIR/lib/gateway-cases.sh"

e2e_init user
gw_suite gwusr
e2e_finish
