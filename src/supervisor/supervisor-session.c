/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "alloc-util.h"
#include "dns-async.h"
#include "fd-util.h"
#include "http-message.h"
#include "log.h"
#include "relay-conn.h"
#include "string-util.h"
#include "supervisor-session.h"
#include "tls-server.h"

struct Session {
        Manager *manager;
        SessionState state;
        RelayEndpoint endpoint;
        char *path;
        char *server_name;
        SSL_CTX *ctx; /* NULL: plain http:// endpoint */

        DnsResolver *resolver;
        DnsQuery *query;
        TlsConn *tls;
        HttpParser *parser;
        char *request;
        size_t request_off;
        RelayConn *relay;

        sd_event_source *timer; /* backoff, and in SESSION_OPEN the ping/liveness tick */
        usec_t backoff;
        usec_t last_rx;
        bool notified;
};

static const char *const session_state_table[_SESSION_STATE_MAX] = {
        [SESSION_WAITING] = "waiting",     [SESSION_RESOLVING] = "resolving", [SESSION_CONNECTING] = "connecting",
        [SESSION_UPGRADING] = "upgrading", [SESSION_OPEN] = "open",
};
DEFINE_STRING_TABLE_LOOKUP(session_state, SessionState, _SESSION_STATE_MAX);

static void session_dial(Session *s);

SessionState session_get_state(const Session *s) {
        return s->state;
}

/* Drops the connection (whatever stage it reached) without touching the timer. */
static void session_disconnect(Session *s) {
        bool was_open = s->state == SESSION_OPEN;

        s->query = dns_query_cancel(s->query);
        s->relay = relay_conn_free(s->relay);
        s->tls = tls_conn_free(s->tls);
        s->parser = http_parser_free(s->parser);
        s->request = mfree(s->request);
        s->request_off = 0;
        s->state = SESSION_WAITING;
        if (was_open)
                manager_session_lost(s->manager);
}

static void session_retry(Session *s, int error, const char *what) {
        session_disconnect(s);
        log_warning_errno(error, "Gateway session to %s:%u: %s (%m); retrying in %" PRIu64 "s.", s->endpoint.host,
                          s->endpoint.port, what, s->backoff / USEC_PER_SEC);
        (void) sd_event_source_set_time_relative(s->timer, s->backoff);
        (void) sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        s->backoff = MIN(s->backoff * 2, (usec_t) SESSION_BACKOFF_MAX_USEC);
}

static int session_timer_cb(sd_event_source *es, uint64_t usec, void *userdata) {
        Session *s = userdata;
        usec_t now = now_usec(CLOCK_MONOTONIC);

        if (s->state != SESSION_OPEN) {
                session_dial(s);
                return 0;
        }
        if (now - s->last_rx > SESSION_DEAD_USEC) {
                session_retry(s, -ETIMEDOUT, "the gateway stopped answering");
                return 0;
        }
        (void) relay_conn_send(s->relay, RELAY_FRAME_PING, RELAY_CHANNEL_CONTROL, NULL, 0);
        (void) sd_event_source_set_time_relative(s->timer, SESSION_PING_INTERVAL_USEC);
        (void) sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        return 0;
}

static int session_relay_frame(RelayConn *rc, const RelayFrame *f, void *userdata) {
        Session *s = userdata;

        s->last_rx = now_usec(CLOCK_MONOTONIC);
        if (f->type == RELAY_FRAME_PING)
                return relay_conn_send(rc, RELAY_FRAME_PONG, RELAY_CHANNEL_CONTROL, NULL, 0);
        if (f->type == RELAY_FRAME_PONG)
                return 0;
        manager_session_frame(s->manager, f);
        return 0;
}

static void session_relay_drained(RelayConn *rc, void *userdata) {
        Session *s = userdata;
        manager_session_drained(s->manager);
}

static void session_relay_closed(RelayConn *rc, int error, void *userdata) {
        Session *s = userdata;
        session_retry(s, error ?: -ECONNRESET, "session closed");
}

static const RelayConnCallbacks session_relay_callbacks = {
        .frame = session_relay_frame,
        .drained = session_relay_drained,
        .closed = session_relay_closed,
};

static int session_open(Session *s, const void *rest, size_t rest_size) {
        int r;

        r = relay_conn_new(s->manager->event, s->tls, rest, rest_size, &session_relay_callbacks, s, &s->relay);
        if (r < 0)
                return r;
        s->parser = http_parser_free(s->parser);
        s->state = SESSION_OPEN;
        s->backoff = SESSION_BACKOFF_MIN_USEC;
        s->last_rx = now_usec(CLOCK_MONOTONIC);
        (void) sd_event_source_set_time_relative(s->timer, SESSION_PING_INTERVAL_USEC);
        (void) sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        log_info("Gateway session established (%s:%u, sandbox %s).", s->endpoint.host, s->endpoint.port,
                 s->manager->config->sandbox);
        if (!s->notified) {
                (void) sd_notify(false, "READY=1\nSTATUS=Connected to the gateway");
                s->notified = true;
        }
        return 0;
}

/* Sends the upgrade request, then reads the response head; the bytes after it belong to the relay. */
static int session_upgrade_io(Session *s) {
        char buf[4096];

        while (s->request[s->request_off]) {
                ssize_t n = tls_conn_write(s->tls, s->request + s->request_off, strlen(s->request + s->request_off));
                if (n == -EAGAIN)
                        return tls_conn_set_interest(s->tls, true, true);
                if (n < 0)
                        return (int) n;
                s->request_off += (size_t) n;
        }
        for (;;) {
                size_t consumed = 0;
                ssize_t n = tls_conn_read(s->tls, buf, sizeof(buf));
                int r;

                if (n == -EAGAIN)
                        return tls_conn_set_interest(s->tls, true, false);
                if (n <= 0)
                        return n == 0 ? -ECONNRESET : (int) n;
                r = http_parser_feed(s->parser, buf, (size_t) n, &consumed);
                if (r < 0)
                        return -EPROTO;
                if (r == HTTP_PARSE_AGAIN)
                        continue;
                r = relay_upgrade_check_response(http_parser_message(s->parser));
                if (r < 0) {
                        log_error("Gateway refused the session: HTTP %u %s", http_parser_message(s->parser)->status,
                                  strempty(http_parser_message(s->parser)->reason));
                        return -EPERM;
                }
                return session_open(s, buf + consumed, (size_t) n - consumed);
        }
}

static void session_tls_ready(TlsConn *t, void *userdata) {
        Session *s = userdata;
        int r;

        s->state = SESSION_UPGRADING;
        r = session_upgrade_io(s);
        if (r < 0)
                session_retry(s, r, "upgrade failed");
}

static void session_tls_io(TlsConn *t, void *userdata) {
        Session *s = userdata;
        int r;

        if (s->state == SESSION_OPEN) {
                relay_conn_io(s->relay);
                return;
        }
        r = session_upgrade_io(s);
        if (r < 0)
                session_retry(s, r, "upgrade failed");
}

static void session_tls_failed(TlsConn *t, int error, void *userdata) {
        session_retry(userdata, error, "TLS handshake failed");
}

static const TlsConnCallbacks session_tls_callbacks = {
        .ready = session_tls_ready,
        .io = session_tls_io,
        .failed = session_tls_failed,
};

static int session_connect(Session *s, const struct addrinfo *ai) {
        _cleanup_close_ int fd = -EBADF;
        HttpLimits limits = { .max_header_bytes = HTTP_MAX_HEADER_BYTES_DEFAULT, .max_headers = HTTP_MAX_HEADERS_DEFAULT };
        int r;

        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
        if (fd < 0)
                return negative_errno();
        /* Interactive traffic in small frames: no Nagle delay. */
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int) { 1 }, sizeof(int));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
                return negative_errno();
        r = http_parser_new(HTTP_PARSER_RESPONSE, &limits, &s->parser);
        if (r < 0)
                return r;
        s->request = relay_upgrade_request("GET", s->path, &s->endpoint);
        if (!s->request)
                return -ENOMEM;
        s->state = SESSION_CONNECTING;
        return tls_conn_new(s->manager->event, TAKE_FD(fd), s->ctx, false, s->ctx ? s->server_name : NULL,
                            SESSION_HANDSHAKE_TIMEOUT_USEC, &session_tls_callbacks, s, &s->tls);
}

static void session_resolved(DnsQuery *q, int error, const struct addrinfo *ai, void *userdata) {
        Session *s = userdata;
        int r;

        s->query = NULL;
        if (error < 0 || !ai) {
                session_retry(s, error ?: -ENOENT, "cannot resolve the gateway");
                return;
        }
        r = session_connect(s, ai);
        if (r < 0)
                session_retry(s, r, "cannot connect");
}

/* An IP literal (the proxy's address: the usual case) needs no resolver. That matters beyond speed:
 * getaddrinfo_a() runs on glibc helper threads whose exit dlopen()s libgcc_s, which a side-loaded
 * supervisor in a minimal image may not have. */
static bool session_dial_literal(Session *s) {
        struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(s->endpoint.port) };
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(s->endpoint.port) };
        struct addrinfo ai = { .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP };
        int r;

        if (inet_pton(AF_INET, s->endpoint.host, &in.sin_addr) == 1)
                ai = (struct addrinfo) { .ai_family = AF_INET, .ai_addr = (struct sockaddr *) &in, .ai_addrlen = sizeof(in) };
        else if (inet_pton(AF_INET6, s->endpoint.host, &in6.sin6_addr) == 1)
                ai = (struct addrinfo) { .ai_family = AF_INET6, .ai_addr = (struct sockaddr *) &in6, .ai_addrlen = sizeof(in6) };
        else
                return false;
        r = session_connect(s, &ai);
        if (r < 0)
                session_retry(s, r, "cannot connect");
        return true;
}

static void session_dial(Session *s) {
        int r;

        if (session_dial_literal(s))
                return;
        s->state = SESSION_RESOLVING;
        r = dns_resolve(s->resolver, s->endpoint.host, s->endpoint.port, session_resolved, s, &s->query);
        if (r < 0)
                session_retry(s, r, "cannot resolve the gateway");
}

static int session_setup_tls(Session *s, const ManagerConfig *c) {
        struct in6_addr a;
        int r;

        if (!s->endpoint.tls) {
                log_warning("OPENSHELL_ENDPOINT is plain http://: the gateway session is not authenticated.");
                return 0;
        }
        if (!c->tls_ca || !c->tls_cert || !c->tls_key)
                return log_error_errno(EINVAL, "An https:// endpoint needs OPENSHELL_TLS_CA, OPENSHELL_TLS_CERT and OPENSHELL_TLS_KEY.");
        r = relay_client_context_new(c->tls_ca, c->tls_cert, c->tls_key, &s->ctx);
        if (r < 0)
                return log_error_errno(r, "Failed to load the client certificate (%s, %s, %s): %m", c->tls_ca,
                                       c->tls_cert, c->tls_key);
        /* Through the proxy's forward the endpoint is the proxy's address, which the gateway certificate
         * does not name: verify the name it always carries. */
        if (c->server_name)
                s->server_name = strdup(c->server_name);
        else if (inet_pton(AF_INET, s->endpoint.host, &a) == 1 || inet_pton(AF_INET6, s->endpoint.host, &a) == 1)
                s->server_name = strdup(RELAY_GATEWAY_SERVER_NAME);
        else
                s->server_name = strdup(s->endpoint.host);
        return s->server_name ? 0 : log_oom();
}

int session_new(Manager *m, Session **ret) {
        _cleanup_(session_freep) Session *s = NULL;
        const ManagerConfig *c = m->config;
        int r;

        s = new0(Session, 1);
        if (!s)
                return log_oom();
        s->manager = m;
        s->backoff = SESSION_BACKOFF_MIN_USEC;
        if (relay_endpoint_parse(c->endpoint_url, &s->endpoint) < 0)
                return log_error_errno(EINVAL, "Invalid OPENSHELL_ENDPOINT '%s': expected https://HOST[:PORT].", c->endpoint_url);
        if (!c->sandbox || !ascii_is_lower_alnum_dash(c->sandbox))
                return log_error_errno(EINVAL, "OPENSHELL_SANDBOX must name the sandbox (a DNS label) for the gateway session.");
        s->path = strjoin("/v1/sandboxes/", c->sandbox, "/session");
        if (!s->path)
                return log_oom();
        r = session_setup_tls(s, c);
        if (r < 0)
                return r;
        r = dns_resolver_new(m->event, &s->resolver);
        if (r < 0)
                return log_error_errno(r, "Failed to set up name resolution: %m");
        r = sd_event_add_time_relative(m->event, &s->timer, CLOCK_MONOTONIC, 0, 0, session_timer_cb, s);
        if (r < 0)
                return log_error_errno(r, "Failed to add the session timer: %m");
        *ret = TAKE_PTR(s);
        return 0;
}

Session *session_free(Session *s) {
        if (!s)
                return NULL;
        s->query = dns_query_cancel(s->query);
        relay_conn_free(s->relay);
        tls_conn_free(s->tls);
        http_parser_free(s->parser);
        dns_resolver_free(s->resolver);
        sd_event_source_disable_unref(s->timer);
        SSL_CTX_free(s->ctx);
        free(s->request);
        free(s->path);
        free(s->server_name);
        return mfree(s);
}

int session_send(Session *s, RelayFrameType type, uint32_t channel, const void *payload, size_t size) {
        if (s->state != SESSION_OPEN)
                return -ENOTCONN;
        return relay_conn_send(s->relay, type, channel, payload, size);
}

bool session_congested(const Session *s) {
        return s->state == SESSION_OPEN && relay_conn_congested(s->relay);
}

void session_pause(Session *s, bool paused) {
        if (s->state == SESSION_OPEN)
                relay_conn_pause(s->relay, paused);
}
