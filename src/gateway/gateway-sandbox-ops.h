/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the API needs from systemd, behind a small interface so that everything above it is unit-tested
 * without systemd (tests pass a fake). The real implementation (gateway-systemd.c) writes the spec where
 * openshell-sandbox-generator reads it, and talks to systemd over sd-bus without blocking the loop:
 * daemon-reload and start/stop jobs are queued asynchronously, their failures logged. */

#include <cjson/cJSON.h>

#include "sandbox-spec.h"

typedef struct SandboxOps {
        /* Installs the (validated) spec: allocates its subnet, writes it atomically into the spec directory,
         * queues a daemon-reload (and then a start of the umbrella unit if start). */
        int (*install)(void *userdata, SandboxSpec *spec, bool start, char **ret_error);
        /* Queues a stop of the umbrella unit, removes the spec, queues a daemon-reload. */
        int (*uninstall)(void *userdata, const char *name, char **ret_error);
        int (*start)(void *userdata, const char *name, char **ret_error);
        int (*stop)(void *userdata, const char *name, char **ret_error);
        /* The umbrella unit's ActiveState ("active", "inactive", "failed", ...), or -errno. */
        int (*state)(void *userdata, const char *name, char **ret_state);
        /* The last 'lines' journal entries of the sandbox's units, oldest first (gateway-journal.h). */
        int (*logs)(void *userdata, const char *name, unsigned lines, cJSON **ret);
        /* Optional (NULL: only 'state' is known). The ActiveState ("active", "activating", "failed", ...)
         * of each of 'units' (full unit names) in one round trip: *ret_states is a strv in the same order,
         * "unknown" for a unit systemd has not loaded (not generated yet). -errno when systemd cannot be
         * asked. */
        int (*unit_states)(void *userdata, char *const *units, char ***ret_states);
} SandboxOps;
