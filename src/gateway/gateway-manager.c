/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <sys/socket.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "gateway-manager.h"
#include "gateway-relay.h"
#include "log.h"

/* Connections accepted per listener wakeup, so one busy listener cannot starve the others. */
#define MANAGER_ACCEPT_BATCH 64

int manager_new(sd_event *event, const GatewayConfig *config, Manager **ret) {
        Manager *m = new0(Manager, 1);

        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(event);
        m->config = config;
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        while (m->conns)
                conn_free(m->conns);
        relay_hub_free(m->relay);
        for (size_t i = 0; i < m->n_listeners; i++) {
                sd_event_source_disable_unref(m->listeners[i].source);
                safe_close(m->listeners[i].fd);
        }
        sd_event_source_disable_unref(m->idle_timer);
        SSL_CTX_free(m->ssl_ctx);
        sd_event_unref(m->event);
        return mfree(m);
}

static void manager_accept_one(ListenerSource *l, int fd) {
        Manager *m = l->manager;
        int r;

        if (m->n_conns >= m->config->limits.connections_max) {
                if (!m->at_limit)
                        log_warning("MaxConnections=%u reached, refusing new connections.",
                                    m->config->limits.connections_max);
                m->at_limit = true;
                safe_close(fd);
                return;
        }
        m->at_limit = false;
        r = conn_new(m, fd, l->role);
        if (r < 0)
                log_warning_errno(r, "Failed to set up a connection: %m");
}

static int listener_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ListenerSource *l = userdata;

        for (unsigned i = 0; i < MANAGER_ACCEPT_BATCH; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (!ERRNO_IS_TRANSIENT(errno) && !ERRNO_IS_DISCONNECT(errno))
                                log_warning_errno(errno, "Failed to accept a connection: %m");
                        break;
                }
                manager_accept_one(l, cfd);
        }
        manager_update_idle(l->manager);
        /* Never fail: that would disable the listener. */
        return 0;
}

int manager_add_listener(Manager *m, int fd, ListenRole role) {
        ListenerSource *l;
        int r;

        if (m->n_listeners >= LISTEN_SET_MAX) {
                safe_close(fd);
                return -E2BIG;
        }
        r = fd_nonblock(fd, true);
        if (r >= 0)
                r = fd_cloexec(fd, true);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        l = &m->listeners[m->n_listeners];
        *l = (ListenerSource) { .manager = m, .fd = fd, .role = role };
        r = sd_event_add_io(m->event, &l->source, fd, EPOLLIN, listener_cb, l);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        m->n_listeners++;
        return 0;
}

static int idle_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        if (m->n_conns > 0)
                return 0;
        log_info("No connections for %llus, exiting; socket activation starts the gateway again on demand.",
                 (unsigned long long) (m->config->idle_timeout_usec / USEC_PER_SEC));
        return sd_event_exit(m->event, 0);
}

void manager_update_idle(Manager *m) {
        usec_t t = m->config->idle_timeout_usec;
        int r;

        if (!m->idle_exit || t == 0 || t == USEC_INFINITY)
                return;
        if (m->n_conns > 0) {
                (void) sd_event_source_set_enabled(m->idle_timer, SD_EVENT_OFF);
                return;
        }
        if (!m->idle_timer) {
                r = sd_event_add_time_relative(m->event, &m->idle_timer, CLOCK_MONOTONIC, t, USEC_PER_SEC, idle_cb, m);
                if (r < 0)
                        log_warning_errno(r, "Failed to arm the idle timer, staying up: %m");
                return;
        }
        if (sd_event_source_set_time_relative(m->idle_timer, t) < 0 ||
            sd_event_source_set_enabled(m->idle_timer, SD_EVENT_ONESHOT) < 0)
                log_warning("Failed to re-arm the idle timer, staying up.");
}

void manager_notify_policy(Manager *m, const char *name) {
        Conn *c = m->conns, *next;

        for (; c; c = next) {
                next = conn_next(c);
                if (conn_watches(c, name))
                        conn_watch_fire(c, true);
        }
}

bool manager_has_session(void *userdata, const char *name) {
        Manager *m = userdata;

        return m->relay && relay_hub_has_session(m->relay, name);
}
