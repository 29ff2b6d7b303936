/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "proxy-connector.h"
#include "proxy-forward.h"
#include "proxy-log.h"
#include "proxy-tunnel.h"
#include "string-util.h"

struct Forward {
        Manager *manager;
        Forward *prev, *next;
        int fd;
        Connector *connector;
        Tunnel *tunnel;
        sd_event_source *timer;
        char client[INET6_ADDRSTRLEN];
        usec_t started;
};

static void forward_log(Forward *f, bool ok, const char *reason) {
        const Manager *m = f->manager;
        ProxyLogEntry e = {
                .sandbox = m->settings->sandbox,
                .client = f->client,
                .allowed = ok,
                .layer = POLICY_LAYER_L4,
                .method = "FORWARD",
                .host = m->forward_host,
                .port = m->forward_port,
                .policy = "forward",
                .reason = reason,
                .bytes_up = f->tunnel ? tunnel_bytes_a_to_b(f->tunnel) : 0,
                .bytes_down = f->tunnel ? tunnel_bytes_b_to_a(f->tunnel) : 0,
                .duration = now_usec(CLOCK_MONOTONIC) - f->started,
        };

        proxy_log_decision(&e);
}

Forward *forward_free(Forward *f) {
        Manager *m;

        if (!f)
                return NULL;
        m = f->manager;
        if (f->prev)
                f->prev->next = f->next;
        else if (m->forwards == f)
                m->forwards = f->next;
        if (f->next)
                f->next->prev = f->prev;
        connector_free(f->connector);
        tunnel_free(f->tunnel);
        sd_event_source_disable_unref(f->timer);
        safe_close(f->fd);
        free(f);
        manager_connection_removed(m);
        return NULL;
}

static void tunnel_done_cb(Tunnel *t, int error, void *userdata) {
        Forward *f = userdata;

        forward_log(f, true, error == 0 ? "forward closed" : error == -ETIMEDOUT ? "forward idle timeout" : "forward error");
        forward_free(f);
}

static void connected_cb(Connector *k, int fd, const char *d, void *userdata) {
        _cleanup_free_ char *detail = strdup(d); /* d lives in the connector, freed next */
        Forward *f = userdata;
        const Manager *m = f->manager;
        int r;

        f->connector = connector_free(f->connector);
        f->timer = sd_event_source_disable_unref(f->timer);
        if (fd < 0) {
                log_warning_errno(fd, "Forward to %s failed: %s", m->settings->forward_to, strna(detail));
                forward_log(f, false, strna(detail));
                forward_free(f);
                return;
        }
        r = tunnel_new(m->event, TAKE_FD(f->fd), fd, m->buffer_bytes, m->settings->limits.idle_timeout, tunnel_done_cb,
                       f, &f->tunnel);
        if (r < 0) {
                forward_log(f, false, "cannot set up the tunnel");
                forward_free(f);
        }
}

static int timeout_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        Forward *f = userdata;

        forward_log(f, false, "forward connect timed out");
        forward_free(f);
        return 0;
}

int forward_new(Manager *m, int fd) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        Forward *f;
        int r;

        f = new0(Forward, 1);
        if (!f) {
                safe_close(fd);
                return -ENOMEM;
        }
        f->manager = m;
        f->fd = fd;
        f->started = now_usec(CLOCK_MONOTONIC);
        f->next = m->forwards;
        if (f->next)
                f->next->prev = f;
        m->forwards = f;
        manager_connection_added(m);
        if (getpeername(fd, (struct sockaddr *) &ss, &len) >= 0)
                sockaddr_to_string((struct sockaddr *) &ss, f->client, sizeof(f->client));
        r = sd_event_add_time_relative(m->event, &f->timer, CLOCK_MONOTONIC, m->settings->limits.handshake_timeout, 0,
                                       timeout_cb, f);
        if (r >= 0 && m->forward_port == 0)
                r = connector_start_unix(m->event, m->forward_host, connected_cb, f, &f->connector);
        else if (r >= 0)
                r = connector_start(m->event, m->resolver, m->forward_host, m->forward_port, NULL, NULL, connected_cb, f,
                                    &f->connector);
        if (r < 0)
                forward_free(f);
        return r;
}
