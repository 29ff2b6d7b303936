/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* One structured line per decision, as key=value pairs on stderr (journald stores the container's stderr):
 *   decision=allowed|denied|audit layer=l4|l7 sandbox= client= method= host= port= path= policy= rule=
 *   reason= status= bytes_up= bytes_down= duration_ms=
 * Values with spaces or quotes are double-quoted and escaped; control characters never reach the log.
 * Paths are logged without their query string, and no header is ever logged: secrets stay out. */

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"
#include "time-util.h"

typedef struct ProxyLogEntry {
        const char *sandbox;
        const char *client;
        bool allowed;
        bool audit;
        PolicyLayer layer;
        const char *method;
        const char *host;
        uint16_t port;
        const char *path;
        const char *policy;
        const char *rule;
        const char *reason;
        unsigned status;
        uint64_t bytes_up;
        uint64_t bytes_down;
        usec_t duration;
} ProxyLogEntry;

int proxy_log_format(const ProxyLogEntry *e, char **ret);
void proxy_log_decision(const ProxyLogEntry *e);
