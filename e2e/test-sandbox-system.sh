#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# e2e (system mode): the sandbox lifecycle of issue 2 item 7 on real systemd + Podman + Quadlet in the testbed
# machine (rootful: systemctl, rootful Podman, openshell-firewall.service).
# Skips (77) unless root and the testbed is booted (tools/testbed up, or tools/check).
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/e2e.sh
. "$E2E_DIR/lib/e2e.sh"
# shellcheck source=lib/sandbox-cases.sh
. "$E2E_DIR/lib/sandbox-cases.sh"

e2e_init system
e2e_sandbox_suite demo other
e2e_finish
