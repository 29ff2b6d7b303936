/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP side of a proxy connection: request heads, the policy decision, CONNECT set-up and the
 * relaying of one request/response exchange at a time (RFC 9112). */
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "proxy-conn-internal.h"
#include "proxy-credentials.h"
#include "proxy-log.h"
#include "proxy-request.h"
#include "proxy-response.h"
#include "proxy-tls.h"
#include "string-util.h"

/* Swaps credential placeholders for real values (the log keeps c->target with the placeholder). */
static int substitute_credentials(Conn *c, HttpMessage *m, char **target) {
        _cleanup_free_ char *key = NULL, *detail = NULL;
        int r;

        r = credential_substitute_request(c->manager->credentials, c->host, m, target, &key);
        if (r != -ENOKEY && r != -EACCES)
                return r;
        detail = asprintf_safe(r == -ENOKEY ? "unknown credential placeholder %s" :
                                              "credential %s is not bound to this host", strna(key));
        c->decision.layer = POLICY_LAYER_L7;
        c->reason = r == -ENOKEY ? "unknown credential placeholder" : "credential endpoint mismatch";
        r = conn_respond_denied_full(c, r == -ENOKEY ? "unknown_credential" : "credential_endpoint_mismatch",
                                     detail ?: "credential refused", false);
        return r < 0 ? r : 1;
}

static int start_exchange(Conn *c) {
        HttpMessage *m = http_parser_message(c->req_parser);
        _cleanup_erase_ char *head = NULL;
        _cleanup_free_ char *target = strdup(c->target);
        size_t size;
        int r;

        if (!target)
                return -ENOMEM;
        r = substitute_credentials(c, m, &target);
        if (r != 0)
                return r < 0 ? r : 0;
        r = proxy_format_upstream_head(m, target, c->authority, &head, &size);
        if (r < 0)
                return r;
        r = buffer_append(&c->up_out, head, size);
        if (r < 0)
                return conn_respond_error(c, 431, "header_too_large", "request head too large to forward");
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

static void connected_cb(Connector *k, int fd, const char *d, void *userdata) {
        _cleanup_free_ char *detail = strdup(d); /* d lives in the connector, freed next */
        Conn *c = userdata;
        int r;

        c->connector = connector_free(c->connector);
        if (!detail)
                r = -ENOMEM;
        else if (fd == -EPERM) {
                c->decision.layer = POLICY_LAYER_L4;
                r = conn_respond_denied(c, detail, false);
        } else if (fd < 0) {
                c->reason = "upstream unreachable";
                r = conn_respond_error(c, 502, "upstream_unreachable", detail);
        } else {
                c->up_fd = fd;
                c->up_key = asprintf_safe("%s:%u", c->host, c->port);
                r = c->up_key ? sd_event_add_io(c->manager->event, &c->up_io, c->up_fd, 0, conn_up_io_cb, c) : -ENOMEM;
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
                        return conn_respond_error(c, 400, "bad_request", "CONNECT needs host:port");
                c->authority = strdup(m->target);
                return c->authority ? 0 : -ENOMEM;
        }
        r = proxy_parse_absolute_uri(m->target, &c->authority, &c->host, &c->port, &c->target);
        if (r == -EPROTONOSUPPORT)
                return conn_respond_error(c, 400, "bad_request", "only http:// URIs are proxied; use CONNECT for https");
        if (r == -EINVAL)
                return conn_respond_error(c, 400, "bad_request", "a proxy request needs an absolute http:// URI");
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
                return conn_respond_error(c, 400, "bad_request", "invalid destination");
        if (r < 0)
                return r;
        if (!c->decision.allowed)
                return conn_respond_denied(c, c->decision.reason, !c->is_connect && !m->has_body && m->keep_alive);
        if (c->is_connect && conn_wants_inspection(c) && !c->manager->leaf_cache) {
                c->decision.layer = POLICY_LAYER_L7;
                return conn_respond_denied(c,
                                      "protocol rest needs TLS inspection, which needs --tls-dir; "
                                      "set tls: skip for an uninspected tunnel",
                                      false);
        }
        return 1;
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
                return conn_respond_error(c, 400, "bad_request", "requests inside a tunnel must use origin-form");
        if (!proxy_host_header_matches(host, c->tunnel_host, c->tunnel_port)) {
                c->decision.layer = POLICY_LAYER_L7;
                return conn_respond_denied(c, "the Host header does not match the CONNECT target", false);
        }
        if (c->inference_tunnel)
                return conn_inference_request(c, m);
        r = check_policy(c, m);
        if (r <= 0)
                return r;
        c->close_after = !m->keep_alive;
        if (!conn_leg_open(c, true) || c->up_eof)
                return conn_respond_error(c, 502, "bad_gateway", "the upstream closed the inspected connection");
        return start_exchange(c);
}

static int handle_request(Conn *c) {
        HttpMessage *m = http_parser_message(c->req_parser);
        _cleanup_free_ char *key = NULL;
        int r;

        conn_exchange_reset(c);
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
        if (inference_is_host(c->host))
                return c->is_connect ? conn_inference_connect(c) : conn_inference_request(c, m);
        r = check_policy(c, m);
        if (r <= 0)
                return r;
        c->close_after = !m->keep_alive;
        key = asprintf_safe("%s:%u", c->host, c->port);
        if (!key)
                return -ENOMEM;
        if (!c->is_connect && c->up_fd >= 0 && streq_ptr(c->up_key, key) && buffer_is_empty(&c->up_out))
                return start_exchange(c);
        conn_drop_upstream(c);
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
        /* A pipelined request waits until the previous response drained enough for our own answer. */
        if (buffer_room(&c->out) < c->manager->http_limits.max_header_bytes + CONN_HEAD_SLACK)
                return 0;
        r = http_parser_feed(c->req_parser, buffer_peek(&c->in), buffer_length(&c->in), &n);
        if (r == -EMSGSIZE)
                return conn_respond_error(c, 431, "header_too_large", "request head exceeds MaxHeaderBytes= or MaxHeaders=");
        if (r == -EBADMSG)
                return conn_respond_error(c, 400, "bad_request", "malformed HTTP request");
        if (r < 0)
                return r;
        buffer_consume(&c->in, n);
        c->head_bytes += n;
        c->last_activity = now_usec(CLOCK_MONOTONIC);
        if (r != HTTP_PARSE_HEAD)
                return 0;
        c->head_bytes = 0;
        return handle_request(c);
}

static int process_request_body(Conn *c) {
        size_t n, consumed;
        int r;

        if (c->inference)
                return conn_inference_feed_upstream(c);
        if (c->request_done || buffer_is_empty(&c->in))
                return 0;
        n = MIN(buffer_length(&c->in), buffer_room(&c->up_out));
        if (n == 0)
                return 0;
        r = http_parser_feed(c->req_parser, buffer_peek(&c->in), n, &consumed);
        if (r < 0)
                return conn_respond_error(c, 400, "bad_request", "malformed request body framing");
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
                return conn_respond_error(c, 502, "bad_gateway", "protocol upgrades are not proxied");
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
        return conn_respond_error(c, 502, "bad_gateway", "upstream closed the connection before a complete response");
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
                                return conn_respond_error(c, 502, "bad_gateway", "malformed or oversized upstream response head");
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
                conn_drop_upstream(c);
                return 0;
        }
        reuse = rm && rm->keep_alive && buffer_is_empty(&c->up_out) && buffer_is_empty(&c->up_in) && !c->up_eof;
        if (!reuse && c->mitm && !c->inference_tunnel) {
                c->state = CONN_CLOSING; /* an inspected tunnel has exactly one upstream */
                conn_drop_upstream(c);
                return 0;
        }
        if (!reuse)
                conn_drop_upstream(c);
        conn_exchange_reset(c);
        http_parser_next(c->req_parser);
        http_parser_next(c->resp_parser);
        c->state = CONN_REQUEST;
        c->head_started = now_usec(CLOCK_MONOTONIC); /* a pipelined head may wait in c->in */
        return 0;
}

static void tunnel_done_cb(Tunnel *t, int error, void *userdata) {
        Conn *c = userdata;

        conn_log(c, error == 0 ? "tunnel closed" : error == -ETIMEDOUT ? "tunnel idle timeout" : "tunnel error");
        conn_free(c);
}

static int maybe_start_tunnel(Conn *c) {
        const Manager *m = c->manager;
        int r;

        if (!buffer_is_empty(&c->out) || !buffer_is_empty(&c->up_out))
                return 0;
        if (c->inference_tunnel || conn_wants_inspection(c))
                return conn_start_mitm(c);
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
int conn_process(Conn *c) {
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
                case CONN_INFERENCE_BODY:
                        r = conn_inference_process_body(c);
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
