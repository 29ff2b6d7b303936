#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# e2e (user mode): the bypass matrix of issue 7 item 1 (lib/bypass-cases.sh): an agent in a real rootless
# sandbox (the lingering user, systemctl --user) created through the user gateway tries every way out and
# at real secrets; each case has a control.
# Prints the matrix and TAP lines (OPENSHELL_BYPASS_TAP=FILE writes them there too).
# Skips (77) unless root and the testbed is booted (tools/testbed up, or tools/check).
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/e2e.sh
. "$E2E_DIR/lib/e2e.sh"
# shellcheck source=lib/sandbox-cases.sh
. "$E2E_DIR/lib/sandbox-cases.sh"
# shellcheck source=lib/gateway-cases.sh
. "$E2E_DIR/lib/gateway-cases.sh"
# shellcheck source=lib/bypass-cases.sh
. "$E2E_DIR/lib/bypass-cases.sh"

e2e_init user
bp_suite
e2e_finish
