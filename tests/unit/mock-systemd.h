/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A mock systemd Manager on a private dbus-daemon, for the tests of code that drives systemd over sd-bus
 * (sandbox-install, gateway-systemd). mock_systemd_start() runs dbus-daemon on DIR/bus and, in a forked
 * process, a service that owns org.freedesktop.systemd1 there:
 *
 *   Manager.Reload, Manager.Subscribe   reply at once
 *   Manager.StartUnit/StopUnit(ss)      reply with job 42, then emit JobRemoved for an unrelated job 7
 *                                       ("failed") and for job 42: "failed" for bad.service, else "done";
 *                                       missing.service gets org.freedesktop.systemd1.NoSuchUnit
 *   Manager.StartTransientUnit          records the unit, mode and ExecStart argv; refuses
 *                                       openshell-remove-broken.service (UnitExists)
 *   Manager.ListUnitsByNames(as)        the states set with mock_systemd_set_unit(), "not-found"/"inactive"
 *                                       for other names; answered in reverse order (callers must match by
 *                                       name, as systemd skips names it finds invalid)
 *   Unit.ActiveState on every unit path the same states ("inactive" when not set)
 *
 * Each call is appended to DIR/calls as "METHOD ARG..." (Reload: "Reload -"). Everything runs in the
 * test's own process group and is stopped at exit. */

#include <stdbool.h>

/* dir must exist (the test's scratch directory). Returns 0; -EOPNOTSUPP without /usr/bin/dbus-daemon (the
 * caller skips); another -errno when the daemon or the mock did not come up. */
int mock_systemd_start(const char *dir);
void mock_systemd_stop(void);

/* "unix:path=DIR/bus", valid after mock_systemd_start(). */
const char *mock_systemd_address(void);

/* Sets the LoadState and ActiveState the mock reports for unit from now on. */
int mock_systemd_set_unit(const char *unit, const char *load_state, const char *active_state);

/* The calls recorded so far (free it), or NULL. */
char *mock_systemd_calls(void);
