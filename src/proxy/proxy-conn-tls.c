/* SPDX-License-Identifier: Apache-2.0 */
/* TLS inspection of a CONNECT tunnel: both legs become TlsConns and the HTTP relay runs inside. */
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "proxy-conn-internal.h"
#include "proxy-log.h"
#include "proxy-request.h"
#include "proxy-response.h"
#include "proxy-tls.h"
#include "string-util.h"

/* TlsConn callbacks: the connection cannot tell which direction woke it, so it tries both. */
void conn_tls_io(TlsConn *t, void *userdata) {
        Conn *c = userdata;
        bool up = t == c->up_tls;
        int r;

        r = up ? conn_up_read(c) : conn_client_read(c);
        if (r >= 0)
                r = up ? conn_up_write(c) : conn_client_write(c);
        (void) conn_after(c, r);
}

static void tls_ready(TlsConn *t, void *userdata) {
        Conn *c = userdata;

        /* Both legs, or only the client's for inference.local (its upstream comes per request). */
        if (++c->handshakes < (c->inference_tunnel ? 1U : 2U))
                return (void) conn_update(c);
        c->state = CONN_REQUEST;
        c->n_requests = 0;
        c->last_activity = c->head_started = now_usec(CLOCK_MONOTONIC);
        (void) conn_after(c, 0);
}

static void tls_failed(TlsConn *t, int error, void *userdata) {
        Conn *c = userdata;

        log_notice_errno(error, "event=tls_failed client=%s host=%s leg=%s reason=\"%s\"", c->client,
                         strna(c->tunnel_host), t == c->up_tls ? "upstream" : "client",
                         error == -EPROTO ? "TLS handshake or certificate verification failed" :
                         error == -ETIMEDOUT ? "handshake timed out" : "connection error");
        conn_free(c);
}

static const TlsConnCallbacks tls_callbacks = {
        .ready = tls_ready,
        .io = conn_tls_io,
        .failed = tls_failed,
};

static int start_upstream_tls(Conn *c) {
        Manager *m = c->manager;
        unsigned char ip[16];
        bool is_ip = inet_pton(AF_INET, c->tunnel_host, ip) == 1 || inet_pton(AF_INET6, c->tunnel_host, ip) == 1;
        int r;

        r = tls_conn_new(m->event, TAKE_FD(c->up_fd), m->upstream_tls, false, is_ip ? NULL : c->tunnel_host,
                         m->settings->limits.handshake_timeout, &tls_callbacks, c, &c->up_tls);
        if (r < 0)
                return r;
        if (is_ip && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls_conn_ssl(c->up_tls)), c->tunnel_host) != 1)
                return -EINVAL;
        return 0;
}

/* Replaces the tunnel with TLS on both legs: our leaf towards the client, a verified client towards the
 * upstream. Every request inside is then decided at L7. */
int conn_start_mitm(Conn *c) {
        Manager *m = c->manager;
        SSL_CTX *leaf;
        int r;

        if (!buffer_is_empty(&c->in))
                return -EPROTO; /* TLS bytes sent before our 200: cannot be handed to OpenSSL */
        r = leaf_cache_get(m->leaf_cache, c->host, &leaf);
        if (r < 0)
                return r;
        c->tunnel_host = strdup(c->host);
        if (!c->tunnel_host)
                return -ENOMEM;
        c->tunnel_port = c->port;
        c->reason = "tunnel inspected (TLS)";
        conn_log(c, NULL);
        c->io = sd_event_source_disable_unref(c->io);
        c->up_io = sd_event_source_disable_unref(c->up_io);
        r = tls_conn_new(m->event, TAKE_FD(c->fd), leaf, true, NULL, m->settings->limits.handshake_timeout,
                         &tls_callbacks, c, &c->tls);
        if (r < 0)
                return r;
        if (!c->inference_tunnel) {
                r = start_upstream_tls(c);
                if (r < 0)
                        return r;
        }
        conn_exchange_reset(c);
        http_parser_next(c->req_parser);
        c->mitm = true;
        c->handshakes = 0;
        c->state = CONN_MITM_HANDSHAKE;
        c->last_activity = now_usec(CLOCK_MONOTONIC);
        return 0;
}
