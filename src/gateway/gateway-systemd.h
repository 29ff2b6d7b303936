/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The real SandboxOps: specs into the generator's spec directory, systemd over sd-bus on the gateway's
 * event loop. Reload and start/stop are queued asynchronously (the API answers 202 for start/stop) and
 * their failures are logged with the sandbox name; nothing here waits for a job. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "gateway-sandbox-ops.h"
#include "macro.h"
#include "time-util.h"

/* How long the one synchronous call (reading the units' ActiveStates for GET) may take. */
#define GATEWAY_BUS_STATE_TIMEOUT_USEC (1 * USEC_PER_SEC)

typedef struct GatewaySystemd GatewaySystemd;

int gateway_systemd_new(sd_event *event, bool user, GatewaySystemd **ret);
GatewaySystemd *gateway_systemd_free(GatewaySystemd *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(GatewaySystemd *, gateway_systemd_free);

extern const SandboxOps gateway_systemd_ops;
