/* SPDX-License-Identifier: Apache-2.0 */
/* sandbox-install against the mock systemd Manager (mock-systemd.h): Reload, StartUnit/StopUnit with the
 * JobRemoved signal carrying "done" or "failed" (after an unrelated job's), and D-Bus errors. Skips
 * without dbus-daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc-util.h"
#include "mock-systemd.h"
#include "sandbox-install.h"
#include "string-util.h"
#include "tests.h"

static char bus_dir[64];

static int open_bus(sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, mock_systemd_address());
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

static void teardown(void) {
        _cleanup_free_ char *cmd = NULL;

        mock_systemd_stop();
        if (bus_dir[0] && (cmd = strjoin("rm -rf ", bus_dir)))
                (void) system(cmd);
        bus_dir[0] = 0;
}

/* The mock systemd on a private bus (mock-systemd.h); -EOPNOTSUPP without dbus-daemon. */
static int setup(void) {
        snprintf(bus_dir, sizeof(bus_dir), "/tmp/test-sandbox-install-XXXXXX");
        if (!mkdtemp(bus_dir))
                return -errno;
        atexit(teardown); /* also when an assertion ends the test early */
        return mock_systemd_start(bus_dir);
}

TEST(umbrella_name) {
        _cleanup_free_ char *u = NULL;
        char *bad = NULL;
        ASSERT_OK(sandbox_umbrella_unit("demo", &u));
        ASSERT_STREQ(u, "openshell-sandbox@demo.service");
        ASSERT_ERROR(sandbox_umbrella_unit("De mo", &bad), EINVAL);
}

TEST(mock_manager) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;

        int r = setup();

        if (r == -EOPNOTSUPP) {
                teardown();
                TEST_SKIP("no dbus-daemon to run a mock systemd on");
        }
        ASSERT_OK(r);
        if (open_bus(&bus) < 0) {
                teardown();
                TEST_FAIL_AT("cannot connect to the private bus");
        }
        ASSERT_OK(sandbox_daemon_reload(bus, &e1));
        ASSERT_OK(sandbox_unit_start(bus, "good.service", &e2));
        ASSERT_ERROR(sandbox_unit_stop(bus, "bad.service", &e3), EIO);
        ASSERT_CONTAINS(e3, "finished with result 'failed'");
        ASSERT_TRUE(sandbox_unit_start(bus, "missing.service", &e4) < 0);
        ASSERT_CONTAINS(e4, "not found");
        teardown();
}

DEFINE_TEST_MAIN();
