#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# e2e (system mode): the socket-activated gateway of issue 4 item 7 on real systemd + Podman in the testbed
# machine: a sandbox created through the API, mTLS from the agent through the proxy's forward onto the
# bridge callback listener 10.214.0.1:17671, a policy change, DELETE, idle exit (lib/gateway-cases.sh).
# Skips (77) unless root and the testbed is booted (tools/testbed up, or tools/check).
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/e2e.sh
. "$E2E_DIR/lib/e2e.sh"
# shellcheck source=lib/sandbox-cases.sh
. "$E2E_DIR/lib/sandbox-cases.sh"
# shellcheck source=lib/gateway-cases.sh
. "$E2E_DIR/lib/gateway-cases.sh"

e2e_init system
gw_suite gwsys
e2e_finish
