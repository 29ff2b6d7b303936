/* SPDX-License-Identifier: Apache-2.0 */
/* sandbox-install against a mock systemd Manager on a private dbus-daemon: Reload, StartUnit/StopUnit
 * with the JobRemoved signal carrying "done" or "failed", and D-Bus errors. Skips without dbus-daemon. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc-util.h"
#include "sandbox-install.h"
#include "string-util.h"
#include "tests.h"

#define JOB_PATH "/org/freedesktop/systemd1/job/42"

static char bus_address[256];
static char bus_dir[64];
static pid_t daemon_pid = -1, mock_pid = -1;

static int mock_reload(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, NULL);
}

static int mock_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, NULL);
}

/* Replies with a job, then reports it finished: "done" unless the unit is called bad.service. */
static int mock_job(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *unit, *mode;
        int r;

        r = sd_bus_message_read(m, "ss", &unit, &mode);
        if (r < 0)
                return r;
        if (streq(unit, "missing.service"))
                return sd_bus_error_set(error, "org.freedesktop.systemd1.NoSuchUnit", "Unit missing.service not found.");
        r = sd_bus_reply_method_return(m, "o", JOB_PATH);
        if (r < 0)
                return r;
        /* An unrelated job first: the waiter must ignore it. */
        (void) sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", 7,
                                  "/org/freedesktop/systemd1/job/7", "other.service", "failed");
        return sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", 42, JOB_PATH, unit,
                                  streq(unit, "bad.service") ? "failed" : "done");
}

static const sd_bus_vtable mock_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Reload", "", "", mock_reload, 0),
        SD_BUS_METHOD("Subscribe", "", "", mock_subscribe, 0),
        SD_BUS_METHOD("StartUnit", "ss", "o", mock_job, 0),
        SD_BUS_METHOD("StopUnit", "ss", "o", mock_job, 0),
        SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
        SD_BUS_VTABLE_END,
};

static int open_bus(sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, bus_address);
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

static void run_mock(int ready_fd) {
        sd_bus *bus = NULL;

        if (open_bus(&bus) < 0 ||
            sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                     mock_vtable, NULL) < 0 ||
            sd_bus_request_name(bus, "org.freedesktop.systemd1", 0) < 0)
                _exit(1);
        (void) !write(ready_fd, "1", 1);
        close(ready_fd);
        for (;;) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0)
                        _exit(1);
                if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                        _exit(1);
        }
}

static void teardown(void) {
        if (mock_pid > 0)
                kill(mock_pid, SIGTERM), waitpid(mock_pid, NULL, 0);
        if (daemon_pid > 0)
                kill(daemon_pid, SIGTERM), waitpid(daemon_pid, NULL, 0);
        mock_pid = daemon_pid = -1;
        if (bus_dir[0]) {
                char path[128];
                snprintf(path, sizeof(path), "%s/bus", bus_dir);
                unlink(path);
                rmdir(bus_dir);
                bus_dir[0] = 0;
        }
}

/* Starts dbus-daemon on a private socket and the mock; false if that is impossible here. */
static bool setup(void) {
        char *dir = bus_dir;
        int p[2];
        char c;

        snprintf(bus_dir, sizeof(bus_dir), "/tmp/test-sandbox-install-XXXXXX");
        if (access("/usr/bin/dbus-daemon", X_OK) < 0 || !mkdtemp(dir))
                return false;
        atexit(teardown); /* also when an assertion ends the test early */
        snprintf(bus_address, sizeof(bus_address), "unix:path=%s/bus", dir);
        daemon_pid = fork();
        if (daemon_pid == 0) {
                execl("/usr/bin/dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address",
                      bus_address, (char *) NULL);
                _exit(127);
        }
        /* Wait for the socket to appear (the daemon has no readiness pipe we could use here). */
        for (int i = 0; i < 500; i++) {
                char path[300];
                snprintf(path, sizeof(path), "%s/bus", dir);
                if (access(path, F_OK) == 0)
                        break;
                usleep(10000);
        }
        if (pipe(p) < 0)
                return false;
        mock_pid = fork();
        if (mock_pid == 0) {
                close(p[0]);
                run_mock(p[1]);
        }
        close(p[1]);
        return read(p[0], &c, 1) == 1 && close(p[0]) == 0;
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

        if (!setup()) {
                teardown();
                TEST_SKIP("no dbus-daemon to run a mock systemd on");
        }
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
