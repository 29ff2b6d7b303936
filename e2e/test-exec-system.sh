#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# e2e (system mode): the agent supervisor and the CLI of issue 5 (exec, --tty, connect, upload/download,
# logs, Landlock, a busybox-only image) against the socket-activated gateway in the testbed machine.
# Skips (77) unless root and the testbed is booted (tools/testbed up, or tools/check).
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/e2e.sh
. "$E2E_DIR/lib/e2e.sh"
# shellcheck source=lib/sandbox-cases.sh
. "$E2E_DIR/lib/sandbox-cases.sh"
# shellcheck source=lib/gateway-cases.sh
. "$E2E_DIR/lib/gateway-cases.sh"
# shellcheck source=lib/exec-cases.sh
. "$E2E_DIR/lib/exec-cases.sh"

e2e_init system
ex_suite exsys
e2e_finish
