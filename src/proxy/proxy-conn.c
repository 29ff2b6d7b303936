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
#include "proxy-conn.h"
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
/* Headroom in the output buffer for a response head we rewrite (added Connection: close, reason). */
#define CONN_HEAD_SLACK 512U

static const char *const conn_state_table[_CONN_STATE_MAX] = {
        [CONN_REQUEST] = "request",         [CONN_CONNECTING] = "connecting", [CONN_EXCHANGE] = "exchange",
        [CONN_TUNNEL_SETUP] = "tunnel-setup", [CONN_TUNNEL] = "tunnel",   [CONN_CLOSING] = "closing",
        [CONN_LINGER] = "linger",           [CONN_MITM_HANDSHAKE] = "mitm-handshake",
};

DEFINE_STRING_TABLE_LOOKUP(conn_state, ConnState, _CONN_STATE_MAX);

struct Conn {
        Manager *manager;
        Conn *prev, *next;
        ConnState state;
        int fd;
        sd_event_source *io;
        int up_fd;
        sd_event_source *up_io;
        sd_event_source *timer;
        usec_t last_activity;
        Buffer in, out, up_in, up_out;
        HttpParser *req_parser, *resp_parser;
        Connector *connector;
        Tunnel *tunnel;
        /* TLS inspection: both legs are TlsConns (they own the fds) after the CONNECT. */
        TlsConn *tls, *up_tls;
        bool mitm;
        unsigned handshakes;
        char *tunnel_host;
        uint16_t tunnel_port;
        char client[INET6_ADDRSTRLEN + 8];
        unsigned n_requests;

        /* The current exchange. */
        bool active;
        usec_t started;
        char *method, *host, *authority, *target, *up_key;
        uint16_t port;
        bool is_connect, head_request;
        bool request_done, response_started, response_done, client_eof, close_after;
        bool resp_head_seen, up_eof, dead;
        unsigned status;
        uint64_t bytes_up, bytes_down;
        PolicyDecision decision;
        const char *reason; /* for the log line; static text */
};

static void conn_log(Conn *c, const char *reason) {
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
                .policy = c->decision.entry ? c->decision.entry->id : NULL,
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

static void exchange_reset(Conn *c) {
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
}

static void drop_upstream(Conn *c) {
        c->up_tls = tls_conn_free(c->up_tls);
        c->up_io = sd_event_source_disable_unref(c->up_io);
        c->up_fd = safe_close(c->up_fd);
        c->up_key = mfree(c->up_key);
        c->up_eof = false;
        buffer_done(&c->up_in);
        buffer_done(&c->up_out);
}

static bool conn_wants_inspection(const Conn *c) {
        const PolicyEndpoint *e = c->decision.endpoint;

        return e && e->protocol == POLICY_PROTOCOL_REST && e->tls != POLICY_TLS_SKIP;
}

/* A connection's two legs are plain sockets with our own event sources, or TlsConns after TLS inspection
 * started: these helpers hide the difference. */
static bool leg_open(const Conn *c, bool up) {
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
        drop_upstream(c);
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        tls_conn_free(c->tls);
        free(c->tunnel_host);
        safe_close(c->fd);
        buffer_done(&c->in);
        buffer_done(&c->out);
        http_parser_free(c->req_parser);
        http_parser_free(c->resp_parser);
        exchange_reset(c);
        free(c);
        manager_connection_removed(m);
        return NULL;
}

/* Queues a complete response and closes the connection once it is written. */
static int respond_and_close(Conn *c, char *data, size_t size) {
        _cleanup_free_ char *d = data;

        buffer_done(&c->out); /* nothing else may follow: an interrupted response is replaced */
        c->state = CONN_CLOSING;
        c->connector = connector_free(c->connector);
        drop_upstream(c);
        return buffer_append(&c->out, d, size) < 0 ? -ENOBUFS : 0;
}

static int respond_error(Conn *c, unsigned status, const char *code, const char *detail) {
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
        return respond_and_close(c, resp, size);
}

static int respond_denied(Conn *c, const char *detail, bool keep_alive) {
        ProxyDenial d = {
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
                return respond_and_close(c, TAKE_PTR(resp), size);
        r = buffer_append(&c->out, resp, size);
        if (r < 0)
                return r;
        exchange_reset(c);
        http_parser_next(c->req_parser);
        c->state = CONN_REQUEST;
        return 0;
}

static int start_exchange(Conn *c) {
        HttpMessage *m = http_parser_message(c->req_parser);
        _cleanup_free_ char *head = NULL;
        size_t size;
        int r;

        r = proxy_format_upstream_head(m, c->target, c->authority, &head, &size);
        if (r < 0)
                return r;
        r = buffer_append(&c->up_out, head, size);
        if (r < 0)
                return respond_error(c, 431, "header_too_large", "request head too large to forward");
        c->bytes_up += size;
        c->request_done = !m->has_body;
        http_parser_next(c->resp_parser);
        c->state = CONN_EXCHANGE;
        c->last_activity = now_usec(CLOCK_MONOTONIC);
        return 0;
}

static int start_tunnel_setup(Conn *c) {
        static const char ok[] = "HTTP/1.1 200 Connection Established\r\n\r\n";
        int r;

        r = buffer_append(&c->out, ok, sizeof(ok) - 1);
        if (r < 0)
                return r;
        /* Bytes the client pipelined after the CONNECT head (a TLS ClientHello) go first. */
        r = buffer_append(&c->up_out, buffer_peek(&c->in), buffer_length(&c->in));
        if (r < 0)
                return r;
        buffer_consume(&c->in, buffer_length(&c->in));
        c->status = 200;
        c->state = CONN_TUNNEL_SETUP;
        return 0;
}

static int conn_after(Conn *c, int r);
static int up_io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static void connected_cb(Connector *k, int fd, const char *d, void *userdata) {
        _cleanup_free_ char *detail = strdup(d); /* d lives in the connector, freed next */
        Conn *c = userdata;
        int r;

        c->connector = connector_free(c->connector);
        if (!detail)
                r = -ENOMEM;
        else if (fd == -EPERM) {
                c->decision.layer = POLICY_LAYER_L4;
                r = respond_denied(c, detail, false);
        } else if (fd < 0) {
                c->reason = "upstream unreachable";
                r = respond_error(c, 502, "upstream_unreachable", detail);
        } else {
                c->up_fd = fd;
                c->up_key = asprintf_safe("%s:%u", c->host, c->port);
                r = c->up_key ? sd_event_add_io(c->manager->event, &c->up_io, c->up_fd, 0, up_io_cb, c) : -ENOMEM;
                if (r >= 0)
                        r = c->is_connect ? start_tunnel_setup(c) : start_exchange(c);
        }
        (void) conn_after(c, r);
}

static bool filter_cb(const struct sockaddr *sa, void *userdata) {
        Conn *c = userdata;

        return manager_address_allowed(c->manager, c->decision.endpoint, sa);
}

static int parse_target(Conn *c, const HttpMessage *m) {
        int r;

        if (c->is_connect) {
                r = proxy_split_host_port(m->target, &c->host, &c->port);
                if (r < 0 || isempty(c->host))
                        return respond_error(c, 400, "bad_request", "CONNECT needs host:port");
                c->authority = strdup(m->target);
                return c->authority ? 0 : -ENOMEM;
        }
        r = proxy_parse_absolute_uri(m->target, &c->authority, &c->host, &c->port, &c->target);
        if (r == -EPROTONOSUPPORT)
                return respond_error(c, 400, "bad_request", "only http:// URIs are proxied; use CONNECT for https");
        if (r == -EINVAL)
                return respond_error(c, 400, "bad_request", "a proxy request needs an absolute http:// URI");
        return r;
}

static int check_policy(Conn *c, const HttpMessage *m) {
        _cleanup_free_ char *path = NULL;
        const char *q = NULL;
        PolicyRequest req = { .host = c->host, .port = c->port };
        int r;

        if (!c->is_connect) {
                path = strndup_safe(c->target, strcspn(c->target, "?"));
                if (!path)
                        return -ENOMEM;
                q = strchr(c->target, '?');
                req.method = c->method;
                req.path = path;
                req.query = q ? q + 1 : NULL;
        }
        r = policy_check(c->manager->policy, &req, &c->decision);
        if (r == -EINVAL)
                return respond_error(c, 400, "bad_request", "invalid destination");
        if (r < 0)
                return r;
        if (!c->decision.allowed)
                return respond_denied(c, c->decision.reason, !c->is_connect && !m->has_body && m->keep_alive);
        if (c->is_connect && conn_wants_inspection(c) && !c->manager->leaf_cache) {
                c->decision.layer = POLICY_LAYER_L7;
                return respond_denied(c,
                                      "protocol rest needs TLS inspection, which needs --tls-dir; "
                                      "set tls: skip for an uninspected tunnel",
                                      false);
        }
        return 1;
}

/* Host (RFC 9110 7.2) names the tunnel's host; the port may be omitted only for 443. */
static bool host_header_matches(const char *value, const char *host, uint16_t port) {
        _cleanup_free_ char *h = NULL;
        uint16_t p = 443;

        if (!value)
                return false;
        if ((value[0] == '[' && strstr(value, "]:")) || (value[0] != '[' && strchr(value, ':'))) {
                if (proxy_split_host_port(value, &h, &p) < 0)
                        return false;
        } else {
                h = value[0] == '[' ? strndup_safe(value + 1, strcspn(value + 1, "]")) : strdup(value);
                if (!h)
                        return false;
        }
        return strcasecmp(h, host) == 0 && p == port;
}

/* A request inside an inspected tunnel: origin-form, for the CONNECT host only, decided at L7. */
static int handle_inspected_request(Conn *c, const HttpMessage *m) {
        const char *host = http_message_header(m, "Host");
        int r;

        c->host = strdup(c->tunnel_host);
        c->port = c->tunnel_port;
        c->target = strdup(m->target);
        c->authority = strdup(host ?: c->tunnel_host);
        if (!c->host || !c->target || !c->authority)
                return -ENOMEM;
        if (m->target[0] != '/')
                return respond_error(c, 400, "bad_request", "requests inside a tunnel must use origin-form");
        if (!host_header_matches(host, c->tunnel_host, c->tunnel_port)) {
                c->decision.layer = POLICY_LAYER_L7;
                return respond_denied(c, "the Host header does not match the CONNECT target", false);
        }
        r = check_policy(c, m);
        if (r <= 0)
                return r;
        c->close_after = !m->keep_alive;
        if (!leg_open(c, true) || c->up_eof)
                return respond_error(c, 502, "bad_gateway", "the upstream closed the inspected connection");
        return start_exchange(c);
}

static int handle_request(Conn *c) {
        HttpMessage *m = http_parser_message(c->req_parser);
        _cleanup_free_ char *key = NULL;
        int r;

        exchange_reset(c);
        c->active = true;
        c->started = now_usec(CLOCK_MONOTONIC);
        c->n_requests++;
        c->method = strdup(m->method);
        if (!c->method)
                return -ENOMEM;
        c->is_connect = streq(m->method, "CONNECT");
        c->head_request = streq(m->method, "HEAD");
        c->decision.layer = c->is_connect ? POLICY_LAYER_L4 : POLICY_LAYER_L7;
        if (c->mitm)
                return handle_inspected_request(c, m);
        r = parse_target(c, m);
        if (r < 0 || c->state == CONN_CLOSING)
                return r;
        r = check_policy(c, m);
        if (r <= 0)
                return r;
        c->close_after = !m->keep_alive;
        key = asprintf_safe("%s:%u", c->host, c->port);
        if (!key)
                return -ENOMEM;
        if (!c->is_connect && c->up_fd >= 0 && streq_ptr(c->up_key, key) && buffer_is_empty(&c->up_out))
                return start_exchange(c);
        drop_upstream(c);
        c->state = CONN_CONNECTING;
        c->last_activity = now_usec(CLOCK_MONOTONIC);
        return connector_start(c->manager->event, c->manager->resolver, c->host, c->port, filter_cb, c,
                               connected_cb, c, &c->connector);
}

static int process_request_head(Conn *c) {
        size_t n;
        int r;

        if (buffer_is_empty(&c->in))
                return 0;
        r = http_parser_feed(c->req_parser, buffer_peek(&c->in), buffer_length(&c->in), &n);
        if (r == -EMSGSIZE)
                return respond_error(c, 431, "header_too_large", "request head exceeds MaxHeaderBytes= or MaxHeaders=");
        if (r == -EBADMSG)
                return respond_error(c, 400, "bad_request", "malformed HTTP request");
        if (r < 0)
                return r;
        buffer_consume(&c->in, n);
        c->last_activity = now_usec(CLOCK_MONOTONIC);
        return r == HTTP_PARSE_HEAD ? handle_request(c) : 0;
}

static int process_request_body(Conn *c) {
        size_t n, consumed;
        int r;

        if (c->request_done || buffer_is_empty(&c->in))
                return 0;
        n = MIN(buffer_length(&c->in), buffer_room(&c->up_out));
        if (n == 0)
                return 0;
        r = http_parser_feed(c->req_parser, buffer_peek(&c->in), n, &consumed);
        if (r < 0)
                return respond_error(c, 400, "bad_request", "malformed request body framing");
        r = buffer_append(&c->up_out, buffer_peek(&c->in), consumed) < 0 ? -ENOBUFS : r;
        if (r < 0)
                return r;
        buffer_consume(&c->in, consumed);
        c->bytes_up += consumed;
        if (r == HTTP_PARSE_DONE)
                c->request_done = true;
        return 0;
}

static int handle_response_head(Conn *c) {
        HttpMessage *q = http_parser_message(c->req_parser), *rm = http_parser_message(c->resp_parser);
        _cleanup_free_ char *head = NULL;
        const char *extra = NULL;
        size_t size;
        int r;

        if (c->head_request)
                http_parser_skip_body(c->resp_parser);
        if (rm->status == 101)
                return respond_error(c, 502, "bad_gateway", "protocol upgrades are not proxied");
        if (rm->status < 200) {
                /* Interim responses (100 Continue, 103) are relayed; the final one follows. */
                r = http_message_format_head(rm, NULL, true, NULL, &head, &size);
                if (r >= 0)
                        r = buffer_append(&c->out, head, size);
                http_parser_next(c->resp_parser);
                return r;
        }
        c->status = rm->status;
        if (!q->keep_alive || !rm->keep_alive || rm->body_until_eof || c->client_eof)
                c->close_after = true;
        if (c->close_after)
                extra = "Connection: close\r\n";
        else if (q->version_minor == 0)
                extra = "Connection: keep-alive\r\n";
        r = http_message_format_head(rm, NULL, true, extra, &head, &size);
        if (r < 0)
                return r;
        r = buffer_append(&c->out, head, size);
        if (r < 0)
                return r;
        c->bytes_down += size;
        c->response_started = c->resp_head_seen = true;
        if (!rm->has_body)
                c->response_done = true;
        return 0;
}

static int process_response_eof(Conn *c) {
        HttpMessage *rm = c->resp_head_seen ? http_parser_message(c->resp_parser) : NULL;

        if (rm && rm->body_until_eof && http_parser_finish(c->resp_parser) == HTTP_PARSE_DONE) {
                c->response_done = true;
                c->close_after = true;
                return 0;
        }
        c->reason = "upstream closed the connection early";
        return respond_error(c, 502, "bad_gateway", "upstream closed the connection before a complete response");
}

static int process_response(Conn *c) {
        const size_t reserve = c->manager->http_limits.max_header_bytes + CONN_HEAD_SLACK;
        size_t n, consumed;
        int r;

        while (!c->response_done && !buffer_is_empty(&c->up_in)) {
                if (!c->resp_head_seen) {
                        if (buffer_room(&c->out) < reserve)
                                return 0;
                        r = http_parser_feed(c->resp_parser, buffer_peek(&c->up_in), buffer_length(&c->up_in), &n);
                        if (r < 0)
                                return respond_error(c, 502, "bad_gateway", "malformed or oversized upstream response head");
                        buffer_consume(&c->up_in, n);
                        if (r == HTTP_PARSE_HEAD) {
                                r = handle_response_head(c);
                                if (r < 0 || c->state != CONN_EXCHANGE)
                                        return r;
                        }
                        continue;
                }
                n = MIN(buffer_length(&c->up_in), buffer_room(&c->out));
                if (n == 0)
                        return 0;
                r = http_parser_feed(c->resp_parser, buffer_peek(&c->up_in), n, &consumed);
                if (r < 0)
                        return -EBADMSG; /* the response already started: all we can do is close */
                if (buffer_append(&c->out, buffer_peek(&c->up_in), consumed) < 0)
                        return -ENOBUFS;
                buffer_consume(&c->up_in, consumed);
                c->bytes_down += consumed;
                if (r == HTTP_PARSE_DONE)
                        c->response_done = true;
        }
        if (!c->response_done && c->up_eof && buffer_is_empty(&c->up_in))
                return process_response_eof(c);
        return 0;
}

static int check_exchange_done(Conn *c) {
        HttpMessage *rm;
        bool reuse;

        if (!c->response_done)
                return 0;
        rm = http_parser_message(c->resp_parser);
        conn_log(c, NULL);
        if (c->close_after || !c->request_done) {
                c->state = CONN_CLOSING;
                drop_upstream(c);
                return 0;
        }
        reuse = rm && rm->keep_alive && buffer_is_empty(&c->up_out) && buffer_is_empty(&c->up_in) && !c->up_eof;
        if (!reuse && c->mitm) {
                c->state = CONN_CLOSING; /* an inspected tunnel has exactly one upstream */
                drop_upstream(c);
                return 0;
        }
        if (!reuse)
                drop_upstream(c);
        exchange_reset(c);
        http_parser_next(c->req_parser);
        http_parser_next(c->resp_parser);
        c->state = CONN_REQUEST;
        return 0;
}

static void tunnel_done_cb(Tunnel *t, int error, void *userdata) {
        Conn *c = userdata;

        conn_log(c, error == 0 ? "tunnel closed" : error == -ETIMEDOUT ? "tunnel idle timeout" : "tunnel error");
        conn_free(c);
}

static int start_mitm(Conn *c);

static int maybe_start_tunnel(Conn *c) {
        const Manager *m = c->manager;
        int r;

        if (!buffer_is_empty(&c->out) || !buffer_is_empty(&c->up_out))
                return 0;
        if (conn_wants_inspection(c))
                return start_mitm(c);
        c->io = sd_event_source_disable_unref(c->io);
        c->up_io = sd_event_source_disable_unref(c->up_io);
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        buffer_done(&c->in);
        buffer_done(&c->up_in);
        c->state = CONN_TUNNEL;
        r = tunnel_new(m->event, TAKE_FD(c->fd), TAKE_FD(c->up_fd), m->buffer_bytes, m->settings->limits.idle_timeout,
                       tunnel_done_cb, c, &c->tunnel);
        return r;
}

/* Runs the state machine until nothing moves. */
static int conn_process(Conn *c) {
        for (;;) {
                ConnState before = c->state;
                size_t in = buffer_length(&c->in), up_in = buffer_length(&c->up_in);
                int r = 0;

                switch (c->state) {
                case CONN_REQUEST:
                        r = process_request_head(c);
                        break;
                case CONN_EXCHANGE:
                        r = process_request_body(c);
                        if (r >= 0 && c->state == CONN_EXCHANGE)
                                r = process_response(c);
                        if (r >= 0 && c->state == CONN_EXCHANGE)
                                r = check_exchange_done(c);
                        break;
                case CONN_TUNNEL_SETUP:
                        r = maybe_start_tunnel(c);
                        break;
                case CONN_CONNECTING:
                case CONN_TUNNEL:
                case CONN_MITM_HANDSHAKE:
                case CONN_CLOSING:
                case CONN_LINGER:
                case _CONN_STATE_MAX:
                case _CONN_STATE_INVALID:
                        break;
                }
                if (r < 0)
                        return r;
                if (c->state == before && buffer_length(&c->in) == in && buffer_length(&c->up_in) == up_in)
                        return 0;
        }
}

static usec_t conn_deadline(Conn *c) {
        const ProxyLimits *l = &c->manager->settings->limits;

        switch (c->state) {
        case CONN_REQUEST:
                /* A head in progress (or the first one) must arrive promptly; between requests we idle. */
                return c->last_activity +
                       (!buffer_is_empty(&c->in) || c->n_requests == 0 ? l->handshake_timeout : l->idle_timeout);
        case CONN_CONNECTING:
        case CONN_TUNNEL_SETUP:
        case CONN_MITM_HANDSHAKE:
                return c->last_activity + l->handshake_timeout;
        case CONN_EXCHANGE:
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

/* See leg_open(). */
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
static int conn_update(Conn *c) {
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
                if (!c->client_eof &&
                    ((c->state == CONN_REQUEST && buffer_room(&c->in) > 0) ||
                     (c->state == CONN_EXCHANGE && !c->request_done && buffer_room(&c->in) > 0) ||
                     c->state == CONN_LINGER))
                        mask |= EPOLLIN;
                if (!buffer_is_empty(&c->out) && c->state != CONN_LINGER)
                        mask |= EPOLLOUT;
                if (leg_open(c, true)) {
                        if ((c->state == CONN_EXCHANGE && !c->response_done && !c->up_eof &&
                             buffer_room(&c->up_in) > 0) ||
                            c->state == CONN_REQUEST)
                                up_mask |= EPOLLIN;
                        if (!buffer_is_empty(&c->up_out))
                                up_mask |= EPOLLOUT;
                }
                r = leg_set_interest(c, false, mask);
                if (r >= 0 && leg_open(c, true))
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

static int client_read(Conn *c) {
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
                    c->state == CONN_TUNNEL_SETUP)
                        return -ECONNRESET;
                return 0;
        }
        c->last_activity = now_usec(CLOCK_MONOTONIC);
        return 0;
}

static int up_read(Conn *c) {
        ssize_t n;

        n = leg_read(c, true, &c->up_in);
        if (n == -EAGAIN || n == -EINTR || n == -ENOBUFS)
                return 0;
        if (c->state == CONN_REQUEST) {
                /* An idle kept-alive upstream spoke or closed: it cannot be reused. */
                drop_upstream(c);
                if (c->mitm)
                        c->state = CONN_CLOSING; /* inspected tunnels have exactly one upstream */
                return 0;
        }
        if (n <= 0)
                c->up_eof = true;
        else
                c->last_activity = now_usec(CLOCK_MONOTONIC);
        return 0;
}

static int client_write(Conn *c) {
        ssize_t n;

        if (buffer_is_empty(&c->out) || !leg_open(c, false))
                return 0;
        n = leg_write(c, false, &c->out);
        if (n < 0 && n != -EAGAIN && n != -EINTR)
                return (int) n;
        if (n > 0)
                c->last_activity = now_usec(CLOCK_MONOTONIC);
        return 0;
}

static int up_write(Conn *c) {
        ssize_t n;

        if (buffer_is_empty(&c->up_out) || !leg_open(c, true))
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
static int conn_after(Conn *c, int r) {
        for (unsigned i = 0; r >= 0 && c->state != CONN_TUNNEL && c->state != CONN_MITM_HANDSHAKE; i++) {
                bool again = false;

                r = conn_process(c);
                if (r < 0 || i >= 64)
                        break;
                if (c->tls && SSL_has_pending(tls_conn_ssl(c->tls)) && buffer_room(&c->in) > 0 &&
                    IN_SET(c->state, CONN_REQUEST, CONN_EXCHANGE) && !c->client_eof) {
                        r = client_read(c);
                        again = true;
                }
                if (r >= 0 && c->up_tls && SSL_has_pending(tls_conn_ssl(c->up_tls)) && buffer_room(&c->up_in) > 0 &&
                    c->state == CONN_EXCHANGE && !c->response_done) {
                        r = up_read(c);
                        again = true;
                }
                size_t out = buffer_length(&c->out), up_out = buffer_length(&c->up_out);
                if (r >= 0)
                        r = client_write(c);
                if (r >= 0)
                        r = up_write(c);
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
                r = client_read(c);
        if (r >= 0 && (revents & EPOLLOUT))
                r = client_write(c);
        return conn_after(c, r);
}

static int up_io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;
        int r = 0;

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                r = up_read(c);
        if (r >= 0 && (revents & EPOLLOUT))
                r = up_write(c);
        return conn_after(c, r);
}

/* TlsConn callbacks: the connection cannot tell which direction woke it, so it tries both. */
static void tls_io(TlsConn *t, void *userdata) {
        Conn *c = userdata;
        bool up = t == c->up_tls;
        int r;

        r = up ? up_read(c) : client_read(c);
        if (r >= 0)
                r = up ? up_write(c) : client_write(c);
        (void) conn_after(c, r);
}

static void tls_ready(TlsConn *t, void *userdata) {
        Conn *c = userdata;

        if (++c->handshakes < 2)
                return (void) conn_update(c);
        c->state = CONN_REQUEST;
        c->n_requests = 0;
        c->last_activity = now_usec(CLOCK_MONOTONIC);
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
        .io = tls_io,
        .failed = tls_failed,
};

/* Replaces the tunnel with TLS on both legs: our leaf towards the client, a verified client towards the
 * upstream. Every request inside is then decided at L7. */
static int start_mitm(Conn *c) {
        Manager *m = c->manager;
        SSL_CTX *leaf;
        bool is_ip;
        unsigned char ip[16];
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
        is_ip = inet_pton(AF_INET, c->tunnel_host, ip) == 1 || inet_pton(AF_INET6, c->tunnel_host, ip) == 1;
        r = tls_conn_new(m->event, TAKE_FD(c->fd), leaf, true, NULL, m->settings->limits.handshake_timeout,
                         &tls_callbacks, c, &c->tls);
        if (r < 0)
                return r;
        r = tls_conn_new(m->event, TAKE_FD(c->up_fd), m->upstream_tls, false, is_ip ? NULL : c->tunnel_host,
                         m->settings->limits.handshake_timeout, &tls_callbacks, c, &c->up_tls);
        if (r < 0)
                return r;
        if (is_ip && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls_conn_ssl(c->up_tls)), c->tunnel_host) != 1)
                return -EINVAL;
        exchange_reset(c);
        http_parser_next(c->req_parser);
        c->mitm = true;
        c->handshakes = 0;
        c->state = CONN_MITM_HANDSHAKE;
        c->last_activity = now_usec(CLOCK_MONOTONIC);
        return 0;
}

static int timer_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        Conn *c = userdata;
        int r = -ETIMEDOUT;

        if (usec < conn_deadline(c))
                return conn_after(c, 0); /* activity moved the deadline */
        switch (c->state) {
        case CONN_REQUEST:
                if (!buffer_is_empty(&c->in))
                        r = respond_error(c, 408, "request_timeout", "request head not received in time");
                break;
        case CONN_CONNECTING:
                c->reason = "upstream connect timed out";
                r = respond_error(c, 504, "gateway_timeout", "upstream did not answer in time");
                break;
        case CONN_EXCHANGE:
                c->reason = "idle timeout";
                r = c->response_started ? -ETIMEDOUT
                                        : respond_error(c, 504, "gateway_timeout", "upstream did not respond in time");
                break;
        case CONN_MITM_HANDSHAKE:
                c->reason = "TLS handshake timed out";
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
        c->last_activity = now_usec(CLOCK_MONOTONIC);
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
