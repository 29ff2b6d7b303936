/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "alloc-util.h"
#include "sandbox-install.h"
#include "sandbox-spec.h"
#include "string-util.h"
#include "time-util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"

int sandbox_bus_open(bool user, sd_bus **ret) {
        return user ? sd_bus_open_user(ret) : sd_bus_open_system(ret);
}

static int bus_error_to(const sd_bus_error *e, int r, char **ret_error) {
        if (ret_error) {
                free(*ret_error);
                *ret_error = strdup(e && e->message ? e->message : strerror(r < 0 ? -r : EIO));
        }
        return r < 0 ? r : -EIO;
}

int sandbox_umbrella_unit(const char *name, char **ret) {
        if (!sandbox_name_is_valid(name))
                return -EINVAL;
        *ret = strjoin("openshell-sandbox@", name, ".service");
        return *ret ? 0 : -ENOMEM;
}

int sandbox_daemon_reload(sd_bus *bus, char **ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "Reload");
        if (r < 0)
                return bus_error_to(NULL, r, ret_error);
        /* A reload re-runs every generator: allow it more than the default 25 s. */
        r = sd_bus_call(bus, m, SANDBOX_BUS_JOB_TIMEOUT_USEC, &error, &reply);
        if (r < 0)
                return bus_error_to(&error, r, ret_error);
        return 0;
}

typedef struct JobWait {
        const char *path;
        char *result;
} JobWait;

static int job_removed_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobWait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;
        int r;

        r = sd_bus_message_read(m, "uoss", &id, &path, &unit, &result);
        if (r < 0)
                return 0; /* not ours to judge; keep waiting */
        if (w->path && streq(path, w->path) && !w->result)
                w->result = strdup(result);
        return 0;
}

/* Calls StartUnit/StopUnit and waits for its JobRemoved signal. The match is installed before the call
 * so that a fast job cannot finish unseen. */
static int unit_job(sd_bus *bus, const char *method, const char *unit, char **ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_free_ char *job = NULL;
        JobWait w = {};
        usec_t deadline;
        const char *p;
        int r;

        r = sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", job_removed_cb, &w);
        if (r < 0)
                return bus_error_to(NULL, r, ret_error);
        /* Subscribe() makes systemd send job signals to us; harmless if already subscribed. */
        (void) sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL, NULL);

        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, method, &error, &reply, "ss", unit, "replace");
        if (r < 0)
                return bus_error_to(&error, r, ret_error);
        r = sd_bus_message_read(reply, "o", &p);
        if (r < 0)
                return bus_error_to(NULL, r, ret_error);
        job = strdup(p);
        if (!job)
                return -ENOMEM;
        w.path = job;

        deadline = now_usec(CLOCK_MONOTONIC) + SANDBOX_BUS_JOB_TIMEOUT_USEC;
        while (!w.result) {
                usec_t now = now_usec(CLOCK_MONOTONIC);

                if (now >= deadline)
                        return bus_error_to(NULL, -ETIMEDOUT, ret_error);
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return bus_error_to(NULL, r, ret_error);
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, deadline - now);
                if (r < 0)
                        return bus_error_to(NULL, r, ret_error);
        }

        _cleanup_free_ char *result = w.result;
        if (streq(result, "done"))
                return 0;
        if (ret_error) {
                free(*ret_error);
                if (asprintf(ret_error, "job for %s finished with result '%s'", unit, result) < 0)
                        *ret_error = NULL;
        }
        return -EIO;
}

int sandbox_unit_start(sd_bus *bus, const char *unit, char **ret_error) {
        return unit_job(bus, "StartUnit", unit, ret_error);
}

int sandbox_unit_stop(sd_bus *bus, const char *unit, char **ret_error) {
        return unit_job(bus, "StopUnit", unit, ret_error);
}
