/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "proxy-buffer.h"
#include "proxy-conn-internal.h"
#include "proxy-connector.h"
#include "proxy-log.h"
#include "proxy-request.h"
#include "proxy-response.h"
#include "proxy-tls.h"
#include "proxy-tunnel.h"
#include "tls-conn.h"
#include "string-util.h"

/* How long a connection that got its final response may keep sending before we close it (lingering close
 * keeps the response from being destroyed by a TCP reset). */
#define CONN_LINGER_USEC (2 * USEC_PER_SEC)

static const char *const conn_state_table[_CONN_STATE_MAX] = {
        [CONN_REQUEST] = "request",         [CONN_CONNECTING] = "connecting", [CONN_EXCHANGE] = "exchange",
        [CONN_TUNNEL_SETUP] = "tunnel-setup", [CONN_TUNNEL] = "tunnel",   [CONN_CLOSING] = "closing",
        [CONN_LINGER] = "linger",           [CONN_MITM_HANDSHAKE] = "mitm-handshake",
        [CONN_INFERENCE_BODY] = "inference-body",
};

DEFINE_STRING_TABLE_LOOKUP(conn_state, ConnState, _CONN_STATE_MAX);



void conn_log(Conn *c, const char *reason) {
        ProxyLogEntry e = {
                .sandbox = c->manager->settings->sandbox,
                .client = c->client,
                .allowed = c->decision.allowed,
                .audit = c->decision.audit,
                .layer = c->decision.layer,
                .method = c->method,
                .host = c->host,
                .port = c->port,
                .path = c->is_connect ? NULL : c->target,
                .policy = c->decision.entry ? c->decision.entry->id
                          : (c->inference || c->inference_tunnel) ? "inference" : NULL,
                .rule = c->decision.rule,
                .reason = reason ?: c->reason ?: c->decision.reason,
                .status = c->status,
                .bytes_up = c->tunnel ? tunnel_bytes_a_to_b(c->tunnel) : c->bytes_up,
                .bytes_down = c->tunnel ? tunnel_bytes_b_to_a(c->tunnel) : c->bytes_down,
                .duration = now_usec(CLOCK_MONOTONIC) - c->started,
        };

        if (!c->active)
                return;
        proxy_log_decision(&e);
        c->active = false;
}

void conn_exchange_reset(Conn *c) {
        c->method = mfree(c->method);
        c->host = mfree(c->host);
        c->authority = mfree(c->authority);
        c->target = mfree(c->target);
        c->port = 0;
        c->is_connect = c->head_request = false;
        c->request_done = c->response_started = c->response_done = c->close_after = false;
        c->resp_head_seen = false;
        c->status = 0;
        c->bytes_up = c->bytes_down = 0;
        c->decision = (PolicyDecision){};
        c->reason = NULL;
        c->active = false;
        c->inference = inference_exchange_free(c->inference);
}

void conn_drop_upstream(Conn *c) {
        c->up_tls = tls_conn_free(c->up_tls);
        c->up_io = sd_event_source_disable_unref(c->up_io);
        c->up_fd = safe_close(c->up_fd);
        c->up_key = mfree(c->up_key);
        c->up_eof = false;
        buffer_done(&c->up_in);
        buffer_done(&c->up_out);
}

bool conn_wants_inspection(const Conn *c) {
        const PolicyEndpoint *e = c->decision.endpoint;

        return e && e->protocol == POLICY_PROTOCOL_REST && e->tls != POLICY_TLS_SKIP;
}

/* A connection's two legs are plain sockets with our own event sources, or TlsConns after TLS inspection
 * started: these helpers hide the difference. */
bool conn_leg_open(const Conn *c, bool up) {
        return up ? (c->up_tls || c->up_fd >= 0) : (c->tls || c->fd >= 0);
}

Conn *conn_free(Conn *c) {
        Manager *m;

        if (!c)
                return NULL;
        m = c->manager;
        if (c->active)
                conn_log(c, c->client_eof ? "client closed the connection" : "connection closed");
        if (c->prev)
                c->prev->next = c->next;
        else if (m->conns == c)
                m->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->connector = connector_free(c->connector);
        c->tunnel = tunnel_free(c->tunnel);
        conn_drop_upstream(c);
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        tls_conn_free(c->tls);
        free(c->tunnel_host);
        safe_close(c->fd);
        buffer_done(&c->in);
        buffer_done(&c->out);
        http_parser_free(c->req_parser);
        http_parser_free(c->resp_parser);
        conn_exchange_reset(c);
        free(c);
        manager_connection_removed(m);
        return NULL;
}

/* Queues a complete response and closes the connection once it is written. */
int conn_respond_and_close(Conn *c, char *data, size_t size) {
        _cleanup_free_ char *d = data;

        /* The output may still hold the end of the previous (complete) response on this connection: ours
         * follows it. A response of the current exchange never started (conn_respond_error checks). */
        c->state = CONN_CLOSING;
        c->connector = connector_free(c->connector);
        conn_drop_upstream(c);
        return buffer_append(&c->out, d, size) < 0 ? -ENOBUFS : 0;
}

int conn_respond_error(Conn *c, unsigned status, const char *code, const char *detail) {
        char *resp;
        size_t size;
        int r;

        c->status = status;
        if (c->response_started)
                return -ECONNABORTED; /* too late for a response: just close */
        r = proxy_response_error(status, code, detail, &resp, &size);
        if (r < 0)
                return r;
        if (c->active)
                conn_log(c, detail);
        else
                log_notice("event=error client=%s status=%u reason=\"%s\"", c->client, status, detail);
        return conn_respond_and_close(c, resp, size);
}

int conn_respond_denied(Conn *c, const char *detail, bool keep_alive) {
        return conn_respond_denied_full(c, NULL, detail, keep_alive);
}

int conn_respond_denied_full(Conn *c, const char *error, const char *detail, bool keep_alive) {
        ProxyDenial d = {
                .error = error,
                .layer = c->decision.layer,
                .host = c->host,
                .port = c->port,
                .method = c->method,
                .path = c->is_connect ? NULL : c->target,
                .policy = c->decision.entry ? c->decision.entry->id : NULL,
                .rule = isempty(c->decision.rule) ? NULL : c->decision.rule,
                .detail = detail,
        };
        _cleanup_free_ char *resp = NULL;
        size_t size;
        int r;

        c->status = 403;
        c->decision.allowed = false;
        r = proxy_response_denied(&d, keep_alive, &resp, &size);
        if (r < 0)
                return r;
        conn_log(c, detail);
        if (!keep_alive)
                return conn_respond_and_close(c, TAKE_PTR(resp), size);
        r = buffer_append(&c->out, resp, size);
        if (r < 0)
                return r;
        conn_exchange_reset(c);
        http_parser_next(c->req_parser);
        c->state = CONN_REQUEST;
        c->head_started = now_usec(CLOCK_MONOTONIC); /* a pipelined head may wait in c->in */
        return 0;
}


static usec_t conn_deadline(Conn *c) {
        const ProxyLimits *l = &c->manager->settings->limits;

        switch (c->state) {
        case CONN_REQUEST:
                /* A head in progress (or the first one) must be complete within the handshake timeout of
                 * its start, however slowly its bytes trickle in (slowloris); between requests we idle. */
                if (!buffer_is_empty(&c->in) || c->head_bytes > 0 || c->n_requests == 0)
                        return c->head_started + l->handshake_timeout;
                return c->last_activity + l->idle_timeout;
        case CONN_CONNECTING:
        case CONN_TUNNEL_SETUP:
        case CONN_MITM_HANDSHAKE:
                return c->last_activity + l->handshake_timeout;
        case CONN_EXCHANGE:
        case CONN_INFERENCE_BODY:
                return c->last_activity + l->idle_timeout;
        case CONN_CLOSING:
        case CONN_LINGER:
                return c->last_activity + MIN(CONN_LINGER_USEC, l->handshake_timeout);
        case CONN_TUNNEL:
        case _CONN_STATE_MAX:
        case _CONN_STATE_INVALID:
                break;
        }
        return USEC_INFINITY;
}

static int set_events(sd_event_source *s, uint32_t mask) {
        int r;

        if (!s)
                return 0;
        r = sd_event_source_set_io_events(s, mask);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, mask ? SD_EVENT_ON : SD_EVENT_OFF);
}

/* See conn_leg_open(). */
static int leg_set_interest(Conn *c, bool up, uint32_t mask) {
        TlsConn *t = up ? c->up_tls : c->tls;

        if (t)
                return tls_conn_set_interest(t, mask & EPOLLIN, mask & EPOLLOUT);
        return set_events(up ? c->up_io : c->io, mask);
}

static ssize_t leg_read(Conn *c, bool up, Buffer *b) {
        TlsConn *t = up ? c->up_tls : c->tls;
        char *p;
        size_t size;
        ssize_t n;
        int r;

        if (!t)
                return buffer_read_fd(b, up ? c->up_fd : c->fd);
        r = buffer_reserve(b, &p, &size);
        if (r < 0)
                return r;
        n = tls_conn_read(t, p, size);
        buffer_commit(b, n > 0 ? (size_t) n : 0);
        return n;
}

static ssize_t leg_write(Conn *c, bool up, Buffer *b) {
        TlsConn *t = up ? c->up_tls : c->tls;
        ssize_t n;

        if (!t)
                return buffer_write_fd(b, up ? c->up_fd : c->fd);
        if (buffer_is_empty(b))
                return 0;
        n = tls_conn_write(t, buffer_peek(b), buffer_length(b));
        if (n > 0)
                buffer_consume(b, (size_t) n);
        return n;
}

static void leg_shutdown(Conn *c) {
        if (c->tls)
                tls_conn_shutdown(c->tls);
        else
                (void) shutdown(c->fd, SHUT_WR);
}

/* Settles end states and derives event masks and the timer from the state. */
int conn_update(Conn *c) {
        uint32_t mask = 0, up_mask = 0;
        usec_t deadline;
        int r;

        if (c->state == CONN_TUNNEL)
                return 0;
        if (c->state == CONN_REQUEST && c->client_eof)
                c->state = CONN_CLOSING; /* nothing more will come; flush what we have */
        if (c->state == CONN_CLOSING && buffer_is_empty(&c->out)) {
                if (c->client_eof) {
                        c->dead = true;
                        return 0;
                }
                leg_shutdown(c);
                c->state = CONN_LINGER;
                c->last_activity = now_usec(CLOCK_MONOTONIC);
        }
        if (c->state == CONN_LINGER && c->client_eof) {
                c->dead = true;
                return 0;
        }
        if (c->state != CONN_MITM_HANDSHAKE) {
                /* During an exchange the client stays readable even after its request is complete: a
                 * pipelined request just waits in the buffer, an EOF is noticed early, and the interest does
                 * not flip twice per request (each flip is an epoll_ctl). */
                if (!c->client_eof &&
                    ((IN_SET(c->state, CONN_REQUEST, CONN_EXCHANGE, CONN_INFERENCE_BODY) && buffer_room(&c->in) > 0) ||
                     c->state == CONN_LINGER))
                        mask |= EPOLLIN;
                if (!buffer_is_empty(&c->out) && c->state != CONN_LINGER)
                        mask |= EPOLLOUT;
                if (conn_leg_open(c, true)) {
                        if ((c->state == CONN_EXCHANGE && !c->response_done && !c->up_eof &&
                             buffer_room(&c->up_in) > 0) ||
                            c->state == CONN_REQUEST)
                                up_mask |= EPOLLIN;
                        if (!buffer_is_empty(&c->up_out))
                                up_mask |= EPOLLOUT;
                }
                r = leg_set_interest(c, false, mask);
                if (r >= 0 && conn_leg_open(c, true))
                        r = leg_set_interest(c, true, up_mask);
                if (r < 0)
                        return r;
        }
        deadline = conn_deadline(c);
        r = sd_event_source_set_time(c->timer, deadline);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->timer, deadline == USEC_INFINITY ? SD_EVENT_OFF : SD_EVENT_ONESHOT);
        return r;
}

int conn_client_read(Conn *c) {
        bool head_starts = c->state == CONN_REQUEST && c->n_requests > 0 && c->head_bytes == 0 &&
                           buffer_is_empty(&c->in);
        ssize_t n;

        if (c->state == CONN_LINGER) {
                char discard[4096];
                n = c->tls ? tls_conn_read(c->tls, discard, sizeof(discard)) : read(c->fd, discard, sizeof(discard));
                if (n == 0 || (n < 0 && !c->tls && errno != EAGAIN && errno != EINTR) ||
                    (n < 0 && c->tls && n != -EAGAIN))
                        c->client_eof = true;
                return 0;
        }
        n = leg_read(c, false, &c->in);
        if (n == -EAGAIN || n == -EINTR || n == -ENOBUFS)
                return 0;
        if (n < 0)
                return (int) n;
        if (n == 0) {
                c->client_eof = true;
                /* A client that stops sending mid-request or mid-CONNECT is gone. */
                if ((c->state == CONN_EXCHANGE && !c->request_done) || c->state == CONN_CONNECTING ||
                    c->state == CONN_TUNNEL_SETUP || c->state == CONN_INFERENCE_BODY)
                        return -ECONNRESET;
                return 0;
        }
        c->last_activity = now_usec(CLOCK_MONOTONIC);
        if (head_starts)
                c->head_started = c->last_activity;
        return 0;
}

int conn_up_read(Conn *c) {
        ssize_t n;

        n = leg_read(c, true, &c->up_in);
        if (n == -EAGAIN || n == -EINTR || n == -ENOBUFS)
                return 0;
        if (c->state == CONN_REQUEST) {
                /* An idle kept-alive upstream spoke or closed: it cannot be reused. */
                conn_drop_upstream(c);
                if (c->mitm && !c->inference_tunnel)
                        c->state = CONN_CLOSING; /* inspected tunnels have exactly one upstream */
                return 0;
        }
        if (n <= 0)
                c->up_eof = true;
        else
                c->last_activity = now_usec(CLOCK_MONOTONIC);
        return 0;
}

int conn_client_write(Conn *c) {
        ssize_t n;

        if (buffer_is_empty(&c->out) || !conn_leg_open(c, false))
                return 0;
        n = leg_write(c, false, &c->out);
        if (n < 0 && n != -EAGAIN && n != -EINTR)
                return (int) n;
        if (n > 0)
                c->last_activity = now_usec(CLOCK_MONOTONIC);
        return 0;
}

int conn_up_write(Conn *c) {
        ssize_t n;

        if (buffer_is_empty(&c->up_out) || !conn_leg_open(c, true))
                return 0;
        n = leg_write(c, true, &c->up_out);
        if (n < 0 && n != -EAGAIN && n != -EINTR) {
                c->up_eof = true;
                buffer_done(&c->up_out);
                if (c->state == CONN_TUNNEL_SETUP)
                        return (int) n;
        } else if (n > 0)
                c->last_activity = now_usec(CLOCK_MONOTONIC);
        return 0;
}

/* The common tail of every callback: process, update, or free the connection. Returns 0 always (a
 * per-connection failure must never disable a shared event source). OpenSSL may hold decrypted bytes that
 * no epoll event will announce, so TLS legs are read until they run dry. */
int conn_after(Conn *c, int r) {
        for (unsigned i = 0; r >= 0 && c->state != CONN_TUNNEL && c->state != CONN_MITM_HANDSHAKE; i++) {
                bool again = false;

                r = conn_process(c);
                if (r < 0 || i >= 64)
                        break;
                if (c->tls && SSL_has_pending(tls_conn_ssl(c->tls)) && buffer_room(&c->in) > 0 &&
                    IN_SET(c->state, CONN_REQUEST, CONN_EXCHANGE, CONN_INFERENCE_BODY) && !c->client_eof) {
                        r = conn_client_read(c);
                        again = true;
                }
                if (r >= 0 && c->up_tls && SSL_has_pending(tls_conn_ssl(c->up_tls)) && buffer_room(&c->up_in) > 0 &&
                    c->state == CONN_EXCHANGE && !c->response_done) {
                        r = conn_up_read(c);
                        again = true;
                }
                size_t out = buffer_length(&c->out), up_out = buffer_length(&c->up_out);
                if (r >= 0)
                        r = conn_client_write(c);
                if (r >= 0)
                        r = conn_up_write(c);
                /* Flushed output can unblock the state machine (a tunnel waits for empty buffers). */
                if (buffer_length(&c->out) != out || buffer_length(&c->up_out) != up_out)
                        again = true;
                if (!again)
                        break;
        }
        if (r >= 0)
                r = conn_update(c);
        if (r < 0 || c->dead) {
                if (r < 0 && !ERRNO_IS_DISCONNECT(r))
                        log_debug_errno(r, "Connection from %s (%s) failed: %m", c->client,
                                        strna(conn_state_to_string(c->state)));
                conn_free(c);
        }
        return 0;
}

static int io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;
        int r = 0;

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                r = conn_client_read(c);
        if (r >= 0 && (revents & EPOLLOUT))
                r = conn_client_write(c);
        return conn_after(c, r);
}

int conn_up_io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;
        int r = 0;

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                r = conn_up_read(c);
        if (r >= 0 && (revents & EPOLLOUT))
                r = conn_up_write(c);
        return conn_after(c, r);
}

static int timer_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        Conn *c = userdata;
        int r = -ETIMEDOUT;

        if (usec < conn_deadline(c))
                return conn_after(c, 0); /* activity moved the deadline */
        switch (c->state) {
        case CONN_REQUEST:
                if (!buffer_is_empty(&c->in) || c->head_bytes > 0)
                        r = conn_respond_error(c, 408, "request_timeout", "request head not received in time");
                break;
        case CONN_CONNECTING:
                c->reason = "upstream connect timed out";
                r = conn_respond_error(c, 504, "gateway_timeout", "upstream did not answer in time");
                break;
        case CONN_EXCHANGE:
                c->reason = "idle timeout";
                r = c->response_started ? -ETIMEDOUT
                                        : conn_respond_error(c, 504, "gateway_timeout", "upstream did not respond in time");
                break;
        case CONN_MITM_HANDSHAKE:
                c->reason = "TLS handshake timed out";
                break;
        case CONN_INFERENCE_BODY:
                r = conn_respond_error(c, 408, "request_timeout", "request body not received in time");
                break;
        case CONN_TUNNEL_SETUP:
        case CONN_TUNNEL:
        case CONN_CLOSING:
        case CONN_LINGER:
        case _CONN_STATE_MAX:
        case _CONN_STATE_INVALID:
                break;
        }
        return conn_after(c, r);
}

int conn_new(Manager *m, int fd, Conn **ret) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        HttpLimits limits = m->http_limits;
        size_t out_cap = m->buffer_bytes + limits.max_header_bytes + CONN_HEAD_SLACK;
        char a[INET6_ADDRSTRLEN] = "?";
        Conn *c;
        int r;

        c = new0(Conn, 1);
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        c->manager = m;
        c->fd = fd;
        c->up_fd = -EBADF;
        c->next = m->conns;
        if (c->next)
                c->next->prev = c;
        m->conns = c;
        manager_connection_added(m);
        if (getpeername(fd, (struct sockaddr *) &ss, &len) >= 0) {
                sockaddr_to_string((struct sockaddr *) &ss, a, sizeof(a));
                snprintf(c->client, sizeof(c->client), "%s", a);
        }
        (void) buffer_init(&c->in, m->buffer_bytes);
        (void) buffer_init(&c->up_in, m->buffer_bytes);
        (void) buffer_init(&c->out, out_cap);
        (void) buffer_init(&c->up_out, out_cap);
        c->last_activity = c->head_started = now_usec(CLOCK_MONOTONIC);
        r = http_parser_new(HTTP_PARSER_REQUEST, &limits, &c->req_parser);
        if (r >= 0)
                r = http_parser_new(HTTP_PARSER_RESPONSE, &limits, &c->resp_parser);
        if (r >= 0)
                r = sd_event_add_io(m->event, &c->io, fd, EPOLLIN, io_cb, c);
        if (r >= 0)
                r = sd_event_add_time(m->event, &c->timer, CLOCK_MONOTONIC, conn_deadline(c), 0, timer_cb, c);
        if (r < 0) {
                conn_free(c);
                return r;
        }
        if (ret)
                *ret = c;
        return 0;
}

Conn *conn_next(Conn *c) {
        return c->next;
}

void conn_policy_changed(Conn *c) {
        _cleanup_free_ char *path = NULL;
        PolicyRequest req = { .host = c->host, .port = c->port };
        PolicyDecision d;
        const char *q;

        if (c->inference_tunnel || c->inference)
                return; /* inference.local follows the inference route, not the policy */
        if (c->mitm && (!c->active || !c->host)) {
                /* An idle inspected tunnel: is its host still reachable at all? */
                req = (PolicyRequest){ .host = c->tunnel_host, .port = c->tunnel_port };
                if (policy_check(c->manager->policy, &req, &d) >= 0 && d.allowed) {
                        c->decision = (PolicyDecision){ .layer = c->decision.layer };
                        return;
                }
                log_notice("event=tunnel_closed client=%s host=%s port=%u reason=\"denied by the reloaded policy\"",
                           c->client, c->tunnel_host, c->tunnel_port);
                conn_free(c);
                return;
        }
        if (!c->active || !c->host) {
                c->decision = (PolicyDecision){ .layer = c->decision.layer };
                return;
        }
        if (!c->is_connect && c->target) {
                path = strndup_safe(c->target, strcspn(c->target, "?"));
                q = strchr(c->target, '?');
                req.method = c->method;
                req.path = path;
                req.query = q ? q + 1 : NULL;
        }
        if ((!c->is_connect && !path) || policy_check(c->manager->policy, &req, &d) < 0)
                d = (PolicyDecision){ .layer = c->decision.layer, .reason = "re-check failed" };
        /* A tunnel that was not inspected may not become a rest endpoint without inspection. */
        if (d.allowed && c->state == CONN_TUNNEL && d.endpoint->protocol == POLICY_PROTOCOL_REST &&
            d.endpoint->tls != POLICY_TLS_SKIP)
                d.allowed = false;
        c->decision = d;
        if (d.allowed)
                return;
        conn_log(c, "denied by the reloaded policy");
        conn_free(c);
}
