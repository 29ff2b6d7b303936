/* SPDX-License-Identifier: Apache-2.0 */
/* inference.local on a proxy connection: CONNECT inference.local:443 is answered by the proxy itself (TLS
 * with the sandbox CA towards the client, no upstream), and each recognised request — inside that tunnel or
 * as plain http://inference.local — is buffered (to rewrite "model"), then sent to the backend over an
 * upstream connection made by the same non-blocking connector as any other. The response flows back
 * through the ordinary exchange relay, so streamed (SSE) responses are never buffered. */
#include <arpa/inet.h>
#include <strings.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "proxy-conn-internal.h"
#include "string-util.h"

InferenceExchange *inference_exchange_free(InferenceExchange *x) {
        if (!x)
                return NULL;
        inference_route_unref(x->route);
        free(x->target);
        free(x->body);
        return mfree(x);
}

int conn_inference_connect(Conn *c) {
        static const char ok[] = "HTTP/1.1 200 Connection Established\r\n\r\n";
        int r;

        c->decision.layer = POLICY_LAYER_L4;
        if (!c->manager->leaf_cache)
                return conn_respond_denied_full(c, "inference_denied",
                                                "https://inference.local needs the sandbox CA (--tls-dir)", false);
        if (!buffer_is_empty(&c->in))
                return conn_respond_error(c, 400, "bad_request", "data sent before the CONNECT was answered");
        r = buffer_append(&c->out, ok, sizeof(ok) - 1);
        if (r < 0)
                return r;
        c->decision.allowed = true;
        c->reason = "inference.local (TLS terminated by the proxy)";
        c->inference_tunnel = true;
        c->status = 200;
        c->state = CONN_TUNNEL_SETUP;
        return 0;
}

static int begin_exchange(Conn *c) {
        InferenceExchange *x = c->inference;
        HttpMessage *m = http_parser_message(c->req_parser);
        _cleanup_erase_ char *head = NULL;
        size_t size;
        int r;

        r = inference_format_upstream_head(x->route, m, x->target, x->body != NULL, x->body_size, &head, &size);
        if (r < 0)
                return r;
        r = buffer_append(&c->up_out, head, size);
        if (r < 0)
                return conn_respond_error(c, 431, "header_too_large", "request head too large to forward");
        c->request_done = !x->body;
        http_parser_next(c->resp_parser);
        c->state = CONN_EXCHANGE;
        c->last_activity = now_usec(CLOCK_MONOTONIC);
        return conn_inference_feed_upstream(c);
}

int conn_inference_feed_upstream(Conn *c) {
        InferenceExchange *x = c->inference;
        size_t n;

        if (!x || !x->body || c->request_done)
                return 0;
        n = MIN(x->body_size - x->body_sent, buffer_room(&c->up_out));
        if (n > 0 && buffer_append(&c->up_out, x->body + x->body_sent, n) < 0)
                return -ENOBUFS;
        x->body_sent += n;
        c->bytes_up += n;
        if (x->body_sent == x->body_size)
                c->request_done = true;
        return 0;
}

static void backend_tls_ready(TlsConn *t, void *userdata) {
        Conn *c = userdata;

        (void) conn_after(c, c->state == CONN_CONNECTING ? begin_exchange(c) : 0);
}

static void backend_tls_failed(TlsConn *t, int error, void *userdata) {
        Conn *c = userdata;

        log_notice_errno(error, "event=tls_failed client=%s host=%s leg=inference reason=\"%s\"", c->client,
                         c->inference ? c->inference->route->host : "-",
                         error == -ETIMEDOUT ? "handshake timed out" : "TLS handshake or certificate verification failed");
        c->reason = "inference backend TLS failed";
        (void) conn_after(c, conn_respond_error(c, 502, "inference_backend_tls_failed",
                                                "TLS to the inference backend failed (handshake or certificate)"));
}

static const TlsConnCallbacks backend_tls_callbacks = {
        .ready = backend_tls_ready,
        .io = conn_tls_io,
        .failed = backend_tls_failed,
};

static int start_backend_tls(Conn *c, int fd) {
        const InferenceRoute *route = c->inference->route;
        unsigned char ip[16];
        bool is_ip = inet_pton(AF_INET, route->host, ip) == 1 || inet_pton(AF_INET6, route->host, ip) == 1;
        int r;

        if (!c->manager->upstream_tls) {
                safe_close(fd);
                return conn_respond_error(c, 502, "inference_backend_tls_failed", "no trust store for https backends");
        }
        r = tls_conn_new(c->manager->event, fd, c->manager->upstream_tls, false, is_ip ? NULL : route->host,
                         c->manager->settings->limits.handshake_timeout, &backend_tls_callbacks, c, &c->up_tls);
        if (r < 0)
                return r;
        if (is_ip && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls_conn_ssl(c->up_tls)), route->host) != 1)
                return -EINVAL;
        return 0; /* the exchange begins when the handshake completes */
}

static void backend_connected_cb(Connector *k, int fd, const char *d, void *userdata) {
        _cleanup_free_ char *detail = strdup(d); /* d lives in the connector, freed next */
        Conn *c = userdata;
        int r;

        c->connector = connector_free(c->connector);
        if (!detail)
                r = -ENOMEM;
        else if (fd < 0) {
                c->reason = "inference backend unreachable";
                r = conn_respond_error(c, 502, "inference_backend_unreachable", detail);
        } else if (c->inference->route->https)
                r = start_backend_tls(c, fd);
        else {
                c->up_fd = fd;
                r = sd_event_add_io(c->manager->event, &c->up_io, c->up_fd, 0, conn_up_io_cb, c);
                if (r >= 0)
                        r = begin_exchange(c);
        }
        (void) conn_after(c, r);
}

/* Reuses a kept-alive connection to the same backend, else connects (the backend is operator
 * configuration, like the forward's destination: no SSRF filter). */
static int start_backend(Conn *c) {
        const InferenceRoute *route = c->inference->route;
        _cleanup_free_ char *key = asprintf_safe("inference %s:%u%s", route->host, route->port, route->https ? " tls" : "");

        if (!key)
                return -ENOMEM;
        if (conn_leg_open(c, true) && streq_ptr(c->up_key, key) && buffer_is_empty(&c->up_out) && !c->up_eof)
                return begin_exchange(c);
        conn_drop_upstream(c);
        c->up_key = TAKE_PTR(key);
        c->state = CONN_CONNECTING;
        c->last_activity = now_usec(CLOCK_MONOTONIC);
        return connector_start(c->manager->event, c->manager->resolver, route->host, route->port, NULL, NULL,
                               backend_connected_cb, c, &c->connector);
}

static int deny(Conn *c, const HttpMessage *m, const char *detail) {
        return conn_respond_denied_full(c, "inference_denied", detail, !m->has_body && m->keep_alive);
}

int conn_inference_request(Conn *c, const HttpMessage *m) {
        InferenceRoute *route = c->manager->inference;
        _cleanup_free_ char *path = strndup_safe(c->target, strcspn(c->target, "?"));
        const char *expect = http_message_header(m, "Expect"), *why;
        InferenceExchange *x;
        int r;

        if (!path)
                return -ENOMEM;
        c->decision.layer = POLICY_LAYER_L7;
        c->close_after = !m->keep_alive;
        if (!route)
                return deny(c, m, "no inference route is configured for this sandbox");
        why = inference_request_denied(route->api, c->method, path);
        if (why)
                return deny(c, m, why);
        if (m->has_body && m->chunked)
                return conn_respond_error(c, 411, "length_required", "inference requests need a Content-Length");
        if (m->has_body && m->content_length > c->manager->settings->limits.inference_max_body)
                return conn_respond_error(c, 413, "payload_too_large", "request body exceeds InferenceMaxBodyBytes=");
        if (!m->has_body && streq(c->method, "POST"))
                return conn_respond_error(c, 400, "bad_request", "inference requests need a JSON body");
        x = c->inference = new0(InferenceExchange, 1);
        if (!x)
                return -ENOMEM;
        x->route = inference_route_ref(route);
        r = inference_upstream_target(route, c->target, &x->target);
        if (r < 0)
                return r == -EINVAL ? conn_respond_error(c, 400, "bad_request", "origin-form request needed") : r;
        c->decision.allowed = true;
        c->reason = "routed to the inference backend";
        if (!m->has_body)
                return start_backend(c);
        x->body_size = (size_t) m->content_length;
        x->body = malloc(x->body_size);
        if (!x->body)
                return -ENOMEM;
        /* We take the body ourselves, so a client waiting for 100 Continue gets it from us. */
        if (expect && strcasecmp(expect, "100-continue") == 0) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                r = buffer_append(&c->out, cont, sizeof(cont) - 1);
                if (r < 0)
                        return r;
        }
        c->state = CONN_INFERENCE_BODY;
        c->last_activity = now_usec(CLOCK_MONOTONIC);
        return 0;
}

static int rewrite_and_start(Conn *c) {
        InferenceExchange *x = c->inference;
        _cleanup_free_ char *err = NULL;
        char *body;
        size_t size;
        int r;

        r = inference_rewrite_body(x->body, x->body_size, x->route->model, &body, &size, &err);
        if (r == -EINVAL)
                return conn_respond_error(c, 400, "bad_request", err ?: "request body must be a JSON object");
        if (r < 0)
                return r;
        free(x->body);
        x->body = body;
        x->body_size = size;
        return start_backend(c);
}

int conn_inference_process_body(Conn *c) {
        InferenceExchange *x = c->inference;
        size_t consumed;
        int r;

        if (buffer_is_empty(&c->in))
                return 0;
        r = http_parser_feed(c->req_parser, buffer_peek(&c->in), buffer_length(&c->in), &consumed);
        if (r < 0)
                return conn_respond_error(c, 400, "bad_request", "malformed request body framing");
        if (consumed > x->body_size - x->body_filled)
                return -EBADMSG; /* Content-Length framing makes this impossible */
        memcpy(x->body + x->body_filled, buffer_peek(&c->in), consumed);
        x->body_filled += consumed;
        buffer_consume(&c->in, consumed);
        c->last_activity = now_usec(CLOCK_MONOTONIC);
        if (r != HTTP_PARSE_DONE)
                return 0;
        return rewrite_and_start(c);
}
