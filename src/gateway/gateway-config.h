/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* gateway.conf: the one source of truth for the gateway's listeners, TLS material, state and limits.
 * Read from SYSCONFDIR/openshell/gateway.conf (user: $XDG_CONFIG_HOME/openshell/gateway.conf) plus its
 * gateway.conf.d/NAME.conf drop-ins. See docs/gateway.md. */

#include <stdbool.h>
#include <stdint.h>

#include "gateway-listen.h"
#include "time-util.h"

#define GATEWAY_BIND_ADDRESS_DEFAULT "127.0.0.1:17670"
#define GATEWAY_CALLBACK_ADDRESS_DEFAULT "10.214.0.1:17671"
/* A user gateway's default callback listener: a Unix socket below $XDG_RUNTIME_DIR (/run/user/UID when
 * unset), the same path the shipped user socket unit listens on (%t/openshell/callback/gateway.sock). Its
 * directory is mounted into each sandbox's proxy container: no host-network listener, and the same for
 * rootful Podman, pasta and slirp4netns. */
#define GATEWAY_CALLBACK_SOCKET_USER_SUFFIX "openshell/callback/gateway.sock"
/* What a system gateway may use instead of the TCP default (the system socket unit's path). */
#define GATEWAY_CALLBACK_SOCKET_SYSTEM "/run/openshell/callback/gateway.sock"

/* Limits: each a named default and a [Limits] key. */
#define GATEWAY_CONNECTIONS_MAX_DEFAULT 256U
#define GATEWAY_HEADER_BYTES_MAX_DEFAULT (16U * 1024U)
#define GATEWAY_HEADERS_MAX_DEFAULT 64U
#define GATEWAY_BODY_BYTES_MAX_DEFAULT (1024U * 1024U)
#define GATEWAY_HANDSHAKE_TIMEOUT_USEC_DEFAULT (10 * USEC_PER_SEC)
#define GATEWAY_REQUEST_TIMEOUT_USEC_DEFAULT (30 * USEC_PER_SEC)
#define GATEWAY_KEEPALIVE_TIMEOUT_USEC_DEFAULT (60 * USEC_PER_SEC)
#define GATEWAY_WATCH_TIMEOUT_USEC_DEFAULT (30 * USEC_PER_SEC)
#define GATEWAY_WATCH_TIMEOUT_USEC_MAX (10 * 60 * USEC_PER_SEC)
#define GATEWAY_IDLE_TIMEOUT_USEC_DEFAULT (5 * 60 * USEC_PER_SEC)
#define GATEWAY_LISTEN_BACKLOG 128

typedef struct GatewayLimits {
        unsigned connections_max;
        uint64_t header_bytes_max;
        unsigned headers_max;
        uint64_t body_bytes_max;
        usec_t handshake_timeout_usec;
        usec_t request_timeout_usec;
        usec_t keepalive_timeout_usec;
        usec_t watch_timeout_usec; /* longest policy watch a client may ask for */
} GatewayLimits;

typedef struct GatewayConfig {
        char *bind_address;       /* NULL: no primary listener besides the extras */
        char **extra_bind_addresses;
        char **callback_addresses;
        char *callback_endpoint;  /* URL written into specs; NULL: derived from the first callback address */
        bool disable_tls;
        char *tls_dir;
        char *state_dir;
        usec_t idle_timeout_usec; /* exit after this long without connections; 0 or infinity: never */
        GatewayLimits limits;
} GatewayConfig;

/* Fills in the defaults. user selects the per-user defaults (state directory, callback socket). */
int gateway_config_init(GatewayConfig *c, bool user);

/* The user default callback address: $XDG_RUNTIME_DIR/GATEWAY_CALLBACK_SOCKET_USER_SUFFIX, or
 * /run/user/UID/... when XDG_RUNTIME_DIR is unset, empty or not a normalized absolute path. */
int gateway_config_user_callback_default(char **ret);
void gateway_config_done(GatewayConfig *c);

/* Parses path and path.d/NAME.conf on top of the current values. */
int gateway_config_load(GatewayConfig *c, const char *path);

/* Parses one file's text (for tests and the fuzzer); name is used in messages. */
int gateway_config_load_text(GatewayConfig *c, const char *name, const char *text, size_t size);

/* The default config path: SYSCONFDIR/openshell/gateway.conf, or $XDG_CONFIG_HOME/openshell/gateway.conf
 * (~/.config/...) for user. */
int gateway_config_default_path(bool user, char **ret);

/* Computes the merged listener set (see gateway-listen.h). -EADDRINUSE on a role conflict, -ENOENT if
 * no api listener remains. */
int gateway_config_listen_set(const GatewayConfig *c, ListenSet *ret);

/* Paths of the PKI material inside tls_dir. */
#define GATEWAY_TLS_CA_CERT "ca.crt"
#define GATEWAY_TLS_CA_KEY "ca.key"
#define GATEWAY_TLS_SERVER_CERT "server.crt"
#define GATEWAY_TLS_SERVER_KEY "server.key"
#define GATEWAY_TLS_CLIENT_CERT "client.crt"
#define GATEWAY_TLS_CLIENT_KEY "client.key"
