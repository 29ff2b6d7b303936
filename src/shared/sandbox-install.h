/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Driving systemd over sd-bus for openshell-quadlet install/remove (and the gateway): daemon-reload,
 * start and stop a unit and wait for the job, the way systemctl does. */

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "macro.h"

#define SANDBOX_BUS_JOB_TIMEOUT_USEC (5ULL * 60 * 1000000) /* how long a start/stop job may take */

/* Opens the system bus, or the user's bus when user is set. */
int sandbox_bus_open(bool user, sd_bus **ret);

/* Manager.Reload(); returns when systemd has re-run the generators and reloaded. On failure
 * *ret_error (if given) gets the D-Bus error message. */
int sandbox_daemon_reload(sd_bus *bus, char **ret_error);

/* Manager.StartUnit/StopUnit(unit, "replace") and waits for the job. Returns 0 when the job result is
 * "done", -EIO with *ret_error = "job result: failed" (or the D-Bus error) otherwise, -ETIMEDOUT. */
int sandbox_unit_start(sd_bus *bus, const char *unit, char **ret_error);
int sandbox_unit_stop(sd_bus *bus, const char *unit, char **ret_error);

/* The umbrella unit of a sandbox: openshell-sandbox@NAME.service. */
int sandbox_umbrella_unit(const char *name, char **ret);
