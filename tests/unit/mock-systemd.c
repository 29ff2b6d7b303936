/* SPDX-License-Identifier: Apache-2.0 */
/* The mock systemd Manager shared by the sd-bus tests (mock-systemd.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "mock-systemd.h"
#include "string-util.h"

#define MOCK_JOB_PATH "/org/freedesktop/systemd1/job/42"
#define MOCK_UNIT_PREFIX "/org/freedesktop/systemd1/unit"

static char mock_dir[128];
static char bus_address[256];
static pid_t daemon_pid = -1, mock_pid = -1;

static char *mock_path(const char *name) {
        return strjoin(mock_dir, "/", name);
}

static void record(const char *line) {
        _cleanup_free_ char *p = mock_path("calls");
        FILE *f = p ? fopen(p, "ae") : NULL;

        if (f) {
                fprintf(f, "%s\n", line);
                fclose(f);
        }
}

/* The last "UNIT LOAD ACTIVE" line for unit in DIR/units; the defaults when there is none. */
static void unit_state(const char *unit, char *load, char *active, size_t size, const char *default_load,
                       const char *default_active) {
        _cleanup_free_ char *p = mock_path("units"), *text = NULL;
        size_t n;

        snprintf(load, size, "%s", default_load);
        snprintf(active, size, "%s", default_active);
        if (!p || read_full_file(p, 1024 * 1024, &text, &n) < 0)
                return;
        for (char *line = text, *next; line && *line; line = next) {
                char *a, *b;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                a = strchr(line, ' ');
                b = a ? strchr(a + 1, ' ') : NULL;
                if (!b)
                        continue;
                *a++ = 0;
                *b++ = 0;
                if (streq(line, unit)) {
                        snprintf(load, size, "%s", a);
                        snprintf(active, size, "%s", b);
                }
        }
}

static int mock_simple(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *line = strjoin(sd_bus_message_get_member(m), " -");

        if (line)
                record(line);
        return sd_bus_reply_method_return(m, NULL);
}

static int mock_job(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *line = NULL;
        const char *unit, *mode;
        sd_bus *bus = sd_bus_message_get_bus(m);
        int r;

        r = sd_bus_message_read(m, "ss", &unit, &mode);
        if (r < 0)
                return r;
        line = strjoin(sd_bus_message_get_member(m), " ", unit);
        if (line)
                record(line);
        if (streq(unit, "missing.service"))
                return sd_bus_error_set(error, "org.freedesktop.systemd1.NoSuchUnit", "Unit missing.service not found.");
        r = sd_bus_reply_method_return(m, "o", MOCK_JOB_PATH);
        if (r < 0)
                return r;
        /* An unrelated job first: a waiter must ignore it. */
        (void) sd_bus_emit_signal(bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved",
                                  "uoss", 7, "/org/freedesktop/systemd1/job/7", "other.service", "failed");
        return sd_bus_emit_signal(bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved",
                                  "uoss", 42, MOCK_JOB_PATH, unit, streq(unit, "bad.service") ? "failed" : "done");
}

/* Appends the ExecStart argv of one (sv) property to *line, or skips any other property. */
static int transient_property(sd_bus_message *m, char **line) {
        const char *prop, *path;
        char **argv = NULL;
        int r;

        r = sd_bus_message_read(m, "s", &prop);
        if (r < 0)
                return r;
        if (!streq(prop, "ExecStart"))
                return sd_bus_message_skip(m, "v");
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
                char *n = strjoin(*line, " ", argv[i]);
                if (!n)
                        r = -ENOMEM;
                else
                        free_and_replace(*line, n);
        }
        strv_free(argv);
        if (r >= 0)
                r = sd_bus_message_skip(m, "b");
        for (int i = 0; r >= 0 && i < 3; i++)
                r = sd_bus_message_exit_container(m);
        return r;
}

static int mock_transient(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *line = NULL;
        const char *unit, *mode;
        int r;

        r = sd_bus_message_read(m, "ss", &unit, &mode);
        if (r < 0)
                return r;
        if (streq(unit, "openshell-remove-broken.service"))
                return sd_bus_error_set(error, "org.freedesktop.systemd1.UnitExists", "refused by the mock");
        line = strjoin("StartTransientUnit ", unit, " ", mode);
        if (!line)
                return -ENOMEM;
        r = sd_bus_message_enter_container(m, 'a', "(sv)");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
                r = transient_property(m, &line);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0)
                return r;
        record(line);
        return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/2");
}

static int mock_list_by_names(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *line = strdup("ListUnitsByNames");
        size_t n;
        int r;

        r = sd_bus_message_read_strv(m, &names);
        if (r < 0)
                return r;
        n = strv_length(names);
        for (size_t i = 0; line && i < n; i++) {
                char *l = strjoin(line, " ", names[i]);
                free_and_replace(line, l);
        }
        if (line)
                record(line);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssssssouso)");
        for (size_t i = n; r >= 0 && i > 0; i--) {
                _cleanup_free_ char *path = NULL;
                char load[64], active[64];

                unit_state(names[i - 1], load, active, sizeof(load), "not-found", "inactive");
                r = sd_bus_path_encode(MOCK_UNIT_PREFIX, names[i - 1], &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(ssssssouso)", names[i - 1], "mock", load, active, "dead", "",
                                                  path, 0, "", "/");
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int mock_active_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *unit = NULL;
        char load[64], active[64];
        int r;

        r = sd_bus_path_decode(path, MOCK_UNIT_PREFIX, &unit);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        unit_state(unit, load, active, sizeof(load), "loaded", "inactive");
        return sd_bus_message_append(reply, "s", active);
}

static int mock_find_unit(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                          sd_bus_error *error) {
        *found = NULL;
        return startswith(path, MOCK_UNIT_PREFIX "/") ? 1 : 0;
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Reload", "", "", mock_simple, 0),
        SD_BUS_METHOD("Subscribe", "", "", mock_simple, 0),
        SD_BUS_METHOD("StartUnit", "ss", "o", mock_job, 0),
        SD_BUS_METHOD("StopUnit", "ss", "o", mock_job, 0),
        SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", mock_transient, 0),
        SD_BUS_METHOD("ListUnitsByNames", "as", "a(ssssssouso)", mock_list_by_names, 0),
        SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable unit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ActiveState", "s", mock_active_state, 0, 0),
        SD_BUS_VTABLE_END,
};

static _Noreturn void run_mock(int ready_fd) {
        sd_bus *bus = NULL;

        if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, bus_address) < 0 || sd_bus_set_bus_client(bus, 1) < 0 ||
            sd_bus_start(bus) < 0 ||
            sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                     manager_vtable, NULL) < 0 ||
            sd_bus_add_fallback_vtable(bus, NULL, MOCK_UNIT_PREFIX, "org.freedesktop.systemd1.Unit", unit_vtable,
                                       mock_find_unit, NULL) < 0 ||
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

void mock_systemd_stop(void) {
        if (mock_pid > 0)
                kill(mock_pid, SIGTERM), waitpid(mock_pid, NULL, 0);
        if (daemon_pid > 0)
                kill(daemon_pid, SIGTERM), waitpid(daemon_pid, NULL, 0);
        mock_pid = daemon_pid = -1;
}

int mock_systemd_start(const char *dir) {
        static bool registered = false;
        _cleanup_free_ char *socket = NULL;
        int p[2];
        char c;

        if (access("/usr/bin/dbus-daemon", X_OK) < 0)
                return -EOPNOTSUPP;
        if (strlen(dir) >= sizeof(mock_dir) - 8)
                return -ENAMETOOLONG;
        snprintf(mock_dir, sizeof(mock_dir), "%s", dir);
        snprintf(bus_address, sizeof(bus_address), "unix:path=%s/bus", dir);
        socket = mock_path("bus");
        if (!socket)
                return -ENOMEM;
        if (!registered)
                atexit(mock_systemd_stop); /* also when an assertion ends the test early */
        registered = true;
        daemon_pid = fork();
        if (daemon_pid < 0)
                return -errno;
        if (daemon_pid == 0) {
                execl("/usr/bin/dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address",
                      bus_address, (char *) NULL);
                _exit(127);
        }
        /* dbus-daemon has no readiness notification we could use here: wait for its socket (bounded). */
        for (int i = 0; i < 500 && access(socket, F_OK) < 0; i++)
                usleep(10000);
        if (access(socket, F_OK) < 0)
                return -ETIMEDOUT;
        if (pipe(p) < 0)
                return -errno;
        mock_pid = fork();
        if (mock_pid < 0)
                return -errno;
        if (mock_pid == 0) {
                close(p[0]);
                run_mock(p[1]);
        }
        close(p[1]);
        if (read(p[0], &c, 1) != 1) {
                close(p[0]);
                return -EIO;
        }
        close(p[0]);
        return 0;
}

const char *mock_systemd_address(void) {
        return bus_address;
}

int mock_systemd_set_unit(const char *unit, const char *load_state, const char *active_state) {
        _cleanup_free_ char *p = mock_path("units");
        FILE *f = p ? fopen(p, "ae") : NULL;

        if (!f)
                return p ? -errno : -ENOMEM;
        fprintf(f, "%s %s %s\n", unit, load_state, active_state);
        return fclose(f) == 0 ? 0 : -errno;
}

char *mock_systemd_calls(void) {
        _cleanup_free_ char *p = mock_path("calls");
        char *t = NULL;
        size_t n;

        if (!p || read_full_file(p, 1024 * 1024, &t, &n) < 0)
                return NULL;
        return t;
}
