/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Resolves a host (async, dns-async) and connects to the first reachable address that passes a filter
 * (the policy's SSRF check), or connects to an AF_UNIX socket path, all without blocking the loop. The owner bounds the whole attempt with its
 * own timer and frees the connector to cancel it. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "dns-async.h"
#include "macro.h"

typedef struct Connector Connector;

/* True if traffic may go to this address. */
typedef bool (*connector_filter_t)(const struct sockaddr *sa, void *userdata);

/* Called once with a connected non-blocking CLOEXEC socket (ownership passes) or a negative errno:
 * -ENOENT/-EAGAIN (name resolution), -EPERM (every address refused by the filter), or the last connect()
 * error. detail is a short human-readable explanation (valid during the call). May free the connector. */
typedef void (*connector_done_t)(Connector *c, int fd_or_error, const char *detail, void *userdata);

int connector_start(sd_event *event, DnsResolver *resolver, const char *host, uint16_t port,
                    connector_filter_t filter, void *filter_userdata, connector_done_t cb, void *userdata,
                    Connector **ret);
/* The same for an AF_UNIX stream socket at an absolute path (no DNS, no filter: the path is operator
 * configuration). connect() on a non-blocking AF_UNIX socket completes at once or fails at once;
 * -ECONNREFUSED (nobody listens), -ENOENT (no socket) and -EAGAIN (the listener's backlog is full) all
 * reach cb like a refused TCP connect, from the event loop, never from within this call. -EINVAL or
 * -ENAMETOOLONG for a path that is not an absolute socket path of at most 107 bytes. */
int connector_start_unix(sd_event *event, const char *path, connector_done_t cb, void *userdata, Connector **ret);
Connector *connector_free(Connector *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Connector *, connector_free);

/* "1.2.3.4" / "::1" / "unix:/path" for messages. */
const char *sockaddr_to_string(const struct sockaddr *sa, char *buf, size_t size);
