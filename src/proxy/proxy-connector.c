/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/un.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "proxy-connector.h"
#include "proxy-settings.h"
#include "string-util.h"

/* At most this many resolved addresses are tried. */
#define CONNECTOR_ADDRESSES_MAX 16U

struct Connector {
        sd_event *event;
        DnsQuery *query;
        connector_filter_t filter;
        void *filter_userdata;
        connector_done_t callback;
        void *userdata;
        struct sockaddr_storage addrs[CONNECTOR_ADDRESSES_MAX];
        socklen_t addr_lens[CONNECTOR_ADDRESSES_MAX];
        size_t n_addrs, next_addr;
        int fd;
        sd_event_source *io;
        sd_event_source *defer; /* AF_UNIX: the first connect() runs from the loop */
        int last_error;
        char detail[256];
};

/* Room for "unix:" and a whole sun_path in messages. */
#define SOCKADDR_STRING_MAX (sizeof(((struct sockaddr_un *) NULL)->sun_path) + 8)

const char *sockaddr_to_string(const struct sockaddr *sa, char *buf, size_t size) {
        if (sa->sa_family == AF_UNIX) {
                const struct sockaddr_un *sun = (const struct sockaddr_un *) sa;
                snprintf(buf, size, "unix:%.*s", (int) sizeof(sun->sun_path), sun->sun_path);
                return buf;
        }
        const void *a = sa->sa_family == AF_INET ? (const void *) &((const struct sockaddr_in *) sa)->sin_addr
                                                 : (const void *) &((const struct sockaddr_in6 *) sa)->sin6_addr;

        if (!IN_SET(sa->sa_family, AF_INET, AF_INET6) || !inet_ntop(sa->sa_family, a, buf, (socklen_t) size))
                snprintf(buf, size, "?");
        return buf;
}

Connector *connector_free(Connector *c) {
        if (!c)
                return NULL;
        dns_query_cancel(c->query);
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->defer);
        safe_close(c->fd);
        sd_event_unref(c->event);
        return mfree(c);
}

static void finish(Connector *c, int fd_or_error) {
        c->io = sd_event_source_disable_unref(c->io);
        c->callback(c, fd_or_error, c->detail, c->userdata);
}

static int try_next(Connector *c);

static int io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Connector *c = userdata;
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        if (err == 0) {
                c->io = sd_event_source_disable_unref(c->io);
                finish(c, TAKE_FD(c->fd));
                return 0;
        }
        c->last_error = -err;
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        (void) try_next(c);
        return 0;
}

/* Starts the next connect(); calls finish() when out of addresses. */
static int try_next(Connector *c) {
        char a[SOCKADDR_STRING_MAX];
        int r;

        while (c->next_addr < c->n_addrs) {
                size_t i = c->next_addr++;
                const struct sockaddr *sa = (const struct sockaddr *) &c->addrs[i];
                bool tcp = sa->sa_family != AF_UNIX;
                int one = 1;

                c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, tcp ? IPPROTO_TCP : 0);
                if (c->fd < 0) {
                        c->last_error = -errno;
                        continue;
                }
                if (tcp)
                        (void) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                /* AF_UNIX: 0 (connected, the socket is writable at once and io_cb finishes) or an
                 * immediate error, EAGAIN included (a full backlog): no EINPROGRESS, nothing blocks. */
                if (connect(c->fd, sa, c->addr_lens[i]) < 0 && errno != EINPROGRESS) {
                        c->last_error = -errno;
                        snprintf(c->detail, sizeof(c->detail), "connect to %s failed: %s",
                                 sockaddr_to_string(sa, a, sizeof(a)), strerror(errno));
                        c->fd = safe_close(c->fd);
                        continue;
                }
                r = sd_event_add_io(c->event, &c->io, c->fd, EPOLLOUT, io_cb, c);
                if (r < 0) {
                        c->fd = safe_close(c->fd);
                        c->last_error = r;
                        continue;
                }
                snprintf(c->detail, sizeof(c->detail), "connect to %s failed", sockaddr_to_string(sa, a, sizeof(a)));
                return 0;
        }
        /* A connect that failed later (io_cb) left "connect to X failed" without the reason. */
        if (c->last_error < 0 && endswith(c->detail, " failed"))
                snprintf(c->detail + strlen(c->detail), sizeof(c->detail) - strlen(c->detail), ": %s",
                         strerror(-c->last_error));
        finish(c, c->last_error < 0 ? c->last_error : -EHOSTUNREACH);
        return 0;
}

static void resolved_cb(DnsQuery *q, int error, const struct addrinfo *ai, void *userdata) {
        Connector *c = userdata;
        char a[SOCKADDR_STRING_MAX];
        size_t refused = 0;

        c->query = NULL; /* freed by the resolver after this call */
        if (error < 0) {
                snprintf(c->detail, sizeof(c->detail), "%s",
                         error == -ENOENT ? "host not found" : "name resolution failed");
                finish(c, error);
                return;
        }
        for (; ai && c->n_addrs < CONNECTOR_ADDRESSES_MAX; ai = ai->ai_next) {
                if (!IN_SET(ai->ai_family, AF_INET, AF_INET6) || ai->ai_addrlen > sizeof(struct sockaddr_storage))
                        continue;
                if (c->filter && !c->filter(ai->ai_addr, c->filter_userdata)) {
                        if (refused++ == 0)
                                snprintf(c->detail, sizeof(c->detail),
                                         "destination address %s is internal (loopback, link-local, metadata or "
                                         "the proxy's own network) and not in allowed_ips",
                                         sockaddr_to_string(ai->ai_addr, a, sizeof(a)));
                        continue;
                }
                memcpy(&c->addrs[c->n_addrs], ai->ai_addr, ai->ai_addrlen);
                c->addr_lens[c->n_addrs++] = ai->ai_addrlen;
        }
        if (c->n_addrs == 0) {
                if (refused == 0)
                        snprintf(c->detail, sizeof(c->detail), "host has no usable address");
                finish(c, refused > 0 ? -EPERM : -EHOSTUNREACH);
                return;
        }
        (void) try_next(c);
}

int connector_start(sd_event *event, DnsResolver *resolver, const char *host, uint16_t port,
                    connector_filter_t filter, void *filter_userdata, connector_done_t cb, void *userdata,
                    Connector **ret) {
        _cleanup_(connector_freep) Connector *c = new0(Connector, 1);
        int r;

        if (!c)
                return -ENOMEM;
        c->fd = -EBADF;
        c->event = sd_event_ref(event);
        c->filter = filter;
        c->filter_userdata = filter_userdata;
        c->callback = cb;
        c->userdata = userdata;
        r = dns_resolve(resolver, host, port, resolved_cb, c, &c->query);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

static int defer_cb(sd_event_source *s, void *userdata) {
        Connector *c = userdata;

        c->defer = sd_event_source_disable_unref(c->defer);
        (void) try_next(c);
        return 0;
}

int connector_start_unix(sd_event *event, const char *path, connector_done_t cb, void *userdata, Connector **ret) {
        _cleanup_(connector_freep) Connector *c = new0(Connector, 1);
        int r;

        if (!c)
                return -ENOMEM;
        c->fd = -EBADF;
        r = proxy_parse_unix_address(path, &c->addrs[0], &c->addr_lens[0]);
        if (r < 0)
                return r;
        c->n_addrs = 1;
        c->event = sd_event_ref(event);
        c->callback = cb;
        c->userdata = userdata;
        /* The callback may free its owner, which cannot happen before the owner holds the connector. */
        r = sd_event_add_defer(event, &c->defer, defer_cb, c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}
