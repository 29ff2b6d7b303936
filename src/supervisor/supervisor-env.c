/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "alloc-util.h"
#include "relay-proto.h"
#include "string-util.h"
#include "supervisor-env.h"

static const char *const pinned[] = { SUPERVISOR_ENV_PINNED };

/* The supervisor's own: socket activation and notification, its log level, the client key path. */
static const char *const private_vars[] = {
        "NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "WATCHDOG_PID", "WATCHDOG_USEC",
        "OPENSHELL_LOG_LEVEL", "OPENSHELL_TLS_KEY", "OPENSHELL_POLICY_FILE",
};

static size_t key_len(const char *kv) {
        const char *eq = strchr(kv, '=');
        return eq ? (size_t) (eq - kv) : strlen(kv);
}

static bool key_in(const char *kv, const char *const *keys, size_t n) {
        size_t l = key_len(kv);

        for (size_t i = 0; i < n; i++)
                if (strlen(keys[i]) == l && strncmp(kv, keys[i], l) == 0)
                        return true;
        return false;
}

const char *supervisor_env_get(char *const *env, const char *key) {
        size_t l = strlen(key);

        for (char *const *e = env; e && *e; e++)
                if (strncmp(*e, key, l) == 0 && (*e)[l] == '=')
                        return *e + l + 1;
        return NULL;
}

/* Sets kv in *l, replacing an entry with the same key. */
static int env_set(char ***l, const char *kv) {
        size_t kl = key_len(kv);

        for (char **e = *l; e && *e; e++)
                if (key_len(*e) == kl && strncmp(*e, kv, kl) == 0) {
                        char *c = strdup(kv);
                        if (!c)
                                return -ENOMEM;
                        free_and_replace(*e, c);
                        return 0;
                }
        return strv_extend(l, kv);
}

int supervisor_env_build(char *const *base, char *const *overrides, bool tty, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (char *const *e = base; e && *e; e++) {
                if (!strchr(*e, '=') || key_in(*e, private_vars, ELEMENTSOF(private_vars)))
                        continue;
                r = env_set(&l, *e);
                if (r < 0)
                        return r;
        }
        for (char *const *e = overrides; e && *e; e++) {
                if (!relay_env_entry_is_valid(*e) || key_in(*e, private_vars, ELEMENTSOF(private_vars)))
                        continue;
                /* A pinned variable keeps the container's value when it has one. */
                if (key_in(*e, pinned, ELEMENTSOF(pinned)) && supervisor_env_get(l, strndupa(*e, key_len(*e))))
                        continue;
                r = env_set(&l, *e);
                if (r < 0)
                        return r;
        }
        if (!supervisor_env_get(l, "PATH") && strv_extend(&l, "PATH=" SUPERVISOR_DEFAULT_PATH) < 0)
                return -ENOMEM;
        if (tty && !supervisor_env_get(l, "TERM") && strv_extend(&l, "TERM=xterm-256color") < 0)
                return -ENOMEM;
        if (!l && !(l = new0(char *, 1)))
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}
