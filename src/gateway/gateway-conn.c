/* SPDX-License-Identifier: Apache-2.0 */
/* One API connection: TLS (or plaintext with DisableTLS=yes) via tls-conn, HTTP/1.1 requests parsed with
 * http-message (llhttp), handled by gateway-api, answered with JSON. Keep-alive and pipelining are
 * supported; requests are processed one at a time. Every client-controlled size and time is bounded by
 * [Limits] in gateway.conf. Internal functions return a negative value when the connection must be
 * closed; only the top-level event callbacks free it. */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "gateway-manager.h"
#include "gateway-relay.h"
#include "http-message.h"
#include "json-util.h"
#include "string-util.h"
#include "log.h"
#include "tls-conn.h"
#include "tls-server.h"

/* Bytes read from the socket per call. */
#define CONN_READ_CHUNK (16U * 1024U)
/* Reads per wakeup before a connection yields to the others. */
#define CONN_READS_PER_WAKEUP 16U

typedef enum ConnState {
        CONN_HANDSHAKE,
        CONN_READ,  /* waiting for / reading a request */
        CONN_WATCH, /* a policy watch is parked */
        CONN_WRITE, /* sending a response */
        CONN_RELAY, /* upgraded to the relay protocol: I/O goes to 'relay' */
        _CONN_STATE_MAX,
        _CONN_STATE_INVALID = -EINVAL,
} ConnState;

struct Conn {
        Manager *manager;
        Conn *prev, *next;
        ListenRole role;
        ConnState state;
        TlsConn *tls;
        sd_event_source *timer;
        sd_event_source *resume; /* continues with buffered input from the top of the loop */

        Identity identity;
        bool has_identity;

        HttpParser *parser;
        HttpMessage *request; /* owned by the parser */
        bool in_body;
        char *in; /* bytes read but not yet consumed by the parser (pipelined requests) */
        size_t in_len;
        char *body;
        size_t body_len;
        bool request_started;

        char *out;
        size_t out_len, out_off;
        bool close_after;

        char watch_name[IDENTITY_NAME_MAX];
        uint64_t watch_revision;

        RelayPeer *relay;
};

static int conn_process(Conn *c);

Conn *conn_next(Conn *c) {
        return c->next;
}

bool conn_watches(const Conn *c, const char *name) {
        return c->state == CONN_WATCH && streq(c->watch_name, name);
}

Conn *conn_free(Conn *c) {
        Manager *m;

        if (!c)
                return NULL;
        m = c->manager;
        if (c->prev)
                c->prev->next = c->next;
        else
                m->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        m->n_conns--;
        sd_event_source_disable_unref(c->timer);
        sd_event_source_disable_unref(c->resume);
        gateway_relay_peer_free(c->relay);
        tls_conn_free(c->tls);
        http_parser_free(c->parser);
        free(c->in);
        free(c->body);
        free(c->out);
        free(c);
        manager_update_idle(m);
        return NULL;
}

static int conn_arm_timer(Conn *c, usec_t usec) {
        int r;

        if (usec == 0 || usec == USEC_INFINITY)
                return sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        r = sd_event_source_set_time_relative(c->timer, usec);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

/* Reason phrases (RFC 9110 15) for the statuses the API uses that the shared table lacks. */
static const char *status_reason(unsigned status) {
        switch (status) {
        case 201:
                return "Created";
        case 202:
                return "Accepted";
        case 409:
                return "Conflict";
        case 411:
                return "Length Required";
        case 507:
                return "Insufficient Storage";
        default:
                return http_status_reason(status);
        }
}

static int conn_queue(Conn *c, unsigned status, const char *extra_headers, const char *body) {
        size_t n = strlen(body);
        char *out;

        out = asprintf_safe("HTTP/1.1 %u %s\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: %zu\r\n"
                            "Cache-Control: no-store\r\n"
                            "%s%s"
                            "\r\n%s\n",
                            status, status_reason(status), n + 1, strempty(extra_headers),
                            c->close_after ? "Connection: close\r\n" : "", body);
        if (!out)
                return -ENOMEM;
        free_and_replace(c->out, out);
        c->out_len = strlen(c->out);
        c->out_off = 0;
        c->state = CONN_WRITE;
        return 0;
}

static int conn_flush(Conn *c);

static int conn_respond(Conn *c, ApiResponse *r) {
        _cleanup_free_ char *body = r->json ? json_print(r->json, false) : NULL;
        int e;

        if (!body)
                return -ENOMEM;
        e = conn_queue(c, r->status, r->status == 405 ? "Allow: GET, POST, PUT, DELETE\r\n" : NULL, body);
        if (e < 0)
                return e;
        e = conn_arm_timer(c, c->manager->config->limits.request_timeout_usec);
        if (e < 0)
                return e;
        return conn_flush(c);
}

/* A protocol-level error before the API saw the request; the connection closes afterwards. */
static int conn_fail_request(Conn *c, unsigned status, const char *code, const char *message) {
        ApiResponse r = {};
        int e;

        c->close_after = true;
        e = api_error(&r, status, code, message);
        if (e >= 0)
                e = conn_respond(c, &r);
        api_response_done(&r);
        return e;
}

static void conn_log_request(Conn *c, const ApiResponse *r) {
        char who[80] = "unknown";

        if (c->has_identity)
                identity_to_string(&c->identity, who, sizeof(who));
        log_debug("%s %s by %s on %s listener: %u", c->request->method, c->request->target, who,
                  listen_role_to_string(c->role), r->status);
}

static int conn_dispatch(Conn *c) {
        Manager *m = c->manager;
        ApiResponse r = {};
        ApiRequest req = {
                .method = c->request->method,
                .target = c->request->target,
                .body = c->body ?: "",
                .body_size = c->body_len,
                .identity = c->has_identity ? &c->identity : NULL,
                .role = c->role,
        };
        char notify[IDENTITY_NAME_MAX];
        int e;

        c->close_after = !c->request->keep_alive;
        e = gateway_relay_dispatch(m, c, c->tls, c->request, req.identity, c->role, c->in, c->in_len, &c->relay, &r);
        if (e == RELAY_DISPATCH_TAKEN) {
                c->state = CONN_RELAY;
                c->in_len = 0; /* handed to the relay */
                return conn_arm_timer(c, 0);
        }
        if (e == RELAY_DISPATCH_NONE)
                e = api_handle(&m->api, &req, &r);
        if (e < 0) {
                api_response_done(&r);
                return e;
        }
        if (r.watch) {
                usec_t timeout = r.watch_timeout ?: 1;

                c->state = CONN_WATCH;
                strcpy(c->watch_name, r.watch_name);
                c->watch_revision = r.watch_revision;
                api_response_done(&r);
                /* Keep reading so that a client hanging up ends the watch at once. */
                e = tls_conn_set_interest(c->tls, true, false);
                return e < 0 ? e : conn_arm_timer(c, timeout);
        }
        conn_log_request(c, &r);
        strcpy(notify, r.notify_policy);
        e = conn_respond(c, &r);
        api_response_done(&r);
        /* After our own response is queued: waking watchers may free other connections, never this one. */
        if (!isempty(notify))
                manager_notify_policy(m, notify);
        return e;
}

void conn_watch_fire(Conn *c, bool changed) {
        ApiResponse r = {};
        int e;

        if (c->state != CONN_WATCH)
                return;
        e = api_policy_response(&c->manager->api, c->watch_name, changed, &r);
        if (e >= 0)
                e = conn_respond(c, &r);
        api_response_done(&r);
        if (e < 0)
                conn_free(c);
}

/* The head is complete: check what the API cannot accept before reading a body. */
static int conn_on_head(Conn *c) {
        const GatewayLimits *l = &c->manager->config->limits;

        c->request = http_parser_message(c->parser);
        c->in_body = true;
        if (c->request->chunked)
                return conn_fail_request(c, 411, "length_required", "Send the body with a Content-Length");
        if (c->request->content_length != HTTP_CONTENT_LENGTH_NONE && c->request->content_length > l->body_bytes_max)
                return conn_fail_request(c, 413, "payload_too_large", "The request body exceeds MaxBodyBytes=");
        if (c->request->has_body && c->request->content_length != HTTP_CONTENT_LENGTH_NONE) {
                c->body = malloc(c->request->content_length + 1);
                if (!c->body)
                        return -ENOMEM;
        }
        return 1;
}

static int conn_feed(Conn *c) {
        size_t consumed = 0;
        int r;

        r = http_parser_feed(c->parser, c->in, c->in_len, &consumed);
        if (r == -EMSGSIZE)
                return conn_fail_request(c, 431, "header_too_large", "The request head exceeds MaxHeaderBytes=/MaxHeaders=");
        if (r == -EBADMSG)
                return conn_fail_request(c, 400, "bad_request", "Malformed HTTP request");
        if (r < 0)
                return r;
        if (c->in_body && c->body && consumed > 0) {
                memcpy(c->body + c->body_len, c->in, consumed);
                c->body_len += consumed;
                c->body[c->body_len] = 0;
        }
        memmove(c->in, c->in + consumed, c->in_len - consumed);
        c->in_len -= consumed;

        if (r == HTTP_PARSE_HEAD) {
                r = conn_on_head(c);
                if (r <= 0 || c->state != CONN_READ)
                        return r;
                if (!c->request->has_body)
                        return conn_dispatch(c);
                return 1;
        }
        if (r == HTTP_PARSE_DONE)
                return conn_dispatch(c);
        return 0; /* need more */
}

/* Feeds buffered input while a request can make progress. */
static int conn_process(Conn *c) {
        int r;

        while (c->state == CONN_READ && c->in_len > 0) {
                c->request_started = true;
                r = conn_feed(c);
                if (r <= 0)
                        return r;
        }
        return 0;
}

static int conn_read(Conn *c) {
        size_t max = c->manager->config->limits.header_bytes_max + CONN_READ_CHUNK;
        ssize_t n;

        for (unsigned i = 0;; i++) {
                /* Fairness: a client that keeps the socket full yields to the others now and then. */
                if (i >= CONN_READS_PER_WAKEUP)
                        return sd_event_source_set_enabled(c->resume, SD_EVENT_ONESHOT);
                if (c->in_len >= max) {
                        if (c->state == CONN_READ)
                                return conn_fail_request(c, 431, "header_too_large", "Too much pipelined input");
                        /* Stop reading until the current request is answered (level-triggered epoll would
                         * otherwise spin on the unread bytes). */
                        return tls_conn_set_interest(c->tls, false, false);
                }
                if (!c->in) {
                        c->in = malloc(max);
                        if (!c->in)
                                return -ENOMEM;
                }
                n = tls_conn_read(c->tls, c->in + c->in_len, max - c->in_len);
                if (n == -EAGAIN)
                        return 0;
                if (n <= 0)
                        return n == 0 ? -ECONNRESET : (int) n;
                c->in_len += (size_t) n;
                if (c->state == CONN_READ) {
                        int r;
                        if (!c->request_started)
                                (void) conn_arm_timer(c, c->manager->config->limits.request_timeout_usec);
                        r = conn_process(c);
                        if (r < 0 || IN_SET(c->state, CONN_WRITE, CONN_RELAY))
                                return r;
                }
        }
}

/* The response is out: prepare for the next request on the connection. */
static int conn_next_request(Conn *c) {
        int r;

        http_parser_next(c->parser);
        c->request = NULL;
        c->in_body = false;
        c->body = mfree(c->body);
        c->body_len = 0;
        c->out = mfree(c->out);
        c->out_len = c->out_off = 0;
        c->request_started = c->in_len > 0;
        c->state = CONN_READ;
        r = conn_arm_timer(c, c->manager->config->limits.keepalive_timeout_usec);
        if (r < 0)
                return r;
        r = tls_conn_set_interest(c->tls, true, false);
        if (r < 0)
                return r;
        /* Pipelined requests may already sit in our buffer or in OpenSSL's (where epoll cannot see them).
         * Continue from the top of the loop, not from here: recursing would let a client that pipelines
         * endlessly grow our stack. */
        return sd_event_source_set_enabled(c->resume, SD_EVENT_ONESHOT);
}

static int conn_flush(Conn *c) {
        ssize_t n;

        while (c->out_off < c->out_len) {
                n = tls_conn_write(c->tls, c->out + c->out_off, c->out_len - c->out_off);
                if (n == -EAGAIN)
                        return tls_conn_set_interest(c->tls, false, true);
                if (n < 0)
                        return (int) n;
                c->out_off += (size_t) n;
        }
        if (c->close_after) {
                tls_conn_shutdown(c->tls);
                return -ECONNRESET; /* done: close */
        }
        return conn_next_request(c);
}

static int conn_resume_cb(sd_event_source *s, void *userdata) {
        Conn *c = userdata;
        int r = 0;

        if (c->state == CONN_READ)
                r = conn_process(c);
        if (r >= 0 && c->state == CONN_READ)
                r = conn_read(c);
        if (r < 0)
                conn_free(c);
        return 0;
}

static void conn_io_cb(TlsConn *t, void *userdata) {
        Conn *c = userdata;
        int r = 0;

        if (c->state == CONN_RELAY) {
                gateway_relay_io(c->relay); /* may free c */
                return;
        }
        if (c->state == CONN_WRITE)
                r = conn_flush(c);
        if (r >= 0 && IN_SET(c->state, CONN_READ, CONN_WATCH))
                r = conn_read(c);
        if (r < 0)
                conn_free(c);
}

static void conn_ready_cb(TlsConn *t, void *userdata) {
        Conn *c = userdata;
        _cleanup_free_ char *cn = NULL;
        int r;

        if (!tls_conn_is_tls(t)) {
                /* DisableTLS=yes: no authentication at all, every peer administers (logged at startup). */
                c->identity = (Identity) { .kind = IDENTITY_ADMIN };
                c->has_identity = true;
        } else if (tls_peer_common_name(tls_conn_ssl(t), &cn) >= 0 && identity_from_common_name(cn, &c->identity) >= 0)
                c->has_identity = true;
        else
                log_notice("Client certificate CN '%s' names no known identity.", strna(cn));

        c->state = CONN_READ;
        r = conn_arm_timer(c, c->manager->config->limits.keepalive_timeout_usec);
        if (r >= 0)
                r = tls_conn_set_interest(t, true, false);
        if (r >= 0) /* the request may have arrived with the handshake's last flight */
                r = sd_event_source_set_enabled(c->resume, SD_EVENT_ONESHOT);
        if (r < 0)
                conn_free(c);
}

static void conn_failed_cb(TlsConn *t, int error, void *userdata) {
        static const char body[] =
                "{\"error\":\"tls_required\",\"message\":\"This listener speaks HTTPS with client certificates\"}\n";
        Conn *c = userdata;
        char reply[256];
        int n;

        /* Like nginx: tell a plain-HTTP client why, instead of a bare reset. Best effort, never blocks. */
        if (error == -EPROTONOSUPPORT) {
                n = snprintf(reply, sizeof(reply),
                             "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n"
                             "Content-Length: %zu\r\n\r\n%s",
                             sizeof(body) - 1, body);
                if (n > 0 && (size_t) n < sizeof(reply))
                        (void) send(tls_conn_fd(t), reply, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        log_debug_errno(error, "TLS handshake failed: %m");
        conn_free(c);
}

static const TlsConnCallbacks conn_tls_callbacks = {
        .ready = conn_ready_cb,
        .io = conn_io_cb,
        .failed = conn_failed_cb,
};

static int conn_timer_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        Conn *c = userdata;
        int r = -ETIMEDOUT;

        if (c->state == CONN_WATCH) {
                conn_watch_fire(c, false);
                return 0;
        }
        if (c->state == CONN_READ && c->request_started)
                r = conn_fail_request(c, 408, "request_timeout", "The request was not received within RequestTimeoutSec=");
        if (r < 0 || c->state != CONN_WRITE)
                conn_free(c);
        else
                (void) conn_arm_timer(c, c->manager->config->limits.request_timeout_usec);
        return 0;
}

int conn_new(Manager *m, int fd, ListenRole role) {
        const GatewayLimits *l = &m->config->limits;
        HttpLimits hl = { .max_header_bytes = l->header_bytes_max, .max_headers = l->headers_max };
        Conn *c;
        int r;

        c = new0(Conn, 1);
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        *c = (Conn) { .manager = m, .role = role, .state = CONN_HANDSHAKE, .next = m->conns };
        if (m->conns)
                m->conns->prev = c;
        m->conns = c;
        m->n_conns++;

        r = http_parser_new(HTTP_PARSER_REQUEST, &hl, &c->parser);
        if (r < 0) {
                safe_close(fd);
                goto fail;
        }
        r = sd_event_add_time(m->event, &c->timer, CLOCK_MONOTONIC, USEC_INFINITY, 0, conn_timer_cb, c);
        if (r < 0) {
                safe_close(fd);
                goto fail;
        }
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        r = sd_event_add_defer(m->event, &c->resume, conn_resume_cb, c);
        if (r < 0) {
                safe_close(fd);
                goto fail;
        }
        (void) sd_event_source_set_enabled(c->resume, SD_EVENT_OFF);
        r = tls_conn_new(m->event, fd, m->ssl_ctx, true, NULL, l->handshake_timeout_usec, &conn_tls_callbacks, c, &c->tls);
        if (r < 0)
                goto fail;
        return 0;
fail:
        conn_free(c);
        return r;
}
