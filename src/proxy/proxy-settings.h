/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* openshell-proxy settings: every limit a client can grow has a named default here and a key in the
 * [Proxy] section of the configuration file (--config FILE, plus FILE.d/ drop-ins); command-line options
 * override the file. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http-message.h"
#include "macro.h"
#include "time-util.h"

#define PROXY_LISTEN_DEFAULT "0.0.0.0:3128"
#define PROXY_TLS_DIR_DEFAULT "/var/lib/openshell/tls"
#define PROXY_MAX_CONNECTIONS_DEFAULT 1024U      /* MaxConnections= */
#define PROXY_BUFFER_BYTES_DEFAULT (64U * 1024U)  /* BufferBytes=, per direction and connection */
#define PROXY_BUFFER_BYTES_MIN (4U * 1024U)
#define PROXY_BUFFER_BYTES_MAX (16U * 1024U * 1024U)
#define PROXY_IDLE_TIMEOUT_DEFAULT (300 * USEC_PER_SEC)     /* IdleTimeoutSec= */
#define PROXY_HANDSHAKE_TIMEOUT_DEFAULT (30 * USEC_PER_SEC) /* HandshakeTimeoutSec=: request head, DNS, connect */
#define PROXY_CA_VALIDITY_DAYS 3650U
#define PROXY_SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

typedef struct ProxyLimits {
        unsigned max_connections;
        uint64_t buffer_bytes;
        unsigned max_header_bytes;
        unsigned max_headers;
        usec_t idle_timeout;
        usec_t handshake_timeout;
        uint64_t inference_max_body; /* InferenceMaxBodyBytes= */
} ProxyLimits;

typedef struct ProxySettings {
        char *listen;         /* HOST:PORT */
        char *forward_listen; /* optional, with forward_to */
        char *forward_to;     /* HOST:PORT or an AF_UNIX socket path */
        char *tls_dir;        /* NULL: no MITM CA */
        char *policy_path;    /* NULL: deny everything */
        char *sandbox;        /* for log fields */
        char *system_ca_bundle;
        char *upstream_ca;      /* extra CA trusted for inspected upstreams, besides the system roots */
        char *credentials_path; /* real values for credential placeholders */
        char *inference_path;   /* the inference.local route */
        char *gateway_url;      /* gateway mode: https://HOST[:PORT] */
        char *gateway_socket;   /* connect to the gateway here instead of the URL's host (AF_UNIX path) */
        char *gateway_ca, *gateway_cert, *gateway_key; /* the sandbox's client certificate */
        ProxyLimits limits;
} ProxySettings;

void proxy_settings_init(ProxySettings *s);
void proxy_settings_done(ProxySettings *s);

/* Reads [Proxy] keys from path and its drop-ins. */
int proxy_settings_load(ProxySettings *s, const char *path);

/* Checks ranges and combinations; on -EINVAL *ret_error says which setting. */
int proxy_settings_validate(const ProxySettings *s, char **ret_error);

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (all addresses) → a sockaddr for bind/connect (literals only). */
int proxy_parse_address(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len);
/* An absolute, normalized AF_UNIX socket path (at most 107 bytes) → a sockaddr_un for connect():
 * -EINVAL (relative, not normalized, control characters) or -ENAMETOOLONG. */
int proxy_parse_unix_address(const char *path, struct sockaddr_storage *ret, socklen_t *ret_len);
/* True if s names an AF_UNIX socket rather than HOST:PORT (it starts with '/'). */
static inline bool proxy_address_is_path(const char *s) {
        return s && s[0] == '/';
}
/* Splits "HOST:PORT" / "[V6]:PORT" into host (without brackets) and port, for names too. */
int proxy_split_host_port(const char *s, char **ret_host, uint16_t *ret_port);

HttpLimits proxy_http_limits(const ProxyLimits *l);
