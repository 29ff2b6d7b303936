/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The plain TCP forward (--forward-listen → --forward-to HOST:PORT, or an AF_UNIX socket path such as
 * the gateway's callback socket mounted into the container): carries the agent supervisor's own mTLS
 * connection to the gateway, so the proxy never sees inside it. The destination is operator configuration,
 * not agent input, so the SSRF filter does not apply. */

#include "proxy-manager.h"

/* Takes ownership of fd (also on failure). */
int forward_new(Manager *m, int fd);
Forward *forward_free(Forward *f);
