/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-journal.h>

#include "alloc-util.h"
#include "gateway-journal.h"
#include "sandbox-spec.h"
#include "string-util.h"


/* Field value of the current entry as a new string (without "FIELD="), cut at max bytes. */
static char *entry_field(sd_journal *j, const char *field, size_t max) {
        const void *data;
        size_t len, fl = strlen(field);

        if (sd_journal_get_data(j, field, &data, &len) < 0 || len <= fl + 1)
                return NULL;
        return strndup_safe((const char *) data + fl + 1, MIN(len - fl - 1, max));
}

static int add_matches(sd_journal *j, const char *name, bool user) {
        static const char *const prefixes[] = { "openshell-agent-", "openshell-proxy-", "openshell-sandbox@" };
        const char *field = user ? "_SYSTEMD_USER_UNIT=" : "_SYSTEMD_UNIT=";
        int r;

        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
                _cleanup_free_ char *m = strjoin(field, prefixes[i], name, ".service");
                if (!m)
                        return -ENOMEM;
                r = sd_journal_add_match(j, m, 0);
                if (r < 0)
                        return r;
                /* Podman's conmon logs for the container under the unit too; one disjunction covers it. */
                r = sd_journal_add_disjunction(j);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Podman's own bookkeeping under the unit (container create/init/start, image mount, conmon warnings)
 * is not the sandbox's output: logs show what the proxy and the workload said. */
static bool entry_is_podman_noise(sd_journal *j) {
        _cleanup_free_ char *ident = entry_field(j, "SYSLOG_IDENTIFIER", 64);

        return ident && (streq(ident, "podman") || streq(ident, "conmon"));
}

/* Returns 1 when an entry was added, 0 when it was skipped. */
static int entry_to_json(sd_journal *j, bool user, cJSON *arr) {
        _cleanup_free_ char *msg = NULL, *unit = NULL;
        char when[40] = "";
        uint64_t t = 0;
        struct tm tm;
        time_t sec;
        cJSON *o;

        if (entry_is_podman_noise(j))
                return 0;
        msg = entry_field(j, "MESSAGE", JOURNAL_MESSAGE_MAX);
        unit = entry_field(j, user ? "_SYSTEMD_USER_UNIT" : "_SYSTEMD_UNIT", 256);
        /* One entry, one line: container output keeps its trailing newline. */
        if (msg)
                msg[strcspn(msg, "\r\n")] = 0;
        /* RFC 3339 in UTC with microseconds: JSON numbers this large print in exponent form. */
        if (sd_journal_get_realtime_usec(j, &t) >= 0) {
                sec = (time_t) (t / 1000000);
                if (gmtime_r(&sec, &tm) && strftime(when, 24, "%Y-%m-%dT%H:%M:%S", &tm) > 0)
                        snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%06uZ", (unsigned) (t % 1000000));
        }
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "time", when) || !cJSON_AddStringToObject(o, "unit", strempty(unit)) ||
            !cJSON_AddStringToObject(o, "message", strempty(msg))) {
                cJSON_Delete(o);
                return -ENOMEM;
        }
        /* Walking backwards from the tail: prepend keeps the result oldest-first. */
        return cJSON_InsertItemInArray(arr, 0, o) ? 1 : -ENOMEM;
}

int journal_read_sandbox(const char *name, bool user, unsigned lines, const char *journal_dir, cJSON **ret) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        cJSON *arr;
        int r;

        if (!sandbox_name_is_valid(name) || lines == 0 || lines > JOURNAL_LINES_MAX)
                return -EINVAL;
        if (journal_dir)
                r = sd_journal_open_directory(&j, journal_dir, 0);
        else
                r = sd_journal_open(&j, user ? SD_JOURNAL_CURRENT_USER : SD_JOURNAL_SYSTEM);
        if (r < 0)
                return r;
        r = add_matches(j, name, user);
        if (r < 0)
                return r;
        arr = cJSON_CreateArray();
        if (!arr)
                return -ENOMEM;
        r = sd_journal_seek_tail(j);
        for (unsigned n = 0; r >= 0 && n < lines;) {
                r = sd_journal_previous(j);
                if (r <= 0)
                        break;
                r = entry_to_json(j, user, arr);
                if (r > 0)
                        n++;
        }
        if (r < 0) {
                cJSON_Delete(arr);
                return r;
        }
        *ret = arr;
        return 0;
}
