/* SPDX-License-Identifier: Apache-2.0 */
/* gateway-systemd (the real SandboxOps) against a mock systemd Manager on a private dbus-daemon, as the
 * user instance: install writes the spec with its subnet and queues Reload then StartUnit; start/stop
 * queue jobs; state reads ActiveState; uninstall removes the spec and starts the transient unit that runs
 * `openshell-quadlet remove NAME --user`, and when systemd refuses that, queues StopUnit and reloads. Without a bus
 * install still writes the spec while start fails. Skips without dbus-daemon. */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "gateway-systemd.h"
#include "sandbox-spec.h"
#include "string-util.h"
#include "tests.h"

static char dir[64];
static char bus_address[256];
static char calls_path[128];
static pid_t daemon_pid = -1, mock_pid = -1;

static void record(const char *method, const char *unit) {
        FILE *f = fopen(calls_path, "ae");
        if (f) {
                fprintf(f, "%s %s\n", method, unit);
                fclose(f);
        }
}

static int mock_reload(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        record("Reload", "-");
        return sd_bus_reply_method_return(m, NULL);
}

static int mock_job(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *unit, *mode;
        int r = sd_bus_message_read(m, "ss", &unit, &mode);
        if (r < 0)
                return r;
        record(sd_bus_message_get_member(m), unit);
        return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/1");
}

/* Records "StartTransientUnit UNIT ARGV..." of the ExecStart property; refuses openshell-remove-broken. */
static int mock_transient(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *line = NULL;
        const char *unit, *mode, *prop, *path;
        int r;

        r = sd_bus_message_read(m, "ss", &unit, &mode);
        if (r < 0)
                return r;
        if (streq(unit, "openshell-remove-broken.service"))
                return sd_bus_error_set(error, "org.freedesktop.systemd1.UnitExists", "refused by the mock");
        line = strjoin(unit, " ", mode);
        r = sd_bus_message_enter_container(m, 'a', "(sv)");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &prop);
                if (r >= 0 && streq(prop, "ExecStart")) {
                        char **argv = NULL;
                        r = sd_bus_message_enter_container(m, 'v', "a(sasb)");
                        if (r >= 0)
                                r = sd_bus_message_enter_container(m, 'a', "(sasb)");
                        if (r >= 0)
                                r = sd_bus_message_enter_container(m, 'r', "sasb");
                        if (r >= 0)
                                r = sd_bus_message_read(m, "s", &path);
                        if (r >= 0)
                                r = sd_bus_message_read_strv(m, &argv);
                        for (size_t i = 0; r >= 0 && argv && argv[i]; i++) {
                                char *n = strjoin(line, " ", argv[i]);
                                free(line);
                                line = n;
                        }
                        strv_free(argv);
                        if (r >= 0)
                                r = sd_bus_message_skip(m, "b");
                        for (int i = 0; r >= 0 && i < 3; i++)
                                r = sd_bus_message_exit_container(m);
                } else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0 || !line)
                return r < 0 ? r : -ENOMEM;
        record("StartTransientUnit", line);
        return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/2");
}

static int mock_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", "active");
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Reload", "", "", mock_reload, 0),
        SD_BUS_METHOD("StartUnit", "ss", "o", mock_job, 0),
        SD_BUS_METHOD("StopUnit", "ss", "o", mock_job, 0),
        SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", mock_transient, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable unit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ActiveState", "s", mock_state, 0, 0),
        SD_BUS_VTABLE_END,
};

static void run_mock(int ready_fd) {
        _cleanup_free_ char *unit_path = NULL;
        sd_bus *bus = NULL;

        if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, bus_address) < 0 || sd_bus_set_bus_client(bus, 1) < 0 ||
            sd_bus_start(bus) < 0 ||
            sd_bus_path_encode("/org/freedesktop/systemd1/unit", "openshell-sandbox@demo.service", &unit_path) < 0 ||
            sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                     manager_vtable, NULL) < 0 ||
            sd_bus_add_object_vtable(bus, NULL, unit_path, "org.freedesktop.systemd1.Unit", unit_vtable, NULL) < 0 ||
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
        _cleanup_free_ char *cmd = NULL;
        if (mock_pid > 0)
                kill(mock_pid, SIGTERM), waitpid(mock_pid, NULL, 0);
        if (daemon_pid > 0)
                kill(daemon_pid, SIGTERM), waitpid(daemon_pid, NULL, 0);
        mock_pid = daemon_pid = -1;
        if (dir[0] && (cmd = strjoin("rm -rf ", dir)))
                (void) system(cmd);
        dir[0] = 0;
}

static int setup_dirs(void) {
        char buf[128];

        snprintf(dir, sizeof(dir), "/tmp/test-gateway-systemd-XXXXXX");
        if (!mkdtemp(dir))
                return -errno;
        atexit(teardown);
        snprintf(buf, sizeof(buf), "%s/config", dir);
        setenv("XDG_CONFIG_HOME", buf, 1);
        snprintf(buf, sizeof(buf), "%s/run", dir);
        setenv("XDG_RUNTIME_DIR", buf, 1);
        (void) mkdir(buf, 0700);
        snprintf(calls_path, sizeof(calls_path), "%s/calls", dir);
        snprintf(bus_address, sizeof(bus_address), "unix:path=%s/bus", dir);
        setenv("DBUS_SESSION_BUS_ADDRESS", bus_address, 1);
        return 0;
}

static bool start_bus(void) {
        char path[128], c;
        int p[2];

        if (access("/usr/bin/dbus-daemon", X_OK) < 0)
                return false;
        daemon_pid = fork();
        if (daemon_pid == 0) {
                execl("/usr/bin/dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address",
                      bus_address, (char *) NULL);
                _exit(127);
        }
        snprintf(path, sizeof(path), "%s/bus", dir);
        for (int i = 0; i < 500 && access(path, F_OK) < 0; i++)
                usleep(10000);
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

static SandboxSpec *demo_spec(void) {
        static const char j[] = "{\"name\":\"demo\",\"image\":\"localhost/agent:latest\",\"policy\":\"/p.json\"}";
        SandboxSpec *s = NULL;
        return sandbox_spec_from_json(j, strlen(j), &s, NULL) < 0 ? NULL : s;
}

/* Runs the loop until the mock has recorded 'want' (bounded; the outcome matters, not the time). */
static char *run_until(sd_event *e, const char *want) {
        for (int i = 0; i < 200; i++) {
                char *t = NULL;
                size_t n;
                if (read_full_file(calls_path, 65536, &t, &n) >= 0 && strstr(t, want))
                        return t;
                free(t);
                (void) sd_event_run(e, 50 * USEC_PER_MSEC);
        }
        return NULL;
}

TEST(without_bus) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(gateway_systemd_freep) GatewaySystemd *s = NULL;
        _cleanup_free_ char *err = NULL, *spec = NULL, *text = NULL;
        size_t n;

        ASSERT_OK(setup_dirs());
        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(gateway_systemd_new(e, true, &s));
        /* No dbus-daemon yet: the spec is still installed; a start cannot be. */
        ASSERT_OK(gateway_systemd_ops.install(s, demo_spec(), false, &err));
        spec = strjoin(dir, "/config/openshell/sandboxes/demo.json");
        ASSERT_OK(read_full_file(spec, 65536, &text, &n));
        ASSERT_CONTAINS(text, "\"subnet\"");
        ASSERT_TRUE(gateway_systemd_ops.start(s, "demo", &err) < 0);
        ASSERT_CONTAINS(err, "Cannot reach systemd");
}

TEST(mock_manager) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(gateway_systemd_freep) GatewaySystemd *s = NULL;
        _cleanup_free_ char *err = NULL, *calls = NULL, *state = NULL, *spec = NULL;

        if (!start_bus())
                TEST_SKIP("no dbus-daemon to run a mock systemd on");
        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(gateway_systemd_new(e, true, &s));
        ASSERT_OK(gateway_systemd_ops.install(s, demo_spec(), true, &err));
        calls = run_until(e, "StartUnit openshell-sandbox@demo.service");
        ASSERT_NOT_NULL(calls);
        /* The reload comes first, so the start finds the generated units. */
        ASSERT_TRUE(strstr(calls, "Reload -") < strstr(calls, "StartUnit"));

        ASSERT_OK(gateway_systemd_ops.state(s, "demo", &state));
        ASSERT_STREQ(state, "active");

        ASSERT_OK(gateway_systemd_ops.stop(s, "demo", &err));
        calls = mfree(calls);
        ASSERT_NOT_NULL(calls = run_until(e, "StopUnit openshell-sandbox@demo.service"));

        ASSERT_OK(gateway_systemd_ops.uninstall(s, "demo", &err));
        spec = strjoin(dir, "/config/openshell/sandboxes/demo.json");
        ASSERT_TRUE(access(spec, F_OK) < 0);
        calls = mfree(calls);
        ASSERT_NOT_NULL(calls = run_until(e, "StartTransientUnit openshell-remove-demo.service fail openshell-quadlet remove demo --user\n"));
        /* Only the transient unit: it stops, reloads and removes the Podman objects itself. */
        ASSERT_NULL(strstr(strstr(calls, "StartTransientUnit"), "StopUnit"));

        /* systemd refuses the transient unit: the units are still stopped and the spec is gone. */
        ASSERT_OK(gateway_systemd_ops.uninstall(s, "broken", &err));
        calls = mfree(calls);
        ASSERT_NOT_NULL(calls = run_until(e, "StopUnit openshell-sandbox@broken.service\nReload -\n"));
}

DEFINE_TEST_MAIN();
