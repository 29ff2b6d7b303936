/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "proxy-connector.h"
#include "proxy-gateway.h"
#include "proxy-settings.h"
#include "relay-client.h"
#include "sandbox-spec.h"
#include "string-util.h"
#include "tls-conn.h"
#include "tls-server.h"

static const char *const gateway_resource_table[_GATEWAY_RESOURCE_MAX] = {
        [GATEWAY_POLICY] = "policy",
        [GATEWAY_CREDENTIALS] = "credentials",
        [GATEWAY_INFERENCE] = "inference",
};

DEFINE_STRING_TABLE_LOOKUP(gateway_resource, GatewayResource, _GATEWAY_RESOURCE_MAX);

struct GatewayClient {
        sd_event *event;
        DnsResolver *resolver;
        RelayEndpoint endpoint;
        char *authority; /* Host header */
        char *socket_path; /* NULL: connect to endpoint.host */
        char *where;       /* for messages: "HOST:PORT" or "HOST:PORT (unix:PATH)" */
        char *sandbox;
        SSL_CTX *ctx;    /* NULL: plain HTTP */
        HttpLimits limits;
        usec_t handshake_timeout;
        gateway_update_t callback;
        void *userdata;

        Connector *connector;
        TlsConn *conn;
        bool ready;          /* handshake done */
        HttpParser *parser;
        sd_event_source *timer; /* the answer's deadline, or the reconnect backoff */
        char *out;
        size_t out_size, out_sent;
        char *body;
        size_t body_size, body_allocated;
        bool in_flight, head_seen;

        GatewayResource current;
        uint64_t revision; /* last policy revision seen; 0: none yet */
        char *last[_GATEWAY_RESOURCE_MAX]; /* last body delivered, to hand over changes only */
        usec_t backoff;
        unsigned failures;
        unsigned refused[_GATEWAY_RESOURCE_MAX]; /* last error status per resource, to log changes only */
};

int gateway_request_format(const char *authority, const char *sandbox, GatewayResource what, uint64_t watch_revision,
                           char **ret) {
        const char *name = gateway_resource_to_string(what);
        char *s;

        if (!name || !sandbox)
                return -EINVAL;
        if (what == GATEWAY_POLICY && watch_revision > 0)
                s = asprintf_safe("GET /v1/sandboxes/%s/policy?watch=%" PRIu64 "&timeout=%us HTTP/1.1\r\nHost: %s\r\n"
                                  "Accept: application/json\r\n\r\n",
                                  sandbox, watch_revision, PROXY_GATEWAY_WATCH_TIMEOUT_SEC, authority);
        else
                s = asprintf_safe("GET /v1/sandboxes/%s/%s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n\r\n",
                                  sandbox, name, authority);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

usec_t gateway_backoff_next(usec_t current) {
        if (current < PROXY_GATEWAY_BACKOFF_MIN_USEC)
                return PROXY_GATEWAY_BACKOFF_MIN_USEC;
        return MIN(current * 2, PROXY_GATEWAY_BACKOFF_MAX_USEC);
}

int gateway_policy_revision(const cJSON *doc, uint64_t *ret) {
        const cJSON *rev = cJSON_GetObjectItemCaseSensitive(doc, "revision");

        if (!cJSON_IsNumber(rev) || rev->valuedouble < 1 || rev->valuedouble > 9007199254740992.0 ||
            !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "policy")))
                return -EINVAL;
        *ret = (uint64_t) rev->valuedouble;
        return 0;
}

static void disconnect(GatewayClient *g) {
        g->connector = connector_free(g->connector);
        g->conn = tls_conn_free(g->conn);
        g->ready = g->in_flight = g->head_seen = false;
        g->out = mfree(g->out);
        g->out_size = g->out_sent = 0;
        g->body_size = 0;
        if (g->parser)
                http_parser_next(g->parser);
}

static int timer_cb(sd_event_source *s, uint64_t usec, void *userdata);
static int connect_now(GatewayClient *g);

static void arm_timer(GatewayClient *g, usec_t delay) {
        (void) sd_event_source_set_time(g->timer, now_usec(CLOCK_MONOTONIC) + delay);
        (void) sd_event_source_set_enabled(g->timer, SD_EVENT_ONESHOT);
}

/* Ends the connection after a failure and tries again later. Logged at warning for the first failure in a
 * row, then at debug, so an unreachable gateway does not flood the journal. */
static void fail(GatewayClient *g, int error, const char *what) {
        g->backoff = gateway_backoff_next(g->backoff);
        if (g->failures++ == 0)
                log_warning_errno(error, "Gateway %s: %s (%m); retrying with backoff, keeping the current policy.",
                                  g->where, what);
        else
                log_debug_errno(error, "Gateway: %s (%m); next attempt in %" PRIu64 " ms.", what, g->backoff / 1000);
        disconnect(g);
        arm_timer(g, g->backoff);
}

static int send_next(GatewayClient *g) {
        int r;

        g->out = mfree(g->out);
        r = gateway_request_format(g->authority, g->sandbox, g->current,
                                   g->current == GATEWAY_POLICY ? g->revision : 0, &g->out);
        if (r < 0)
                return r;
        g->out_size = strlen(g->out);
        g->out_sent = 0;
        g->in_flight = true;
        g->head_seen = false;
        if (g->body)
                explicit_bzero(g->body, g->body_size); /* the last answer may have held secrets */
        g->body_size = 0;
        arm_timer(g, PROXY_GATEWAY_REQUEST_SLACK_USEC +
                             (g->current == GATEWAY_POLICY && g->revision > 0 ? PROXY_GATEWAY_WATCH_TIMEOUT_SEC * USEC_PER_SEC : 0));
        return tls_conn_set_interest(g->conn, true, true);
}

static void deliver(GatewayClient *g, unsigned status) {
        _cleanup_json_ cJSON *doc = NULL;
        GatewayResource what = g->current;
        uint64_t rev;

        if (status == 404 && what == GATEWAY_INFERENCE) {
                if (g->last[what] && streq(g->last[what], "")) /* already delivered "none" */
                        return;
                erase_and_free(g->last[what]);
                g->last[what] = strdup("");
                g->callback(what, NULL, g->userdata);
                return;
        }
        if (g->last[what] && g->body_size == strlen(g->last[what]) &&
            memcmp(g->last[what], strempty(g->body), g->body_size) == 0)
                return;
        if (json_parse(g->body, g->body_size, &doc, NULL, NULL) < 0) {
                log_warning("Gateway answered %s with invalid JSON, ignored.", gateway_resource_to_string(what));
                return;
        }
        if (what == GATEWAY_POLICY) {
                if (gateway_policy_revision(doc, &rev) < 0) {
                        log_warning("Gateway policy answer without a revision or policy, ignored.");
                        return;
                }
                if (rev == g->revision)
                        return; /* the watch timed out unchanged */
                g->revision = rev;
        }
        erase_and_free(g->last[what]); /* credentials and the route carry secrets */
        g->last[what] = strndup_safe(g->body, g->body_size);
        g->callback(what, doc, g->userdata);
}

/* A complete answer: hand it over, then the next request of the cycle policy → credentials → inference. */
static int complete(GatewayClient *g) {
        HttpMessage *m = http_parser_message(g->parser);
        bool keep = m->keep_alive;
        unsigned status = m->status;

        g->in_flight = false;
        if (status == 200 || (status == 404 && g->current == GATEWAY_INFERENCE)) {
                g->failures = 0;
                g->backoff = 0;
                g->refused[g->current] = 0;
                deliver(g, status);
        } else {
                if (g->refused[g->current] != status)
                        log_warning("Gateway answered %u to the %s request, keeping what we have: %.*s", status,
                                    gateway_resource_to_string(g->current), (int) MIN(g->body_size, 512U),
                                    strempty(g->body));
                g->refused[g->current] = status;
                /* Without a policy answer there is no watch to follow: back off. A refused credentials or
                 * route request (e.g. an administrator identity on a DisableTLS=yes gateway) is skipped. */
                if (g->current == GATEWAY_POLICY) {
                        fail(g, -EPROTO, "policy request refused");
                        return 0;
                }
        }
        g->current = (g->current + 1) % _GATEWAY_RESOURCE_MAX;
        http_parser_next(g->parser);
        if (!keep) {
                disconnect(g);
                return connect_now(g);
        }
        return send_next(g);
}

static int append_body(GatewayClient *g, const char *p, size_t n) {
        if (g->body_size + n > PROXY_GATEWAY_MAX_RESPONSE_BYTES)
                return -EMSGSIZE;
        if (!GREEDY_REALLOC(g->body, g->body_allocated, g->body_size + n + 1))
                return -ENOMEM;
        memcpy(g->body + g->body_size, p, n);
        g->body_size += n;
        g->body[g->body_size] = 0;
        return 0;
}

/* Feeds bytes to the response parser; returns 1 when the answer is complete. */
static int consume(GatewayClient *g, const char *p, size_t n) {
        while (n > 0) {
                size_t used;
                int r = http_parser_feed(g->parser, p, n, &used);

                if (r < 0)
                        return r;
                if (g->head_seen && used > 0) {
                        HttpMessage *m = http_parser_message(g->parser);
                        /* The body bytes as framed: the gateway sends Content-Length bodies. */
                        if (m->chunked)
                                return -EBADMSG;
                        r = append_body(g, p, used) < 0 ? -EMSGSIZE : r;
                        if (r < 0)
                                return r;
                }
                p += used;
                n -= used;
                if (r == HTTP_PARSE_HEAD) {
                        g->head_seen = true;
                        if (!http_parser_message(g->parser)->has_body)
                                return 1;
                } else if (r == HTTP_PARSE_DONE)
                        return 1;
        }
        return 0;
}

static void io_cb(TlsConn *t, void *userdata) {
        GatewayClient *g = userdata;
        char buf[16384];
        ssize_t n;
        int r = 0;

        while (g->out_sent < g->out_size) {
                n = tls_conn_write(g->conn, g->out + g->out_sent, g->out_size - g->out_sent);
                if (n == -EAGAIN)
                        break;
                if (n < 0)
                        return fail(g, (int) n, "write failed");
                g->out_sent += (size_t) n;
        }
        (void) tls_conn_set_interest(g->conn, true, g->out_sent < g->out_size);
        for (;;) {
                n = tls_conn_read(g->conn, buf, sizeof(buf));
                if (n == -EAGAIN)
                        return;
                if (n <= 0)
                        return fail(g, n == 0 ? -ECONNRESET : (int) n, "connection closed");
                if (!g->in_flight)
                        return fail(g, -EPROTO, "unsolicited data");
                r = consume(g, buf, (size_t) n);
                if (r < 0)
                        return fail(g, r, "malformed or oversized answer");
                if (r > 0) {
                        r = complete(g);
                        if (r < 0)
                                return fail(g, r, "cannot send the next request");
                        return; /* complete() may have reconnected: do not touch the old connection */
                }
        }
}

static void ready_cb(TlsConn *t, void *userdata) {
        GatewayClient *g = userdata;
        int r;

        g->ready = true;
        if (g->failures > 0)
                log_info("Gateway %s reachable again.", g->where);
        r = send_next(g);
        if (r < 0)
                fail(g, r, "cannot send a request");
}

static void failed_cb(TlsConn *t, int error, void *userdata) {
        fail(userdata, error, error == -EPROTO ? "TLS handshake or certificate verification failed" : "TLS failed");
}

static const TlsConnCallbacks callbacks = {
        .ready = ready_cb,
        .io = io_cb,
        .failed = failed_cb,
};

static void connected_cb(Connector *k, int fd, const char *detail, void *userdata) {
        GatewayClient *g = userdata;
        int r;

        g->connector = connector_free(g->connector);
        if (fd < 0)
                return fail(g, fd, "cannot connect");
        r = tls_conn_new(g->event, fd, g->ctx, false, NULL, g->handshake_timeout, &callbacks, g, &g->conn);
        if (r >= 0 && g->ctx)
                r = relay_client_set_server_name(tls_conn_ssl(g->conn), g->endpoint.host);
        if (r < 0)
                fail(g, r, "cannot start TLS");
}

static int connect_now(GatewayClient *g) {
        (void) sd_event_source_set_enabled(g->timer, SD_EVENT_OFF);
        if (g->socket_path)
                return connector_start_unix(g->event, g->socket_path, connected_cb, g, &g->connector);
        return connector_start(g->event, g->resolver, g->endpoint.host, g->endpoint.port, NULL, NULL, connected_cb, g,
                               &g->connector);
}

static int timer_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        GatewayClient *g = userdata;
        int r;

        if (g->conn || g->connector) {
                fail(g, -ETIMEDOUT, g->ready ? "no answer in time" : "connect or handshake timed out");
                return 0;
        }
        r = connect_now(g);
        if (r < 0)
                fail(g, r, "cannot connect");
        return 0;
}

static int options_check(const GatewayClientOptions *o, RelayEndpoint *e, const char **ret_why) {
        struct sockaddr_storage ss;
        socklen_t len;

        if (!o->url || relay_endpoint_parse(o->url, e) < 0)
                return *ret_why = "--gateway must be https://HOST[:PORT]", -EINVAL;
        if (o->socket_path && proxy_parse_unix_address(o->socket_path, &ss, &len) < 0)
                return *ret_why = "--gateway-socket must be an absolute, normalized socket path of at most 107 bytes",
                       -EINVAL;
        if (isempty(o->sandbox))
                return *ret_why = "gateway mode needs --sandbox NAME (the identity in the client certificate)", -EINVAL;
        if (!sandbox_name_is_valid(o->sandbox))
                return *ret_why = "--sandbox must be a sandbox name ([a-z0-9-], at most 63) in gateway mode", -EINVAL;
        if (!o->ca != !o->cert || !o->cert != !o->key)
                return *ret_why = "--gateway-ca, --gateway-cert and --gateway-key go together", -EINVAL;
        if (e->tls && !o->ca)
                return *ret_why = "an https:// gateway needs --gateway-ca, --gateway-cert and --gateway-key", -EINVAL;
        if (!e->tls && o->ca)
                return *ret_why = "client certificates need an https:// gateway", -EINVAL;
        return 0;
}

int gateway_client_new(sd_event *event, DnsResolver *resolver, const GatewayClientOptions *o, gateway_update_t cb,
                       void *userdata, GatewayClient **ret, char **ret_error) {
        _cleanup_(gateway_client_freep) GatewayClient *g = new0(GatewayClient, 1);
        const char *why = NULL;
        int r;

        if (!g)
                return -ENOMEM;
        r = options_check(o, &g->endpoint, &why);
        if (r < 0) {
                if (ret_error)
                        *ret_error = strdup(why);
                return r;
        }
        if (g->endpoint.tls) {
                r = relay_client_context_new(o->ca, o->cert, o->key, &g->ctx);
                if (r < 0) {
                        if (ret_error)
                                *ret_error = asprintf_safe("cannot load the gateway client certificate: %s", strerror(-r));
                        return r;
                }
        }
        g->event = sd_event_ref(event);
        g->resolver = resolver;
        g->callback = cb;
        g->userdata = userdata;
        g->limits = o->limits;
        g->handshake_timeout = o->handshake_timeout;
        g->sandbox = strdup(o->sandbox);
        g->authority = asprintf_safe(strchr(g->endpoint.host, ':') ? "[%s]:%u" : "%s:%u", g->endpoint.host,
                                     g->endpoint.port);
        g->socket_path = o->socket_path ? strdup(o->socket_path) : NULL;
        g->where = o->socket_path ? asprintf_safe("%s (unix:%s)", g->authority, o->socket_path) : strdup(g->authority);
        if (!g->sandbox || !g->authority || !g->where || (o->socket_path && !g->socket_path))
                return -ENOMEM;
        r = http_parser_new(HTTP_PARSER_RESPONSE, &g->limits, &g->parser);
        if (r < 0)
                return r;
        r = sd_event_add_time(event, &g->timer, CLOCK_MONOTONIC, USEC_INFINITY, 0, timer_cb, g);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(g->timer, SD_EVENT_OFF);
        *ret = TAKE_PTR(g);
        return 0;
}

int gateway_client_start(GatewayClient *g) {
        return connect_now(g);
}

GatewayClient *gateway_client_free(GatewayClient *g) {
        if (!g)
                return NULL;
        disconnect(g);
        sd_event_source_disable_unref(g->timer);
        http_parser_free(g->parser);
        SSL_CTX_free(g->ctx);
        free(g->authority);
        free(g->socket_path);
        free(g->where);
        free(g->sandbox);
        if (g->body)
                explicit_bzero(g->body, g->body_allocated);
        free(g->body);
        for (size_t i = 0; i < _GATEWAY_RESOURCE_MAX; i++)
                erase_and_free(g->last[i]);
        sd_event_unref(g->event);
        return mfree(g);
}
