/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc-util.h"
#include "conf-parser.h"
#include "gateway-config.h"
#include "log.h"
#include "path-util.h"
#include "string-util.h"

/* Validates one listen address before storing it: a typo in a listener is a fatal configuration error. */
static int config_parse_listen_address(const char *filename, unsigned line, const char *section,
                                       const char *lvalue, const char *rvalue, void *data, void *userdata) {
        ListenAddress a;

        if (!isempty(rvalue) && listen_address_parse(rvalue, &a) < 0)
                return -EINVAL;
        return config_parse_string(filename, line, section, lvalue, rvalue, data, userdata);
}

static int config_parse_listen_address_list(const char *filename, unsigned line, const char *section,
                                            const char *lvalue, const char *rvalue, void *data,
                                            void *userdata) {
        ListenAddress a;

        if (!isempty(rvalue) && listen_address_parse(rvalue, &a) < 0)
                return -EINVAL;
        return config_parse_strv(filename, line, section, lvalue, rvalue, data, userdata);
}

static int config_parse_endpoint(const char *filename, unsigned line, const char *section, const char *lvalue,
                                 const char *rvalue, void *data, void *userdata) {
        if (!isempty(rvalue) && !startswith(rvalue, "https://") && !startswith(rvalue, "http://"))
                return -EINVAL;
        if (strlen(rvalue) > 300 || strpbrk(rvalue, " %\"'"))
                return -EINVAL;
        return config_parse_string(filename, line, section, lvalue, rvalue, data, userdata);
}

#define G(field) offsetof(GatewayConfig, field)
#define L(field) (offsetof(GatewayConfig, limits) + offsetof(GatewayLimits, field))

static const ConfigTableItem gateway_config_table[] = {
        { "Gateway", "BindAddress", config_parse_listen_address, G(bind_address), true },
        { "Gateway", "ExtraBindAddress", config_parse_listen_address_list, G(extra_bind_addresses), true },
        { "Gateway", "CallbackAddress", config_parse_listen_address_list, G(callback_addresses), true },
        { "Gateway", "CallbackEndpoint", config_parse_endpoint, G(callback_endpoint), true },
        { "Gateway", "DisableTLS", config_parse_bool, G(disable_tls), true },
        { "Gateway", "TLSDir", config_parse_path, G(tls_dir), true },
        { "Gateway", "StateDirectory", config_parse_path, G(state_dir), true },
        { "Gateway", "IdleTimeoutSec", config_parse_sec, G(idle_timeout_usec), false },
        { "Limits", "MaxConnections", config_parse_unsigned, L(connections_max), false },
        { "Limits", "MaxHeaderBytes", config_parse_size, L(header_bytes_max), false },
        { "Limits", "MaxHeaders", config_parse_unsigned, L(headers_max), false },
        { "Limits", "MaxBodyBytes", config_parse_size, L(body_bytes_max), false },
        { "Limits", "HandshakeTimeoutSec", config_parse_sec, L(handshake_timeout_usec), false },
        { "Limits", "RequestTimeoutSec", config_parse_sec, L(request_timeout_usec), false },
        { "Limits", "KeepAliveTimeoutSec", config_parse_sec, L(keepalive_timeout_usec), false },
        { "Limits", "MaxWatchTimeoutSec", config_parse_sec, L(watch_timeout_usec), false },
};

static int home_subdir(const char *xdg_env, const char *fallback, const char *suffix, char **ret) {
        const char *x = getenv(xdg_env), *home;

        if (!isempty(x) && path_is_normalized_absolute(x))
                *ret = path_join(x, suffix);
        else {
                home = getenv("HOME");
                if (isempty(home) || !path_is_normalized_absolute(home))
                        return -ENXIO;
                *ret = strjoin(home, "/", fallback, "/", suffix);
        }
        return *ret ? 0 : -ENOMEM;
}

/* systemd's StateDirectory= passes $STATE_DIRECTORY (colon-separated when several). */
static int default_state_dir(bool user, char **ret) {
        const char *e = getenv("STATE_DIRECTORY");

        if (!isempty(e)) {
                size_t n = strcspn(e, ":");
                *ret = strndup_safe(e, n);
                if (!*ret)
                        return -ENOMEM;
                return path_is_normalized_absolute(*ret) ? 0 : -EINVAL;
        }
        if (user)
                return home_subdir("XDG_STATE_HOME", ".local/state", "openshell", ret);
        *ret = strdup("/var/lib/openshell");
        return *ret ? 0 : -ENOMEM;
}

int gateway_config_user_callback_default(char **ret) {
        const char *x = getenv("XDG_RUNTIME_DIR");
        char fallback[sizeof("/run/user/4294967295")];

        if (isempty(x) || !path_is_normalized_absolute(x)) {
                snprintf(fallback, sizeof(fallback), "/run/user/%u", (unsigned) getuid());
                x = fallback;
        }
        *ret = path_join(x, GATEWAY_CALLBACK_SOCKET_USER_SUFFIX);
        return *ret ? 0 : -ENOMEM;
}

int gateway_config_init(GatewayConfig *c, bool user) {
        _cleanup_free_ char *cb = NULL;
        int r;

        *c = (GatewayConfig) {
                .idle_timeout_usec = GATEWAY_IDLE_TIMEOUT_USEC_DEFAULT,
                .limits = {
                        .connections_max = GATEWAY_CONNECTIONS_MAX_DEFAULT,
                        .header_bytes_max = GATEWAY_HEADER_BYTES_MAX_DEFAULT,
                        .headers_max = GATEWAY_HEADERS_MAX_DEFAULT,
                        .body_bytes_max = GATEWAY_BODY_BYTES_MAX_DEFAULT,
                        .handshake_timeout_usec = GATEWAY_HANDSHAKE_TIMEOUT_USEC_DEFAULT,
                        .request_timeout_usec = GATEWAY_REQUEST_TIMEOUT_USEC_DEFAULT,
                        .keepalive_timeout_usec = GATEWAY_KEEPALIVE_TIMEOUT_USEC_DEFAULT,
                        .watch_timeout_usec = GATEWAY_WATCH_TIMEOUT_USEC_DEFAULT,
                },
        };
        c->bind_address = strdup(GATEWAY_BIND_ADDRESS_DEFAULT);
        if (!c->bind_address)
                return -ENOMEM;
        /* Rootless: the Podman bridge lives in the rootless network namespace, and the host is reachable
         * from there only through pasta's or slirp4netns' mappings, which differ and follow the host's
         * outbound address. A Unix socket mounted into the proxy container needs none of them. An invalid
         * path here (an odd $XDG_RUNTIME_DIR) is reported when the listener set is computed. */
        if (user) {
                r = gateway_config_user_callback_default(&cb);
                if (r < 0)
                        return r;
        }
        r = strv_extend(&c->callback_addresses, user ? cb : GATEWAY_CALLBACK_ADDRESS_DEFAULT);
        if (r < 0)
                return r;
        return default_state_dir(user, &c->state_dir);
}

void gateway_config_done(GatewayConfig *c) {
        free(c->bind_address);
        strv_free(c->extra_bind_addresses);
        strv_free(c->callback_addresses);
        free(c->callback_endpoint);
        free(c->tls_dir);
        free(c->state_dir);
        *c = (GatewayConfig) {};
}

/* Tuning knobs that make no sense at zero fall back to their defaults, loudly. */
static void limits_sanitize(GatewayLimits *l) {
        if (l->connections_max == 0) {
                log_warning("MaxConnections=0 is not usable, using %u.", GATEWAY_CONNECTIONS_MAX_DEFAULT);
                l->connections_max = GATEWAY_CONNECTIONS_MAX_DEFAULT;
        }
        if (l->header_bytes_max < 1024) {
                log_warning("MaxHeaderBytes= below 1K is not usable, using %u.", GATEWAY_HEADER_BYTES_MAX_DEFAULT);
                l->header_bytes_max = GATEWAY_HEADER_BYTES_MAX_DEFAULT;
        }
        if (l->headers_max == 0)
                l->headers_max = GATEWAY_HEADERS_MAX_DEFAULT;
        if (l->watch_timeout_usec > GATEWAY_WATCH_TIMEOUT_USEC_MAX) {
                log_warning("MaxWatchTimeoutSec= is capped at %llus.",
                            (unsigned long long) (GATEWAY_WATCH_TIMEOUT_USEC_MAX / USEC_PER_SEC));
                l->watch_timeout_usec = GATEWAY_WATCH_TIMEOUT_USEC_MAX;
        }
}

static int gateway_config_finish(GatewayConfig *c, const char *path) {
        limits_sanitize(&c->limits);
        if (!c->state_dir)
                return log_error_errno(EINVAL, "%s: StateDirectory= must not be empty.", path);
        if (!c->tls_dir) {
                c->tls_dir = path_join(c->state_dir, "tls");
                if (!c->tls_dir)
                        return log_oom();
        }
        return 0;
}

int gateway_config_load(GatewayConfig *c, const char *path) {
        int r;

        r = config_parse_with_dropins(path, gateway_config_table, ELEMENTSOF(gateway_config_table), c);
        if (r < 0)
                return r;
        return gateway_config_finish(c, path);
}

int gateway_config_load_text(GatewayConfig *c, const char *name, const char *text, size_t size) {
        int r;

        r = config_parse_text(name, text, size, gateway_config_table, ELEMENTSOF(gateway_config_table), c);
        if (r < 0)
                return r;
        return gateway_config_finish(c, name);
}

int gateway_config_default_path(bool user, char **ret) {
        if (user)
                return home_subdir("XDG_CONFIG_HOME", ".config", "openshell/gateway.conf", ret);
        *ret = strdup(SYSCONFDIR "/openshell/gateway.conf");
        return *ret ? 0 : -ENOMEM;
}

int gateway_config_listen_set(const GatewayConfig *c, ListenSet *ret) {
        ListenSet set = {};
        int r;

        if (c->bind_address) {
                char *const one[] = { c->bind_address, NULL };
                r = listen_set_add_strv(&set, one, LISTEN_ROLE_API);
                if (r < 0)
                        return r;
        }
        r = listen_set_add_strv(&set, c->extra_bind_addresses, LISTEN_ROLE_API);
        if (r < 0)
                return r;
        r = listen_set_add_strv(&set, c->callback_addresses, LISTEN_ROLE_CALLBACK);
        if (r < 0)
                return r;
        if (listen_set_count_role(&set, LISTEN_ROLE_API) == 0)
                return -ENOENT;
        *ret = set;
        return 0;
}
