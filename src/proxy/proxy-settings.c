/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/un.h>
#include <unistd.h>

#include "alloc-util.h"
#include "conf-parser.h"
#include "proxy-inference.h"
#include "parse-util.h"
#include "path-util.h"
#include "proxy-settings.h"
#include "string-util.h"

void proxy_settings_init(ProxySettings *s) {
        *s = (ProxySettings){
                .limits = {
                        .max_connections = PROXY_MAX_CONNECTIONS_DEFAULT,
                        .buffer_bytes = PROXY_BUFFER_BYTES_DEFAULT,
                        .max_header_bytes = HTTP_MAX_HEADER_BYTES_DEFAULT,
                        .max_headers = HTTP_MAX_HEADERS_DEFAULT,
                        .idle_timeout = PROXY_IDLE_TIMEOUT_DEFAULT,
                        .handshake_timeout = PROXY_HANDSHAKE_TIMEOUT_DEFAULT,
                        .inference_max_body = PROXY_INFERENCE_MAX_BODY_DEFAULT,
                },
        };
}

void proxy_settings_done(ProxySettings *s) {
        free(s->listen);
        free(s->forward_listen);
        free(s->forward_to);
        free(s->tls_dir);
        free(s->policy_path);
        free(s->sandbox);
        free(s->system_ca_bundle);
        free(s->upstream_ca);
        free(s->credentials_path);
        free(s->inference_path);
        free(s->gateway_url);
        free(s->gateway_socket);
        free(s->gateway_ca);
        free(s->gateway_cert);
        free(s->gateway_key);
}

static const ConfigTableItem proxy_config_table[] = {
        { "Proxy", "Listen", config_parse_string, offsetof(ProxySettings, listen), true },
        { "Proxy", "ForwardListen", config_parse_string, offsetof(ProxySettings, forward_listen), true },
        { "Proxy", "ForwardTo", config_parse_string, offsetof(ProxySettings, forward_to), true },
        { "Proxy", "TLSDirectory", config_parse_path, offsetof(ProxySettings, tls_dir), true },
        { "Proxy", "Policy", config_parse_path, offsetof(ProxySettings, policy_path), true },
        { "Proxy", "Sandbox", config_parse_string, offsetof(ProxySettings, sandbox), false },
        { "Proxy", "SystemCABundle", config_parse_path, offsetof(ProxySettings, system_ca_bundle), false },
        { "Proxy", "UpstreamCA", config_parse_path, offsetof(ProxySettings, upstream_ca), true },
        { "Proxy", "Credentials", config_parse_path, offsetof(ProxySettings, credentials_path), true },
        { "Proxy", "Gateway", config_parse_string, offsetof(ProxySettings, gateway_url), true },
        { "Proxy", "GatewaySocket", config_parse_path, offsetof(ProxySettings, gateway_socket), true },
        { "Proxy", "GatewayCA", config_parse_path, offsetof(ProxySettings, gateway_ca), true },
        { "Proxy", "GatewayCertificate", config_parse_path, offsetof(ProxySettings, gateway_cert), true },
        { "Proxy", "GatewayKey", config_parse_path, offsetof(ProxySettings, gateway_key), true },
        { "Proxy", "Inference", config_parse_path, offsetof(ProxySettings, inference_path), true },
        { "Proxy", "InferenceMaxBodyBytes", config_parse_size, offsetof(ProxySettings, limits.inference_max_body), false },
        { "Proxy", "MaxConnections", config_parse_unsigned, offsetof(ProxySettings, limits.max_connections), false },
        { "Proxy", "BufferBytes", config_parse_size, offsetof(ProxySettings, limits.buffer_bytes), false },
        { "Proxy", "MaxHeaderBytes", config_parse_unsigned, offsetof(ProxySettings, limits.max_header_bytes), false },
        { "Proxy", "MaxHeaders", config_parse_unsigned, offsetof(ProxySettings, limits.max_headers), false },
        { "Proxy", "IdleTimeoutSec", config_parse_sec, offsetof(ProxySettings, limits.idle_timeout), false },
        { "Proxy", "HandshakeTimeoutSec", config_parse_sec, offsetof(ProxySettings, limits.handshake_timeout), false },
};

int proxy_settings_load(ProxySettings *s, const char *path) {
        int r;

        /* An explicitly named file must exist; its drop-ins are optional. */
        if (access(path, R_OK) < 0)
                return -errno;
        r = config_parse_with_dropins(path, proxy_config_table, ELEMENTSOF(proxy_config_table), s);
        return r < 0 ? r : 0;
}

int proxy_split_host_port(const char *s, char **ret_host, uint16_t *ret_port) {
        _cleanup_free_ char *host = NULL;
        const char *colon;
        uint16_t port;
        int r;

        if (isempty(s) || string_has_cc(s, NULL))
                return -EINVAL;
        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || close[1] != ':')
                        return -EINVAL;
                host = strndup_safe(s + 1, (size_t) (close - s - 1));
                colon = close + 1;
        } else {
                colon = strrchr(s, ':');
                if (!colon || memchr(s, ':', (size_t) (colon - s)))
                        return -EINVAL; /* bare IPv6 needs brackets */
                host = strndup_safe(s, (size_t) (colon - s));
        }
        if (!host)
                return -ENOMEM;
        r = parse_ip_port(colon + 1, &port);
        if (r < 0)
                return r;
        *ret_host = TAKE_PTR(host);
        *ret_port = port;
        return 0;
}

int proxy_parse_address(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len) {
        _cleanup_free_ char *host = NULL;
        struct sockaddr_storage ss = {};
        uint16_t port;
        int r;

        r = proxy_split_host_port(s, &host, &port);
        if (r < 0)
                return r;
        if (isempty(host) || inet_pton(AF_INET, host, &((struct sockaddr_in *) &ss)->sin_addr) == 1) {
                struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
                sin->sin_family = AF_INET;
                sin->sin_port = htons(port);
                *ret_len = sizeof(*sin);
        } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1) {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(port);
                *ret_len = sizeof(*sin6);
        } else
                return -EINVAL;
        *ret = ss;
        return 0;
}

int proxy_parse_unix_address(const char *path, struct sockaddr_storage *ret, socklen_t *ret_len) {
        struct sockaddr_un *sun = (struct sockaddr_un *) ret;
        size_t len;

        if (!proxy_address_is_path(path) || string_has_cc(path, NULL) || !path_is_normalized_absolute(path))
                return -EINVAL;
        len = strlen(path);
        if (len >= sizeof(sun->sun_path))
                return -ENAMETOOLONG;
        *ret = (struct sockaddr_storage){};
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, path, len + 1);
        *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + 1);
        return 0;
}

/* The message for a socket path option that proxy_parse_unix_address() refused, or NULL. */
static const char *unix_path_problem(const char *path, const char *what_invalid, const char *what_too_long) {
        struct sockaddr_storage ss;
        socklen_t len;
        int r = proxy_parse_unix_address(path, &ss, &len);

        return r == -ENAMETOOLONG ? what_too_long : r < 0 ? what_invalid : NULL;
}

static bool host_port_valid(const char *s) {
        _cleanup_free_ char *host = NULL;
        uint16_t port;

        return proxy_split_host_port(s, &host, &port) >= 0 && !isempty(host);
}

/* The listeners, the forward's destination and the gateway socket; NULL if they are fine. */
static const char *addresses_problem(const ProxySettings *s) {
        struct sockaddr_storage ss;
        socklen_t len;

        if (proxy_parse_address(s->listen ?: PROXY_LISTEN_DEFAULT, &ss, &len) < 0)
                return "--listen/Listen= must be IP:PORT";
        if (!s->forward_listen != !s->forward_to)
                return "--forward-listen and --forward-to go together";
        if (s->forward_listen && proxy_parse_address(s->forward_listen, &ss, &len) < 0)
                return "--forward-listen/ForwardListen= must be IP:PORT";
        if (s->forward_to && proxy_address_is_path(s->forward_to))
                return unix_path_problem(s->forward_to, "--forward-to/ForwardTo= socket path must be absolute and normalized",
                                         "--forward-to/ForwardTo= socket path is longer than 107 bytes");
        if (s->forward_to && !host_port_valid(s->forward_to))
                return "--forward-to/ForwardTo= must be HOST:PORT or an absolute socket path";
        if (s->gateway_socket && !s->gateway_url)
                return "--gateway-socket/GatewaySocket= needs --gateway (the URL names the scheme and the TLS host)";
        if (s->gateway_socket)
                return unix_path_problem(s->gateway_socket,
                                         "--gateway-socket/GatewaySocket= must be an absolute, normalized socket path",
                                         "--gateway-socket/GatewaySocket= is longer than 107 bytes");
        return NULL;
}

static const char *limits_problem(const ProxyLimits *l) {
        if (l->max_connections == 0)
                return "MaxConnections= must be positive";
        if (l->buffer_bytes < PROXY_BUFFER_BYTES_MIN || l->buffer_bytes > PROXY_BUFFER_BYTES_MAX)
                return "BufferBytes= must be between 4K and 16M";
        if (l->max_header_bytes < 1024 || l->max_header_bytes > HTTP_MAX_HEADER_BYTES_MAX)
                return "MaxHeaderBytes= must be between 1024 and 1048576";
        if (l->max_headers == 0 || l->max_headers > 10000)
                return "MaxHeaders= must be between 1 and 10000";
        if (l->inference_max_body < 1024 || l->inference_max_body > PROXY_INFERENCE_MAX_BODY_MAX)
                return "InferenceMaxBodyBytes= must be between 1K and 64M";
        if (l->idle_timeout == 0 || l->handshake_timeout == 0)
                return "timeouts must be positive";
        return NULL;
}

int proxy_settings_validate(const ProxySettings *s, char **ret_error) {
        const char *bad = addresses_problem(s) ?: limits_problem(&s->limits);

        if (!bad && s->sandbox && string_has_cc(s->sandbox, NULL))
                bad = "--sandbox contains control characters";
        if (bad) {
                if (ret_error)
                        *ret_error = strdup(bad);
                return -EINVAL;
        }
        return 0;
}

HttpLimits proxy_http_limits(const ProxyLimits *l) {
        return (HttpLimits){ .max_header_bytes = l->max_header_bytes, .max_headers = l->max_headers };
}
