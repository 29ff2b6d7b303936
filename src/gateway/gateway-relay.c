/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>

#include "alloc-util.h"
#include "gateway-manager.h"
#include "gateway-relay.h"
#include "json-util.h"
#include "log.h"
#include "relay-client.h"
#include "relay-conn.h"
#include "string-util.h"

#define RELAY_UPGRADE_RESPONSE                                                                              \
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " RELAY_PROTOCOL "\r\n\r\n"

typedef enum PeerKind {
        PEER_SESSION, /* a sandbox's supervisor */
        PEER_CLIENT,  /* a CLI exec/connect/upload/download */
        _PEER_KIND_MAX,
        _PEER_KIND_INVALID = -EINVAL,
} PeerKind;

typedef struct Bridge Bridge;

struct RelayPeer {
        RelayHub *hub;
        Conn *conn;
        RelayConn *rc;
        PeerKind kind;
        char name[IDENTITY_NAME_MAX];

        /* PEER_SESSION */
        RelayPeer *prev, *next; /* the hub's sessions */
        Bridge *bridges;
        unsigned n_bridges;
        uint32_t next_channel;
        sd_event_source *idle_timer; /* sessions: silence; clients: the OPEN deadline */
        usec_t last_rx;

        /* PEER_CLIENT */
        Bridge *bridge;
};

/* One CLI channel carried on a session under a channel id of the session's. */
struct Bridge {
        RelayPeer *session, *client;
        uint32_t session_channel, client_channel;
        Bridge *prev, *next; /* the session's bridges */
};

struct RelayHub {
        sd_event *event;
        Store *store;
        RelayPeer *sessions;
};

static int relay_hub_new(sd_event *event, Store *store, RelayHub **ret) {
        RelayHub *h = new0(RelayHub, 1);

        if (!h)
                return -ENOMEM;
        h->event = sd_event_ref(event);
        h->store = store;
        *ret = h;
        return 0;
}

/* Peers belong to their Conns, which the Manager frees before the hub. */
RelayHub *relay_hub_free(RelayHub *h) {
        if (!h)
                return NULL;
        sd_event_unref(h->event);
        return mfree(h);
}

static RelayPeer *hub_find_session(RelayHub *h, const char *name) {
        for (RelayPeer *p = h->sessions; p; p = p->next)
                if (streq(p->name, name))
                        return p;
        return NULL;
}

bool relay_hub_has_session(RelayHub *h, const char *name) {
        return hub_find_session(h, name);
}

static void bridge_free(Bridge *b) {
        RelayPeer *s = b->session;

        if (b->prev)
                b->prev->next = b->next;
        else
                s->bridges = b->next;
        if (b->next)
                b->next->prev = b->prev;
        s->n_bridges--;
        b->client->bridge = NULL;
        free(b);
}

static Bridge *session_find_bridge(RelayPeer *s, uint32_t channel) {
        for (Bridge *b = s->bridges; b; b = b->next)
                if (b->session_channel == channel)
                        return b;
        return NULL;
}

/* Ends a client's channel from our side: an ERROR it prints, then close once flushed. */
static void client_fail(RelayPeer *c, uint32_t channel, const char *message) {
        (void) relay_conn_send(c->rc, RELAY_FRAME_ERROR, channel, message, strlen(message));
        relay_conn_finish(c->rc);
}

RelayPeer *gateway_relay_peer_free(RelayPeer *p) {
        if (!p)
                return NULL;
        if (p->kind == PEER_CLIENT && p->bridge) {
                Bridge *b = p->bridge;
                /* The requester went away: the supervisor hangs the process up. */
                (void) relay_conn_send(b->session->rc, RELAY_FRAME_CLOSE, b->session_channel, NULL, 0);
                relay_conn_pause(b->session->rc, false);
                bridge_free(b);
        }
        if (p->kind == PEER_SESSION) {
                while (p->bridges) {
                        RelayPeer *c = p->bridges->client;
                        uint32_t ch = p->bridges->client_channel;

                        bridge_free(p->bridges);
                        client_fail(c, ch, "the sandbox's supervisor session ended");
                        relay_conn_pause(c->rc, false);
                }
                if (p->prev)
                        p->prev->next = p->next;
                else if (p->hub->sessions == p)
                        p->hub->sessions = p->next;
                if (p->next)
                        p->next->prev = p->prev;
                log_info("Sandbox %s: supervisor session closed.", p->name);
        }
        sd_event_source_disable_unref(p->idle_timer);
        relay_conn_free(p->rc);
        return mfree(p);
}

void gateway_relay_io(RelayPeer *p) {
        relay_conn_io(p->rc);
}

static void peer_closed(RelayConn *rc, int error, void *userdata) {
        RelayPeer *p = userdata;

        if (error < 0)
                log_debug_errno(error, "Relay %s for sandbox %s closed: %m", p->kind == PEER_SESSION ? "session" : "client", p->name);
        conn_free(p->conn); /* frees p through gateway_relay_peer_free() */
}

/* A client reads slowly: hold its session until every client of the session has drained. */
static void session_update_pause(RelayPeer *s) {
        bool congested = false;

        for (Bridge *b = s->bridges; b; b = b->next)
                congested = congested || relay_conn_congested(b->client->rc);
        relay_conn_pause(s->rc, congested);
}

static int client_open(RelayPeer *c, const RelayFrame *f) {
        RelayPeer *s = hub_find_session(c->hub, c->name);
        Bridge *b;
        char msg[160];

        if (c->bridge) {
                client_fail(c, f->channel, "one channel per connection");
                return 0;
        }
        if (!s) {
                snprintf(msg, sizeof(msg), "sandbox %s has no supervisor session (is it running?)", c->name);
                client_fail(c, f->channel, msg);
                return 0;
        }
        if (s->n_bridges >= GATEWAY_RELAY_CHANNELS_MAX) {
                client_fail(c, f->channel, "too many sessions in this sandbox");
                return 0;
        }
        b = new0(Bridge, 1);
        if (!b)
                return -ENOMEM;
        /* Channel ids of a session are never 0 (control) and never reused while open. */
        do
                s->next_channel = s->next_channel == UINT32_MAX ? 1 : s->next_channel + 1;
        while (session_find_bridge(s, s->next_channel));
        *b = (Bridge) { .session = s, .client = c, .session_channel = s->next_channel, .client_channel = f->channel,
                        .next = s->bridges };
        if (s->bridges)
                s->bridges->prev = b;
        s->bridges = b;
        s->n_bridges++;
        c->bridge = b;
        return relay_conn_send(s->rc, RELAY_FRAME_OPEN, b->session_channel, f->payload, f->size);
}

static int client_frame(RelayConn *rc, const RelayFrame *f, void *userdata) {
        RelayPeer *c = userdata;
        Bridge *b = c->bridge;
        int r;

        switch (f->type) {
        case RELAY_FRAME_PING:
                return relay_conn_send(rc, RELAY_FRAME_PONG, RELAY_CHANNEL_CONTROL, NULL, 0);
        case RELAY_FRAME_OPEN:
                return client_open(c, f);
        case RELAY_FRAME_STDIN:
        case RELAY_FRAME_EOF:
        case RELAY_FRAME_RESIZE:
        case RELAY_FRAME_SIGNAL:
        case RELAY_FRAME_CLOSE:
                if (!b || f->channel != b->client_channel)
                        return 0;
                /* The session is backed up: stop reading this client until it drains. */
                if (relay_conn_congested(b->session->rc)) {
                        relay_conn_pause(rc, true);
                        return RELAY_CONN_FRAME_LATER;
                }
                r = relay_conn_send(b->session->rc, f->type, b->session_channel, f->payload, f->size);
                return r < 0 ? r : 0;
        case RELAY_FRAME_PONG:
        case RELAY_FRAME_STDOUT:
        case RELAY_FRAME_STDERR:
        case RELAY_FRAME_EXIT:
        case RELAY_FRAME_ERROR:
        case _RELAY_FRAME_TYPE_MAX:
        case _RELAY_FRAME_TYPE_INVALID:
                break;
        }
        return 0;
}

static void client_drained(RelayConn *rc, void *userdata) {
        RelayPeer *c = userdata;

        if (c->bridge)
                session_update_pause(c->bridge->session);
}

static const RelayConnCallbacks client_callbacks = {
        .frame = client_frame,
        .drained = client_drained,
        .closed = peer_closed,
};

static int session_frame(RelayConn *rc, const RelayFrame *f, void *userdata) {
        RelayPeer *s = userdata;
        Bridge *b;
        int r;

        s->last_rx = now_usec(CLOCK_MONOTONIC);
        if (f->type == RELAY_FRAME_PING)
                return relay_conn_send(rc, RELAY_FRAME_PONG, RELAY_CHANNEL_CONTROL, NULL, 0);
        if (!IN_SET(f->type, RELAY_FRAME_STDOUT, RELAY_FRAME_STDERR, RELAY_FRAME_ERROR, RELAY_FRAME_EXIT))
                return 0;
        b = session_find_bridge(s, f->channel);
        if (!b)
                return 0; /* the client left; the supervisor has its CLOSE */
        /* This client reads slowly: hold the session (all its channels) until the client drains. */
        if (relay_conn_congested(b->client->rc)) {
                relay_conn_pause(rc, true);
                return RELAY_CONN_FRAME_LATER;
        }
        r = relay_conn_send(b->client->rc, f->type, b->client_channel, f->payload, f->size);
        if (r < 0 && r != -ENOTCONN)
                return r;
        if (f->type == RELAY_FRAME_EXIT) {
                RelayPeer *c = b->client;
                bridge_free(b);
                relay_conn_finish(c->rc);
        }
        return 0;
}

static void session_drained(RelayConn *rc, void *userdata) {
        RelayPeer *s = userdata;

        for (Bridge *b = s->bridges; b; b = b->next)
                relay_conn_pause(b->client->rc, false);
}

static const RelayConnCallbacks session_callbacks = {
        .frame = session_frame,
        .drained = session_drained,
        .closed = peer_closed,
};

static int session_idle_cb(sd_event_source *es, uint64_t usec, void *userdata) {
        RelayPeer *s = userdata;

        if (now_usec(CLOCK_MONOTONIC) - s->last_rx > GATEWAY_RELAY_SESSION_IDLE_USEC) {
                log_notice("Sandbox %s: supervisor session silent for too long, dropping it.", s->name);
                conn_free(s->conn);
                return 0;
        }
        (void) sd_event_source_set_time_relative(es, GATEWAY_RELAY_SESSION_IDLE_USEC / 3);
        return sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
}

static int client_open_timeout_cb(sd_event_source *es, uint64_t usec, void *userdata) {
        RelayPeer *c = userdata;

        if (!c->bridge) {
                log_debug("Sandbox %s: exec connection sent no OPEN in time, closing it.", c->name);
                conn_free(c->conn);
        }
        return 0;
}

static int peer_new(RelayHub *h, Conn *conn, TlsConn *tls, PeerKind kind, const char *name, const void *rest,
                    size_t rest_size, RelayPeer **ret) {
        RelayPeer *p = new0(RelayPeer, 1);
        int r;

        if (!p)
                return -ENOMEM;
        /* Keystrokes and small frames from here on: no Nagle delay (harmless on a non-TCP socket). */
        (void) setsockopt(tls_conn_fd(tls), IPPROTO_TCP, TCP_NODELAY, &(int) { 1 }, sizeof(int));
        *p = (RelayPeer) { .hub = h, .conn = conn, .kind = kind, .last_rx = now_usec(CLOCK_MONOTONIC) };
        strcpy(p->name, name);
        r = relay_conn_new(h->event, tls, rest, rest_size, kind == PEER_SESSION ? &session_callbacks : &client_callbacks,
                           p, &p->rc);
        if (r >= 0)
                r = relay_conn_send_raw(p->rc, RELAY_UPGRADE_RESPONSE, STRLEN(RELAY_UPGRADE_RESPONSE));
        if (r >= 0 && kind == PEER_SESSION)
                r = sd_event_add_time_relative(h->event, &p->idle_timer, CLOCK_MONOTONIC, GATEWAY_RELAY_SESSION_IDLE_USEC / 3,
                                               0, session_idle_cb, p);
        else if (r >= 0)
                r = sd_event_add_time_relative(h->event, &p->idle_timer, CLOCK_MONOTONIC, GATEWAY_RELAY_OPEN_TIMEOUT_USEC, 0,
                                               client_open_timeout_cb, p);
        if (r < 0) {
                relay_conn_free(p->rc);
                free(p);
                return r;
        }
        *ret = p;
        return 0;
}

static int relay_refuse(ApiResponse *r, unsigned status, const char *code, const char *message) {
        int e = api_error(r, status, code, message);
        return e < 0 ? e : RELAY_DISPATCH_ANSWER;
}

static int relay_check(RelayHub *h, bool tls, const RouteMatch *m, const HttpMessage *request,
                       const Identity *identity, ListenRole role, ApiResponse *ret_error) {
        _cleanup_json_ cJSON *record = NULL;
        char msg[320];

        if (!identity)
                return relay_refuse(ret_error, 403, "unknown_identity", "The client certificate names no known identity");
        /* DisableTLS=yes: nobody is authenticated and every peer counts as an administrator (gateway.md);
         * supervisors on http:// endpoints must still be able to hold their session. */
        if (!(m->route == ROUTE_SANDBOX_SESSION && !tls) && gateway_authorize(identity, role, m) < 0)
                return relay_refuse(ret_error, 403, "forbidden",
                                    m->route == ROUTE_SANDBOX_SESSION ? "Only the sandbox's own agent certificate (CN=agent:NAME) may open its session"
                                                                      : "exec needs the administrator's certificate on an api listener");
        if (!relay_upgrade_requested(request))
                return relay_refuse(ret_error, 426, "upgrade_required", "Send Connection: Upgrade and Upgrade: " RELAY_PROTOCOL);
        if (m->route == ROUTE_SANDBOX_EXEC && store_sandbox_get(h->store, m->name, &record) < 0) {
                snprintf(msg, sizeof(msg), "No sandbox named '%s'", m->name);
                return relay_refuse(ret_error, 404, "not_found", msg);
        }
        if (m->route == ROUTE_SANDBOX_EXEC && !hub_find_session(h, m->name)) {
                snprintf(msg, sizeof(msg), "Sandbox '%s' has no supervisor session: is it running? "
                         "('openshell sandbox get %s')", m->name, m->name);
                return relay_refuse(ret_error, 503, "sandbox_unavailable", msg);
        }
        return RELAY_DISPATCH_NONE;
}

int gateway_relay_dispatch(Manager *manager, Conn *conn, TlsConn *tls, const HttpMessage *request,
                           const Identity *identity, ListenRole role, const void *rest, size_t rest_size,
                           RelayPeer **ret_peer, ApiResponse *ret_error) {
        RelayPeer *p, *old;
        RelayHub *h;
        RouteMatch m;
        int r;

        if (gateway_route_match(request->method, request->target, &m) < 0 ||
            !IN_SET(m.route, ROUTE_SANDBOX_SESSION, ROUTE_SANDBOX_EXEC))
                return RELAY_DISPATCH_NONE;
        if (!manager->relay) {
                r = relay_hub_new(manager->event, manager->api.store, &manager->relay);
                if (r < 0)
                        return r;
        }
        h = manager->relay;
        r = relay_check(h, manager->ssl_ctx, &m, request, identity, role, ret_error);
        if (r != RELAY_DISPATCH_NONE)
                return r;
        r = peer_new(h, conn, tls, m.route == ROUTE_SANDBOX_SESSION ? PEER_SESSION : PEER_CLIENT, m.name, rest, rest_size, &p);
        if (r < 0)
                return r;
        if (p->kind == PEER_SESSION) {
                old = hub_find_session(h, m.name);
                if (old) {
                        log_notice("Sandbox %s: a new supervisor session replaces the old one.", m.name);
                        conn_free(old->conn);
                }
                p->next = h->sessions;
                if (h->sessions)
                        h->sessions->prev = p;
                h->sessions = p;
                log_info("Sandbox %s: supervisor session established.", m.name);
        }
        *ret_peer = p;
        return RELAY_DISPATCH_TAKEN;
}
