/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The Manager owns the event loop's gateway state: the listeners (socket-activated or bound here), the
 * TLS context, the API context, the set of connections, and the idle-exit timer. */

#include <openssl/ssl.h>
#include <systemd/sd-event.h>

#include "gateway-api.h"
#include "gateway-config.h"
#include "gateway-listen.h"

typedef struct Conn Conn;
typedef struct Manager Manager;
typedef struct RelayHub RelayHub;

typedef struct ListenerSource {
        Manager *manager;
        int fd;
        ListenRole role;
        sd_event_source *source;
} ListenerSource;

struct Manager {
        sd_event *event;
        const GatewayConfig *config;
        SSL_CTX *ssl_ctx; /* NULL: DisableTLS=yes */
        ApiContext api;
        bool idle_exit;   /* only when socket-activated: systemd brings us back */

        ListenerSource listeners[LISTEN_SET_MAX];
        size_t n_listeners;

        Conn *conns;
        unsigned n_conns;
        bool at_limit; /* warned about MaxConnections= */
        sd_event_source *idle_timer;
        RelayHub *relay; /* supervisor sessions and exec channels (gateway-relay.c), on first use */
};

int manager_new(sd_event *event, const GatewayConfig *config, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Takes fd (a listening, non-blocking stream socket) also on failure. */
int manager_add_listener(Manager *m, int fd, ListenRole role);

/* Arms (or disarms) the idle-exit timer according to the number of connections. */
void manager_update_idle(Manager *m);

/* Completes every policy watch parked on sandbox 'name'. */
void manager_notify_policy(Manager *m, const char *name);

/* Whether sandbox 'name''s supervisor holds a relay session now (ApiContext.has_session; userdata: the
 * Manager). */
bool manager_has_session(void *userdata, const char *name);

/* Connection bookkeeping (gateway-conn.c). */
int conn_new(Manager *m, int fd, ListenRole role);
Conn *conn_free(Conn *c);
/* Completes a parked policy watch; may free c. */
void conn_watch_fire(Conn *c, bool changed);
bool conn_watches(const Conn *c, const char *name);
Conn *conn_next(Conn *c);
