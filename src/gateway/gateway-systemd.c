/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "alloc-util.h"
#include "fileio.h"
#include "gateway-journal.h"
#include "gateway-systemd.h"
#include "log.h"
#include "sandbox-install.h"
#include "sandbox-store.h"
#include "string-util.h"
#include "time-util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"


struct GatewaySystemd {
        sd_event *event;
        bool user;
        sd_bus *bus;
        SandboxPaths paths;
};

int gateway_systemd_new(sd_event *event, bool user, GatewaySystemd **ret) {
        _cleanup_(gateway_systemd_freep) GatewaySystemd *s = new0(GatewaySystemd, 1);
        int r;

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->user = user;
        r = sandbox_paths_get(user, &s->paths);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

GatewaySystemd *gateway_systemd_free(GatewaySystemd *s) {
        if (!s)
                return NULL;
        sd_bus_flush_close_unref(s->bus);
        sd_event_unref(s->event);
        sandbox_paths_done(&s->paths);
        return mfree(s);
}

/* Connects on first use and attaches to the loop, so async replies are dispatched there. */
static int systemd_bus(GatewaySystemd *s, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (s->bus && sd_bus_is_open(s->bus) > 0) {
                *ret = s->bus;
                return 0;
        }
        s->bus = sd_bus_flush_close_unref(s->bus);
        r = sandbox_bus_open(s->user, &bus);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(bus, s->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        *ret = s->bus = TAKE_PTR(bus);
        return 0;
}

/* Hands a pending call's slot to the bus: its destroy callback frees the userdata, whether the reply came
 * or the bus went away first (at exit, or when systemd_bus() reconnects), so nothing leaks. */
static void slot_float(sd_bus_slot *slot, sd_bus_destroy_t destroy) {
        (void) sd_bus_slot_set_destroy_callback(slot, destroy);
        (void) sd_bus_slot_set_floating(slot, true);
        sd_bus_slot_unref(slot);
}

/* The reply handler of a queued call: userdata is an allocated "what (sandbox)" string for the log, freed
 * with the slot. */
static int job_reply_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *what = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e)
                log_warning("%s failed: %s", what, e->message ?: e->name);
        else
                log_debug("%s queued.", what);
        return 0;
}

static int systemd_queue(GatewaySystemd *s, const char *method, const char *unit, char **ret_error) {
        _cleanup_free_ char *what = NULL;
        sd_bus_slot *slot = NULL;
        sd_bus *bus;
        int r;

        r = systemd_bus(s, &bus);
        if (r < 0)
                goto fail;
        what = unit ? strjoin(method, " ", unit) : strdup(method);
        if (!what)
                return -ENOMEM;
        if (unit)
                r = sd_bus_call_method_async(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, method, job_reply_cb, what, "ss",
                                             unit, "replace");
        else
                r = sd_bus_call_method_async(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, method, job_reply_cb, what, "");
        if (r < 0)
                goto fail;
        TAKE_PTR(what);
        slot_float(slot, free);
        return 0;
fail:
        if (ret_error)
                *ret_error = asprintf_safe("Cannot reach systemd (%s bus): %s", s->user ? "user" : "system", strerror(-r));
        return r;
}

/* As openshell-quadlet install: the shared store allocates and pins the subnet. Takes spec. */
static int systemd_write_spec(GatewaySystemd *s, SandboxSpec *spec, char **ret_error) {
        return sandbox_store_install(s->paths.spec_dir, spec, NULL, NULL, ret_error);
}

static int systemd_install(void *userdata, SandboxSpec *spec, bool start, char **ret_error) {
        GatewaySystemd *s = userdata;
        _cleanup_free_ char *unit = NULL, *spec_name = strdup(spec->name);
        int r;

        r = spec_name ? sandbox_umbrella_unit(spec->name, &unit) : -ENOMEM;
        if (r < 0) {
                sandbox_spec_free(spec);
                return r;
        }
        r = systemd_write_spec(s, spec, ret_error);
        if (r < 0)
                return r;
        /* The spec is the source of truth: without a reachable systemd (a host without it, a test) the
         * sandbox is installed and the next daemon-reload picks it up. Only an asked-for start fails. */
        r = systemd_queue(s, "Reload", NULL, NULL);
        if (r < 0) {
                log_warning_errno(r, "Sandbox '%s' installed, but systemd is not reachable for daemon-reload: %m", spec_name);
                if (!start)
                        return 0;
        }
        /* Calls on one connection are processed in order: the start follows the reload. */
        if (start)
                r = systemd_queue(s, "StartUnit", unit, ret_error);
        return r;
}

/* The unit stop leaves Podman's objects behind: the sandbox's network and its TLS volume, which holds the
 * MITM CA key (Quadlet removes containers on stop, networks and volumes never before Podman 5.5).
 * openshell-quadlet remove stops the umbrella unit and waits, reloads and deletes them; the gateway
 * cannot run Podman inside its own sandbox, so systemd runs it as a transient unit. The spec is already
 * gone, so its "no spec installed" exit (4) is success. */
typedef struct RemoveJob {
        GatewaySystemd *s;
        char *name;
} RemoveJob;

static void systemd_stop_and_reload(GatewaySystemd *s, const char *name) {
        _cleanup_free_ char *unit = NULL;

        if (sandbox_umbrella_unit(name, &unit) >= 0 && systemd_queue(s, "StopUnit", unit, NULL) < 0)
                log_warning("Cannot stop %s; its spec is removed anyway.", unit);
        /* If systemd is not reachable now, its next daemon-reload catches up. */
        (void) systemd_queue(s, "Reload", NULL, NULL);
}

static int remove_reply_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        RemoveJob *j = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e) {
                log_warning("Cannot start openshell-quadlet remove for sandbox '%s' (%s); stopping its units only, "
                            "its Podman network and volume stay until 'openshell-quadlet remove %s'.",
                            j->name, e->message ?: e->name, j->name);
                systemd_stop_and_reload(j->s, j->name);
        } else
                log_debug("Removal of sandbox '%s' queued.", j->name);
        return 0;
}

static void remove_job_free(void *userdata) {
        RemoveJob *j = userdata;

        free(j->name);
        free(j);
}

static int append_exec_start(sd_bus_message *m, bool user, const char *name) {
        int r;

        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "ExecStart");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sasb");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", OPENSHELL_QUADLET_PATH);
        if (r >= 0)
                r = user ? sd_bus_message_append(m, "as", 4, "openshell-quadlet", "remove", name, "--user")
                         : sd_bus_message_append(m, "as", 3, "openshell-quadlet", "remove", name);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", false);
        for (int i = 0; r >= 0 && i < 4; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

static int remove_message(sd_bus *bus, bool user, const char *name, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *unit = strjoin("openshell-remove-", name, ".service"),
                            *desc = strjoin("openshell: remove sandbox ", name);
        int r;

        if (!unit || !desc)
                return -ENOMEM;
        r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)", "Description", "s", desc, "Type", "s", "oneshot",
                                          "CollectMode", "s", "inactive-or-failed", "SuccessExitStatus", "(aiai)", 1,
                                          4, 0);
        if (r >= 0)
                r = append_exec_start(m, user, name);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

static int systemd_queue_remove(GatewaySystemd *s, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus_slot *slot = NULL;
        RemoveJob *j;
        sd_bus *bus;
        int r;

        r = systemd_bus(s, &bus);
        if (r < 0)
                return r;
        r = remove_message(bus, s->user, name, &m);
        if (r < 0)
                return r;
        j = new0(RemoveJob, 1);
        if (!j || !(j->name = strdup(name)))
                return free(j), -ENOMEM;
        j->s = s;
        r = sd_bus_call_async(bus, &slot, m, remove_reply_cb, j, 0);
        if (r < 0) {
                remove_job_free(j);
                return r;
        }
        slot_float(slot, remove_job_free);
        return 0;
}

static int systemd_uninstall(void *userdata, const char *name, char **ret_error) {
        GatewaySystemd *s = userdata;
        _cleanup_free_ char *path = strjoin(s->paths.spec_dir, "/", name, ".json");
        int r;

        if (!path)
                return -ENOMEM;
        r = unlink_if_exists(path);
        if (r < 0)
                return r;
        r = systemd_queue_remove(s, name);
        if (r < 0) {
                log_warning_errno(r, "Cannot queue the removal of sandbox '%s' (%m); stopping its units only.", name);
                systemd_stop_and_reload(s, name);
        }
        return 0;
}

static int systemd_start_stop(GatewaySystemd *s, const char *name, const char *method, char **ret_error) {
        _cleanup_free_ char *unit = NULL;
        int r = sandbox_umbrella_unit(name, &unit);
        return r < 0 ? r : systemd_queue(s, method, unit, ret_error);
}

static int systemd_start(void *userdata, const char *name, char **ret_error) {
        return systemd_start_stop(userdata, name, "StartUnit", ret_error);
}

static int systemd_stop(void *userdata, const char *name, char **ret_error) {
        return systemd_start_stop(userdata, name, "StopUnit", ret_error);
}

static int systemd_state(void *userdata, const char *name, char **ret_state) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *unit = NULL, *path = NULL;
        GatewaySystemd *s = userdata;
        uint64_t old = 0;
        sd_bus *bus;
        int r;

        r = sandbox_umbrella_unit(name, &unit);
        if (r < 0)
                return r;
        r = systemd_bus(s, &bus);
        if (r < 0)
                return r;
        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
        if (r < 0)
                return r;
        (void) sd_bus_get_method_call_timeout(bus, &old);
        (void) sd_bus_set_method_call_timeout(bus, GATEWAY_BUS_STATE_TIMEOUT_USEC);
        r = sd_bus_get_property_string(bus, SD_DEST, path, "org.freedesktop.systemd1.Unit", "ActiveState", &error,
                                       ret_state);
        (void) sd_bus_set_method_call_timeout(bus, old);
        return r;
}

/* One entry of ListUnitsByNames: a unit systemd has not loaded (no such file: "not-found") is "unknown",
 * unless it still runs (its file went away under it). */
static const char *unit_state_of(const char *load, const char *active) {
        if (streq(load, "loaded") || !streq(active, "inactive"))
                return active;
        return "unknown";
}

/* Manager.ListUnitsByNames (systemd >= 227): every unit in one call. The reply is matched by name: systemd
 * skips names it considers invalid. */
static int systemd_unit_states(void *userdata, char *const *units, char ***ret_states) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_strv_free_ char **states = NULL;
        size_t n = strv_length(units);
        GatewaySystemd *s = userdata;
        const char *id, *load, *active, *skip_s, *skip_o;
        uint32_t skip_u;
        sd_bus *bus;
        int r;

        states = new0(char *, n + 1);
        if (!states)
                return -ENOMEM;
        r = systemd_bus(s, &bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "ListUnitsByNames");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, (char **) units);
        if (r >= 0)
                r = sd_bus_call(bus, m, GATEWAY_BUS_STATE_TIMEOUT_USEC, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssssssouso)", &id, &skip_s, &load, &active, &skip_s,
                                                  &skip_s, &skip_o, &skip_u, &skip_s, &skip_o)) > 0)
                for (size_t i = 0; i < n; i++)
                        if (!states[i] && streq(units[i], id)) {
                                states[i] = strdup(unit_state_of(load, active));
                                if (!states[i])
                                        return -ENOMEM;
                                break;
                        }
        if (r < 0)
                return log_debug_errno(r, "ListUnitsByNames failed: %s", error.message ?: strerror(-r));
        for (size_t i = 0; i < n; i++)
                if (!states[i] && !(states[i] = strdup("unknown")))
                        return -ENOMEM;
        *ret_states = TAKE_PTR(states);
        return 0;
}

static int systemd_logs(void *userdata, const char *name, unsigned lines, cJSON **ret) {
        GatewaySystemd *s = userdata;
        return journal_read_sandbox(name, s->user, lines, NULL, ret);
}

const SandboxOps gateway_systemd_ops = {
        .install = systemd_install,
        .uninstall = systemd_uninstall,
        .start = systemd_start,
        .stop = systemd_stop,
        .state = systemd_state,
        .logs = systemd_logs,
        .unit_states = systemd_unit_states,
};
