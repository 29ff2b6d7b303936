/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The Manager owns the event loop, the listeners (HTTP proxy, TCP forward), the resolver, the policy, the
 * CA and every connection. main() only builds it from settings and runs it. */

#include <systemd/sd-event.h>

#include "dns-async.h"
#include "http-message.h"
#include "policy.h"
#include "proxy-ca.h"
#include "proxy-credentials.h"
#include "proxy-gateway.h"
#include "proxy-inference.h"
#include "proxy-settings.h"
#include "proxy-tls.h"

typedef struct Conn Conn;
typedef struct Forward Forward;

typedef struct Manager {
        sd_event *event;
        const ProxySettings *settings;
        HttpLimits http_limits;
        size_t buffer_bytes;
        DnsResolver *resolver;

        Policy *policy; /* NULL: deny everything */
        PolicyCidr *own_networks;
        size_t n_own_networks;
        ProxyCA ca;
        bool have_ca;
        CredentialStore *credentials; /* NULL: every placeholder is unknown */
        InferenceRoute *inference;    /* NULL: inference.local answers 403 */
        GatewayClient *gateway;       /* gateway mode */
        bool gateway_owns[_GATEWAY_RESOURCE_MAX]; /* delivered by the gateway: local files no longer apply */
        LeafCache *leaf_cache;  /* with a CA: TLS inspection of protocol rest endpoints */
        SSL_CTX *upstream_tls;

        int http_fd;
        sd_event_source *http_source;
        int forward_fd;
        sd_event_source *forward_source;
        char *forward_host;    /* or the AF_UNIX socket path of --forward-to PATH */
        uint16_t forward_port; /* 0 with a socket path */

        Conn *conns;
        Forward *forwards;
        unsigned n_connections;
        bool accept_paused;

        sd_event_source *policy_watch[3]; /* inotify on the directories of the policy, credentials, route */
        sd_event_source *reload_timer;   /* coalesces bursts of file events */
} Manager;

int manager_new(const ProxySettings *settings, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Loads the policy from settings; on failure the current one stays and *ret_error says why. */
int manager_load_policy(Manager *m, char **ret_error);
/* Creates/reuses the CA when a TLS directory is configured; loads the trust store for https upstreams. */
int manager_setup_ca(Manager *m);
/* Reloads policy and credentials when their files change (inotify on their directories). */
int manager_watch_policy(Manager *m);
/* Gateway mode (--gateway): starts fetching policy, credentials and route; *ret_error for bad options. */
int manager_start_gateway(Manager *m, char **ret_error);
/* Replaces the policy (takes ownership) and re-decides every connection against it. */
void manager_set_policy(Manager *m, Policy *p);
/* Binds and arms the listeners. */
int manager_start_listeners(Manager *m);
/* Runs until SIGTERM/SIGINT; READY=1 is sent before entering the loop. */
int manager_run(Manager *m);

/* Connection accounting for MaxConnections=: listeners pause at the limit and resume below it. */
void manager_connection_added(Manager *m);
void manager_connection_removed(Manager *m);

/* The SSRF filter for an allowed endpoint. */
bool manager_address_allowed(Manager *m, const PolicyEndpoint *e, const struct sockaddr *sa);
