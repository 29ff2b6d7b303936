/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Asynchronous name resolution on sd-event with glibc's getaddrinfo_a(): the lookup runs on glibc's
 * resolver threads with exactly getaddrinfo()'s semantics (nsswitch, /etc/hosts, resolv.conf), and its
 * completion is posted through a pipe that the event loop watches, so the loop never blocks. */

#include <netdb.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct DnsResolver DnsResolver;
typedef struct DnsQuery DnsQuery;

/* Called once per query from the event loop. error is 0 or a negative errno (-ENOENT no such host,
 * -EAGAIN temporary failure, -ENOMEM...). ai is owned by the query and valid during the call only. */
typedef void (*dns_callback_t)(DnsQuery *q, int error, const struct addrinfo *ai, void *userdata);

int dns_resolver_new(sd_event *event, DnsResolver **ret);
/* Cancels pending queries. Lookups still running on a glibc thread keep the notification pipe's write end
 * and their memory until they finish; the callbacks are never called after this. */
DnsResolver *dns_resolver_free(DnsResolver *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(DnsResolver *, dns_resolver_free);

/* Starts resolving host (a name or a literal) for TCP. 'port' is put into the results. */
int dns_resolve(DnsResolver *r, const char *host, uint16_t port, dns_callback_t cb, void *userdata,
                DnsQuery **ret);
/* Cancels a query: its callback will not be called. Returns NULL. */
DnsQuery *dns_query_cancel(DnsQuery *q);

/* Maps an EAI_* code to a negative errno. */
int dns_eai_to_errno(int eai) _const_;
