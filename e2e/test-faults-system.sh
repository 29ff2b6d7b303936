#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# e2e (system mode): fault injection of issue 7 item 3 (lib/fault-cases.sh): kill -9 of the proxy, the
# supervisor and the gateway during traffic, of the gateway in the middle of create and delete, a
# create/delete loop with leak checks (OPENSHELL_FAULTS_LOOP, default 50), enabled sandboxes after the
# manager restarts (emulated: daemon-reexec, stop + start multi-user.target; see lib/fault-cases.sh for why
# not soft-reboot), a full state directory. Prints a results table and TAP lines (OPENSHELL_FAULTS_TAP=FILE
# writes them there too).
# Skips (77) unless root and the testbed is booted (tools/testbed up, or tools/check).
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/e2e.sh
. "$E2E_DIR/lib/e2e.sh"
# shellcheck source=lib/sandbox-cases.sh
. "$E2E_DIR/lib/sandbox-cases.sh"
# shellcheck source=lib/gateway-cases.sh
. "$E2E_DIR/lib/gateway-cases.sh"
# shellcheck source=lib/fault-cases.sh
. "$E2E_DIR/lib/fault-cases.sh"

e2e_init system
ft_suite
e2e_finish
