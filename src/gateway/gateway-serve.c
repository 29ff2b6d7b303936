/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "fileio.h"
#include "gateway-config.h"
#include "gateway-manager.h"
#include "gateway-pki.h"
#include "gateway-serve.h"
#include "gateway-systemd.h"
#include "log.h"
#include "path-util.h"
#include "string-util.h"
#include "tls-server.h"

int gateway_collect_activated(ActivatedFd ret[], size_t max, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        int n;

        n = sd_listen_fds_with_names(/* unset_environment= */ 1, &names);
        if (n < 0)
                return n;
        *ret_n = 0;
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                ListenRole role = listen_role_from_string(names ? names[i] : NULL);

                if (role < 0 || (size_t) i >= max || sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
                        for (int k = i; k < n; k++)
                                safe_close(SD_LISTEN_FDS_START + k);
                        if ((size_t) i >= max)
                                return -E2BIG;
                        return role < 0 ? -EBADR : -ENOTSOCK;
                }
                ret[(*ret_n)++] = (ActivatedFd) { .fd = fd, .role = role };
        }
        return n;
}

/* The server certificate must name every address sandboxes and clients dial: those of the listeners
 * actually in use (socket-activated or bound here). */
static int listener_sans(const Manager *m, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        char host[INET6_ADDRSTRLEN];
        int r;

        for (size_t i = 0; i < m->n_listeners; i++) {
                ListenAddress a = {};
                socklen_t len = sizeof(a.in6);

                if (getsockname(m->listeners[i].fd, &a.sa, &len) < 0 || !IN_SET(a.sa.sa_family, AF_INET, AF_INET6))
                        continue;
                if (listen_address_is_unspecified(&a))
                        continue;
                if (!inet_ntop(a.sa.sa_family, a.sa.sa_family == AF_INET6 ? (const void *) &a.in6.sin6_addr
                                                                           : (const void *) &a.in.sin_addr,
                               host, sizeof(host)))
                        continue;
                if (strv_contains(l, host))
                        continue;
                r = strv_extend(&l, host);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int setup_tls(Manager *m, const GatewayConfig *c) {
        _cleanup_strv_free_ char **sans = NULL;
        _cleanup_free_ char *cert = path_join(c->tls_dir, GATEWAY_TLS_SERVER_CERT),
                            *key = path_join(c->tls_dir, GATEWAY_TLS_SERVER_KEY),
                            *ca = path_join(c->tls_dir, GATEWAY_TLS_CA_CERT);
        TlsServerOptions o = { .cert_path = cert, .key_path = key, .client_ca_path = ca, .alpn = "http/1.1" };
        PkiReport rep = {};
        int r;

        if (c->disable_tls) {
                log_warning("DisableTLS=yes: the API is served WITHOUT TLS and WITHOUT authentication; every "
                            "client is an administrator. Use this only for tests on a trusted host.");
                return 0;
        }
        if (!cert || !key || !ca || listener_sans(m, &sans) < 0)
                return log_oom();
        /* Idempotent: keeps valid material, creates what is missing. A read-only TLSDir provisioned by an
         * administrator is used as it is. A kill -9 mid-write may have left temporaries. */
        (void) remove_stale_temporaries(c->tls_dir);
        r = pki_ensure(c->tls_dir, sans, &rep);
        if (r < 0 && !IN_SET(r, -EROFS, -EACCES, -EPERM))
                return log_error_errno(r, "Failed to set up the PKI in %s: %m", c->tls_dir);
        if (rep.ca_created || rep.server_issued || rep.client_issued)
                log_info("PKI in %s: %s%s%s", c->tls_dir, rep.ca_created ? "created the CA; " : "",
                         rep.server_issued ? "issued the server certificate; " : "",
                         rep.client_issued ? "issued the CLI client certificate" : "");
        r = tls_server_context_new(&o, &m->ssl_ctx);
        if (r < 0)
                return log_error_errno(r, "Failed to load the TLS material from %s: %m", c->tls_dir);
        return 0;
}

/* A socket unit that listens elsewhere than gateway.conf says (e.g. edited by hand, or the generator did
 * not run) would point sandboxes at a socket nobody serves: say so. */
static void check_activated_socket(const ActivatedFd fds[], size_t n, const char *path) {
        for (size_t i = 0; i < n; i++) {
                ListenAddress a = {};
                socklen_t len = sizeof(a.un);

                if (fds[i].role == LISTEN_ROLE_CALLBACK && getsockname(fds[i].fd, &a.sa, &len) >= 0 &&
                    listen_address_is_unix(&a) && len > offsetof(struct sockaddr_un, sun_path) &&
                    strncmp(a.un.sun_path, path, sizeof(a.un.sun_path)) == 0)
                        return;
        }
        log_warning("CallbackAddress=%s is not among the socket-activated callback listeners; sandboxes are told to "
                    "connect there. Run 'systemctl daemon-reload' after editing gateway.conf.", path);
}

/* Returns 1 if the gateway bound the listeners itself, 0 if socket-activated, or negative errno (logged). */
static int setup_listeners(Manager *m, const ListenSet *set, const char *callback_socket) {
        ActivatedFd fds[LISTEN_SET_MAX];
        char buf[LISTEN_ADDRESS_STRING_MAX];
        size_t n = 0;
        int r;

        r = gateway_collect_activated(fds, ELEMENTSOF(fds), &n);
        if (r == -EBADR)
                return log_error_errno(r, "A socket-activated fd has a FileDescriptorName= other than 'api' or 'callback'.");
        if (r < 0)
                return log_error_errno(r, "Failed to take the socket-activated fds: %m");
        for (size_t i = 0; i < n; i++) {
                r = manager_add_listener(m, fds[i].fd, fds[i].role);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch an activated socket: %m");
        }
        if (n > 0) {
                log_info("Socket-activated with %zu listener(s).", n);
                if (callback_socket)
                        check_activated_socket(fds, n, callback_socket);
                m->idle_exit = true;
                return 0;
        }
        for (size_t i = 0; i < set->n; i++) {
                const Listener *l = &set->items[i];
                int fd = listen_address_bind(&l->address, GATEWAY_LISTEN_BACKLOG);

                listen_address_format(&l->address, buf, sizeof(buf));
                if (fd == -EEXIST)
                        return log_error_errno(fd, "Failed to listen on %s: the path exists and is not a socket; "
                                                   "refusing to remove it.", buf);
                if (fd == -EADDRINUSE && listen_address_is_unix(&l->address))
                        return log_error_errno(fd, "Failed to listen on %s: another process accepts on this socket.", buf);
                if (fd < 0)
                        return log_error_errno(fd, "Failed to listen on %s: %m", buf);
                r = manager_add_listener(m, fd, l->role);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch %s: %m", buf);
                log_info("Listening on %s (%s).", buf, listen_role_to_string(l->role));
        }
        return 1;
}

/* Sockets the gateway bound itself go away with it (systemd's socket units keep theirs). Called only once
 * all were bound: after a failed start, the path in the way may belong to someone else. */
static void unlink_own_sockets(const ListenSet *set) {
        for (size_t i = 0; i < set->n; i++)
                if (listen_address_is_unix(&set->items[i].address))
                        (void) unlink_if_exists(set->items[i].address.un.sun_path);
}

static int callback_url_tcp(const ListenAddress *a, const char *scheme, bool user, char **ret) {
        char buf[LISTEN_ADDRESS_STRING_MAX], port[8];
        bool loopback = a->sa.sa_family == AF_INET6 ? IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr)
                                                    : (ntohl(a->in.sin_addr.s_addr) >> 24) == 127;

        snprintf(port, sizeof(port), "%u", listen_address_port(a));
        if (loopback || user)
                *ret = strjoin(scheme, "host.containers.internal:", port);
        else
                *ret = strjoin(scheme, listen_address_format(a, buf, sizeof(buf)));
        return *ret ? 0 : -ENOMEM;
}

int gateway_callback_target(const GatewayConfig *c, const ListenSet *set, bool user, char **ret_url,
                            char **ret_socket) {
        const char *scheme = c->disable_tls ? "http://" : "https://";
        _cleanup_free_ char *url = NULL, *sock = NULL;
        const ListenAddress *a = NULL;
        int r;

        for (size_t i = 0; i < set->n && !a; i++)
                if (set->items[i].role == LISTEN_ROLE_CALLBACK && !listen_address_is_unspecified(&set->items[i].address))
                        a = &set->items[i].address;

        if (a && listen_address_is_unix(a)) {
                sock = strdup(a->un.sun_path);
                if (!sock)
                        return -ENOMEM;
        }
        if (c->callback_endpoint)
                url = strdup(c->callback_endpoint);
        else if (sock)
                url = strjoin(scheme, GATEWAY_CALLBACK_TLS_NAME);
        else if (a) {
                r = callback_url_tcp(a, scheme, user, &url);
                if (r < 0)
                        return r;
        }
        if ((c->callback_endpoint || sock) && !url)
                return -ENOMEM;
        *ret_url = TAKE_PTR(url);
        *ret_socket = TAKE_PTR(sock);
        return 0;
}

static void gateway_config_donep(GatewayConfig *c) {
        gateway_config_done(c);
}

static int load_config(const char *config_path, bool user, GatewayConfig *c, ListenSet *ret_set) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (!config_path) {
                r = gateway_config_default_path(user, &path);
                if (r < 0)
                        return log_error_errno(r, "Cannot determine the path of gateway.conf: %m");
                config_path = path;
        }
        r = gateway_config_load(c, config_path);
        if (r < 0)
                return r; /* logged with file:line */
        r = gateway_config_listen_set(c, ret_set);
        if (r == -EADDRINUSE)
                return log_error_errno(r, "%s: a CallbackAddress= overlaps an API listener (BindAddress=/ExtraBindAddress=); "
                                          "sandbox-facing addresses must not serve the full API.", config_path);
        if (r == -ENOENT)
                return log_error_errno(r, "%s: no API listener (BindAddress= and ExtraBindAddress= are empty).", config_path);
        if (r == -EINVAL) /* only a default can be invalid here: the parser checked every configured value */
                return log_error_errno(r, "%s: a default listener address is invalid (an unusual $XDG_RUNTIME_DIR?); "
                                          "set CallbackAddress= explicitly.", config_path);
        if (r < 0)
                return log_error_errno(r, "%s: invalid listener set: %m", config_path);
        return 0;
}

/* SIGTERM/SIGINT end the loop; the watchdog is pinged from it when $WATCHDOG_USEC asks for that. */
static int setup_event_loop(sd_event **ret) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        sigset_t mask;
        int r;

        (void) signal(SIGPIPE, SIG_IGN); /* OpenSSL writes to sockets with write() */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        r = sd_event_default(&e);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_set_watchdog(e, true);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the event loop: %m");
        *ret = TAKE_PTR(e);
        return 0;
}

/* TLS (its certificate names the listeners, so after them), READY=1, and the loop until a signal. */
static int run(Manager *m, sd_event *e, const GatewayConfig *c) {
        int r;

        r = setup_tls(m, c);
        if (r < 0)
                return r;
        manager_update_idle(m);

        (void) sd_notify(false, "READY=1\nSTATUS=Serving the openshell API");
        r = sd_event_loop(e);
        (void) sd_notify(false, "STOPPING=1");
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}

int gateway_serve(const char *config_path, bool user) {
        _cleanup_(gateway_config_donep) GatewayConfig c = {};
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(gateway_systemd_freep) GatewaySystemd *sd = NULL;
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_free_ char *cb = NULL, *cb_socket = NULL;
        bool bound_self;
        ListenSet set;
        int r;

        r = gateway_config_init(&c, user);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the default configuration: %m");
        r = load_config(config_path, user, &c, &set);
        if (r < 0)
                return r;

        r = setup_event_loop(&e);
        if (r < 0)
                return r;

        r = manager_new(e, &c, &m);
        if (r < 0)
                return log_oom();

        r = store_open(c.state_dir, &store);
        if (r < 0)
                return log_error_errno(r, "Failed to open the state directory %s: %m", c.state_dir);
        r = gateway_systemd_new(e, user, &sd);
        if (r < 0)
                return log_error_errno(r, "Failed to determine the sandbox spec directory: %m");
        r = gateway_callback_target(&c, &set, user, &cb, &cb_socket);
        if (r < 0)
                return log_oom();
        m->api = (ApiContext) {
                .store = store,
                .ops = &gateway_systemd_ops,
                .ops_userdata = sd,
                .tls_dir = c.disable_tls ? NULL : c.tls_dir,
                .callback_url = cb,
                .callback_socket = cb_socket,
                .has_session = manager_has_session,
                .session_userdata = m,
                .watch_timeout_default = MIN(GATEWAY_WATCH_TIMEOUT_USEC_DEFAULT, c.limits.watch_timeout_usec),
                .watch_timeout_max = c.limits.watch_timeout_usec,
        };
        /* Listeners first: the server certificate must name their addresses. Nothing is accepted before
         * the loop runs, and by then the TLS context exists. A failure part-way leaves the sockets bound so
         * far: the next start replaces them as stale, and nothing here removes what it did not create. */
        r = setup_listeners(m, &set, cb_socket);
        if (r < 0)
                return r;
        bound_self = r > 0;
        r = run(m, e, &c);
        if (bound_self)
                unlink_own_sockets(&set);
        return r;
}

int gateway_generate_certs(const char *dir, char **server_sans) {
        PkiReport rep = {};
        int r;

        if (isempty(dir))
                return log_error_errno(EINVAL, "generate-certs needs --output-dir DIR.");
        r = pki_ensure(dir, server_sans, &rep);
        if (r == -EINVAL)
                return log_error_errno(r, "Refusing: a --server-san is invalid, or %s holds a CA that cannot be used "
                                          "(it is never replaced automatically).", dir);
        if (r == -E2BIG)
                return log_error_errno(r, "At most %u --server-san options.", PKI_EXTRA_SANS_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to generate certificates in %s: %m", dir);
        printf("%s: CA %s, server certificate %s, CLI client certificate %s.\n", dir,
               rep.ca_created ? "created" : "kept", rep.server_issued ? "issued" : "kept",
               rep.client_issued ? "issued" : "kept");
        return 0;
}
