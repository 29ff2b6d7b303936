/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <inttypes.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "path-util.h"
#include "proxy-conn.h"
#include "proxy-forward.h"
#include "proxy-manager.h"
#include "string-util.h"

/* Connections accepted per wakeup of a listener, so that one busy port cannot starve the other. */
#define ACCEPT_BATCH 64
/* Delay between a change of the policy file and its reload. */
#define MANAGER_RELOAD_DELAY_USEC (200 * USEC_PER_MSEC)
/* Pause after the process ran out of file descriptors. */
#define ACCEPT_RETRY_USEC (100 * USEC_PER_MSEC)

static int netmask_prefix(const struct sockaddr *mask) {
        const uint8_t *b;
        size_t n;
        int bits = 0;

        if (!mask)
                return -EINVAL;
        if (mask->sa_family == AF_INET) {
                b = (const uint8_t *) &((const struct sockaddr_in *) mask)->sin_addr;
                n = 4;
        } else if (mask->sa_family == AF_INET6) {
                b = ((const struct sockaddr_in6 *) mask)->sin6_addr.s6_addr;
                n = 16;
        } else
                return -EAFNOSUPPORT;
        for (size_t i = 0; i < n; i++)
                bits += __builtin_popcount(b[i]);
        return bits;
}

/* The networks the proxy itself sits on: the sandbox's internal network and the egress bridge. Requests
 * into them are SSRF unless a policy lists them in allowed_ips. */
static int load_own_networks(Manager *m) {
        struct ifaddrs *ifa = NULL;
        size_t n = 0;

        if (getifaddrs(&ifa) < 0)
                return -errno;
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
                n++;
        m->own_networks = new0(PolicyCidr, n ?: 1);
        if (!m->own_networks) {
                freeifaddrs(ifa);
                return -ENOMEM;
        }
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                char a[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 16];
                int prefix;

                if (!i->ifa_addr || !IN_SET(i->ifa_addr->sa_family, AF_INET, AF_INET6))
                        continue;
                prefix = netmask_prefix(i->ifa_netmask);
                if (prefix < 0)
                        continue;
                inet_ntop(i->ifa_addr->sa_family,
                          i->ifa_addr->sa_family == AF_INET
                                  ? (const void *) &((struct sockaddr_in *) i->ifa_addr)->sin_addr
                                  : (const void *) &((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr,
                          a, sizeof(a));
                snprintf(cidr, sizeof(cidr), "%s/%d", a, prefix);
                if (policy_cidr_parse(cidr, &m->own_networks[m->n_own_networks]) >= 0)
                        m->n_own_networks++;
        }
        freeifaddrs(ifa);
        return 0;
}

bool manager_address_allowed(Manager *m, const PolicyEndpoint *e, const struct sockaddr *sa) {
        return e && policy_endpoint_allows_address(e, sa, m->own_networks, m->n_own_networks);
}

static int signal_exit_cb(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        log_info("Received SIG%s, exiting.", sigabbrev_np((int) si->ssi_signo));
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void manager_reload(Manager *m, const char *why) {
        _cleanup_free_ char *err = NULL;
        int r;

        (void) sd_notify(false, "RELOADING=1");
        r = manager_load_policy(m, &err);
        if (r < 0)
                log_error("Policy reload (%s) failed, keeping the previous policy: %s", why, strna(err));
        else if (m->gateway_owns[GATEWAY_POLICY])
                log_info("Local files reloaded (%s); the policy comes from the gateway.", why);
        else
                log_info("Policy reloaded from %s (%s).", strna(m->settings->policy_path), why);
        (void) sd_notify(false, "READY=1");
}

static int signal_reload_cb(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        manager_reload(userdata, "SIGHUP");
        return 0;
}

static int reload_timer_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        manager_reload(userdata, "file changed");
        return 0;
}

static bool names_watched_file(Manager *m, const char *name) {
        const char *files[] = { m->settings->policy_path, m->settings->credentials_path, m->settings->inference_path };

        for (size_t i = 0; name && i < ELEMENTSOF(files); i++)
                if (files[i] && streq(path_basename(files[i]), name))
                        return true;
        return false;
}

static int inotify_cb(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        Manager *m = userdata;

        if (!(ev->mask & IN_Q_OVERFLOW) && (ev->len == 0 || !names_watched_file(m, ev->name)))
                return 0;
        /* Editors and atomic writers produce several events: reload once, shortly after the last. */
        (void) sd_event_source_set_time_relative(m->reload_timer, MANAGER_RELOAD_DELAY_USEC);
        (void) sd_event_source_set_enabled(m->reload_timer, SD_EVENT_ONESHOT);
        return 0;
}

static int watch_dir_of(Manager *m, const char *file, sd_event_source **ret) {
        _cleanup_free_ char *dir = NULL;

        if (!file)
                return 0;
        dir = strndup_safe(file, (size_t) (path_basename(file) - file));
        if (!dir)
                return -ENOMEM;
        return sd_event_add_inotify(m->event, ret, isempty(dir) ? "." : dir,
                                    IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR, inotify_cb, m);
}

int manager_watch_policy(Manager *m) {
        int r;

        r = sd_event_add_time(m->event, &m->reload_timer, CLOCK_MONOTONIC, USEC_INFINITY, 0, reload_timer_cb, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(m->reload_timer, SD_EVENT_OFF);
        r = watch_dir_of(m, m->settings->policy_path, &m->policy_watch[0]);
        if (r >= 0)
                r = watch_dir_of(m, m->settings->credentials_path, &m->policy_watch[1]);
        if (r >= 0)
                r = watch_dir_of(m, m->settings->inference_path, &m->policy_watch[2]);
        return r;
}

int manager_new(const ProxySettings *settings, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = new0(Manager, 1);
        int r;

        if (!m)
                return -ENOMEM;
        m->settings = settings;
        m->http_fd = m->forward_fd = -EBADF;
        m->http_limits = proxy_http_limits(&settings->limits);
        m->buffer_bytes = (size_t) settings->limits.buffer_bytes;
        if (settings->forward_to && proxy_address_is_path(settings->forward_to)) {
                m->forward_host = strdup(settings->forward_to); /* the socket path; forward_port stays 0 */
                if (!m->forward_host)
                        return -ENOMEM;
        } else if (settings->forward_to) {
                r = proxy_split_host_port(settings->forward_to, &m->forward_host, &m->forward_port);
                if (r < 0)
                        return r;
        }
        r = sd_event_new(&m->event);
        if (r < 0)
                return r;
        (void) sd_event_set_watchdog(m->event, true);
        r = dns_resolver_new(m->event, &m->resolver);
        if (r < 0)
                return r;
        r = load_own_networks(m);
        if (r < 0)
                return r;
        /* sd-event's signal sources need the signals blocked (libsystemd < 253 does not do it). */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        r = sd_event_add_signal(m->event, NULL, SIGTERM, signal_exit_cb, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, signal_exit_cb, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGHUP, signal_reload_cb, m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* Listeners first: nothing new arrives while connections go away. */
        m->http_source = sd_event_source_disable_unref(m->http_source);
        m->forward_source = sd_event_source_disable_unref(m->forward_source);
        m->reload_timer = sd_event_source_disable_unref(m->reload_timer);
        m->policy_watch[0] = sd_event_source_disable_unref(m->policy_watch[0]);
        m->policy_watch[1] = sd_event_source_disable_unref(m->policy_watch[1]);
        m->policy_watch[2] = sd_event_source_disable_unref(m->policy_watch[2]);
        m->http_fd = safe_close(m->http_fd);
        m->forward_fd = safe_close(m->forward_fd);
        m->gateway = gateway_client_free(m->gateway);
        while (m->conns)
                conn_free(m->conns);
        while (m->forwards)
                forward_free(m->forwards);
        dns_resolver_free(m->resolver);
        policy_free(m->policy);
        free(m->own_networks);
        free(m->forward_host);
        leaf_cache_free(m->leaf_cache);
        credential_store_free(m->credentials);
        inference_route_unref(m->inference);
        SSL_CTX_free(m->upstream_tls);
        proxy_ca_done(&m->ca);
        sd_event_unref(m->event);
        return mfree(m);
}

void manager_set_policy(Manager *m, Policy *p) {
        Policy *old = m->policy;

        m->policy = p;
        /* Live connections hold decisions pointing into the old policy: re-decide them before freeing it. */
        for (Conn *c = m->conns, *next; c; c = next) {
                next = conn_next(c);
                conn_policy_changed(c);
        }
        policy_free(old);
}

/* Local files apply until the gateway delivered the same resource; then the gateway is the source. */
int manager_load_policy(Manager *m, char **ret_error) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_(credential_store_freep) CredentialStore *creds = NULL;
        _cleanup_(inference_route_unrefp) InferenceRoute *inference = NULL;
        const char *policy_path = m->gateway_owns[GATEWAY_POLICY] ? NULL : m->settings->policy_path,
                   *creds_path = m->gateway_owns[GATEWAY_CREDENTIALS] ? NULL : m->settings->credentials_path,
                   *route_path = m->gateway_owns[GATEWAY_INFERENCE] ? NULL : m->settings->inference_path;
        int r;

        if (creds_path) {
                r = credential_store_load(creds_path, &creds, ret_error);
                if (r < 0)
                        return r;
        }
        if (route_path) {
                r = inference_route_load(route_path, &inference, ret_error);
                if (r < 0)
                        return r;
        }
        if (policy_path) {
                r = policy_load(policy_path, &p, ret_error);
                if (r < 0)
                        return r;
        }
        /* All parsed: now swap, credentials and route first (they are only read at request start). */
        if (!m->gateway_owns[GATEWAY_CREDENTIALS]) {
                credential_store_free(m->credentials);
                m->credentials = TAKE_PTR(creds);
        }
        if (!m->gateway_owns[GATEWAY_INFERENCE]) {
                inference_route_unref(m->inference);
                m->inference = TAKE_PTR(inference);
        }
        if (policy_path)
                manager_set_policy(m, TAKE_PTR(p));
        return 0; /* no policy: everything is denied */
}

static void gateway_policy(Manager *m, const cJSON *doc) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_free_ char *err = NULL;
        uint64_t rev = 0;
        int r;

        (void) gateway_policy_revision(doc, &rev);
        r = policy_from_json(cJSON_GetObjectItemCaseSensitive(doc, "policy"), NULL, &p, &err);
        if (r < 0) {
                log_error("Gateway policy revision %" PRIu64 " rejected, keeping the previous policy: %s", rev, strna(err));
                return;
        }
        manager_set_policy(m, TAKE_PTR(p));
        m->gateway_owns[GATEWAY_POLICY] = true;
        log_info("Policy revision %" PRIu64 " from the gateway applied.", rev);
        (void) sd_notifyf(false, "STATUS=Proxy on %s, gateway policy revision %" PRIu64,
                          m->settings->listen ?: PROXY_LISTEN_DEFAULT, rev);
}

static void gateway_update_cb(GatewayResource what, const cJSON *doc, void *userdata) {
        Manager *m = userdata;
        _cleanup_(credential_store_freep) CredentialStore *creds = NULL;
        _cleanup_(inference_route_unrefp) InferenceRoute *route = NULL;
        _cleanup_free_ char *err = NULL;
        int r = 0;

        switch (what) {
        case GATEWAY_POLICY:
                return gateway_policy(m, doc);
        case GATEWAY_CREDENTIALS:
                r = credential_store_from_map(cJSON_GetObjectItemCaseSensitive(doc, "credentials"), &creds, &err);
                if (r >= 0) {
                        credential_store_free(m->credentials);
                        m->credentials = TAKE_PTR(creds);
                }
                break;
        case GATEWAY_INFERENCE:
                if (doc)
                        r = inference_route_from_json(doc, &route, &err);
                if (r >= 0) {
                        inference_route_unref(m->inference);
                        m->inference = TAKE_PTR(route);
                }
                break;
        case _GATEWAY_RESOURCE_MAX:
        case _GATEWAY_RESOURCE_INVALID:
                return;
        }
        if (r < 0) {
                log_error("Gateway %s rejected, keeping the previous ones: %s", gateway_resource_to_string(what), strna(err));
                return;
        }
        m->gateway_owns[what] = true;
        log_info("%s from the gateway applied%s.", what == GATEWAY_CREDENTIALS ? "Credentials" : "Inference route",
                 what == GATEWAY_INFERENCE && !m->inference ? " (none set: inference.local is denied)" : "");
}

int manager_start_gateway(Manager *m, char **ret_error) {
        const ProxySettings *s = m->settings;
        GatewayClientOptions o = {
                .url = s->gateway_url,
                .socket_path = s->gateway_socket,
                .sandbox = s->sandbox,
                .ca = s->gateway_ca,
                .cert = s->gateway_cert,
                .key = s->gateway_key,
                .limits = m->http_limits,
                .handshake_timeout = s->limits.handshake_timeout,
        };
        int r;

        if (!s->gateway_url)
                return 0;
        r = gateway_client_new(m->event, m->resolver, &o, gateway_update_cb, m, &m->gateway, ret_error);
        if (r < 0)
                return r;
        log_info("Gateway mode: policy, credentials and inference route from %s%s%s.", s->gateway_url,
                 s->gateway_socket ? " through the socket " : "", strempty(s->gateway_socket));
        return gateway_client_start(m->gateway);
}

int manager_setup_ca(Manager *m) {
        const char *bundle = m->settings->system_ca_bundle ?: PROXY_SYSTEM_CA_BUNDLE;
        int r;

        if (!m->settings->tls_dir) {
                /* Only https inference backends need it then: without a trust store they get 502. */
                r = proxy_upstream_tls_context_new(bundle, m->settings->upstream_ca, &m->upstream_tls);
                if (r < 0)
                        log_warning_errno(r, "Cannot load the trust store %s, https backends are unusable: %m", bundle);
                return 0;
        }
        r = proxy_ca_ensure(m->settings->tls_dir, m->settings->system_ca_bundle ?: PROXY_SYSTEM_CA_BUNDLE, &m->ca);
        if (r < 0)
                return r;
        m->have_ca = true;
        r = leaf_cache_new(m->ca.cert, m->ca.key, PROXY_LEAF_CACHE_MAX, &m->leaf_cache);
        if (r < 0)
                return r;
        return proxy_upstream_tls_context_new(m->settings->system_ca_bundle ?: PROXY_SYSTEM_CA_BUNDLE,
                                              m->settings->upstream_ca, &m->upstream_tls);
}

static void set_accepting(Manager *m, bool on) {
        (void) sd_event_source_set_enabled(m->http_source, on ? SD_EVENT_ON : SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(m->forward_source, on ? SD_EVENT_ON : SD_EVENT_OFF);
        m->accept_paused = !on;
}

void manager_connection_added(Manager *m) {
        if (++m->n_connections >= m->settings->limits.max_connections && !m->accept_paused) {
                log_warning("MaxConnections=%u reached, not accepting until a connection ends.",
                            m->settings->limits.max_connections);
                set_accepting(m, false);
        }
}

void manager_connection_removed(Manager *m) {
        m->n_connections--;
        if (m->accept_paused && m->n_connections < m->settings->limits.max_connections)
                set_accepting(m, true);
}

static int resume_accept_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        if (m->n_connections < m->settings->limits.max_connections)
                set_accepting(m, true);
        return 0;
}

static int accept_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        bool is_forward = s == m->forward_source;

        for (int i = 0; i < ACCEPT_BATCH && !m->accept_paused; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                int r;

                if (cfd < 0) {
                        if (IN_SET(errno, EMFILE, ENFILE, ENOBUFS, ENOMEM)) {
                                log_warning_errno(errno, "Cannot accept connections: %m");
                                set_accepting(m, false);
                                (void) sd_event_add_time_relative(m->event, NULL, CLOCK_MONOTONIC, ACCEPT_RETRY_USEC, 0,
                                                                  resume_accept_cb, m);
                        }
                        break; /* EAGAIN, or a connection that died in the backlog */
                }
                /* Without TCP_NODELAY the tail of a relayed response or TLS flight waits for the client's
                 * delayed ACK (~40 ms); the upstream side sets it too. */
                (void) setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
                r = is_forward ? forward_new(m, cfd) : conn_new(m, cfd, NULL);
                if (r < 0)
                        log_debug_errno(r, "Failed to set up connection: %m");
        }
        return 0;
}

static int listen_on(Manager *m, const char *address, int *ret_fd, sd_event_source **ret_source) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_storage ss;
        socklen_t len;
        int r, one = 1;

        r = proxy_parse_address(address, &ss, &len);
        if (r < 0)
                return r;
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, SOMAXCONN) < 0)
                return -errno;
        r = sd_event_add_io(m->event, ret_source, fd, EPOLLIN, accept_cb, m);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int manager_start_listeners(Manager *m) {
        const char *listen = m->settings->listen ?: PROXY_LISTEN_DEFAULT;
        int r;

        r = listen_on(m, listen, &m->http_fd, &m->http_source);
        if (r < 0)
                return log_error_errno(r, "Failed to listen on %s: %m", listen);
        if (m->settings->forward_listen) {
                r = listen_on(m, m->settings->forward_listen, &m->forward_fd, &m->forward_source);
                if (r < 0)
                        return log_error_errno(r, "Failed to listen on %s: %m", m->settings->forward_listen);
        }
        return 0;
}

int manager_run(Manager *m) {
        const ProxySettings *s = m->settings;
        int r;

        log_info("Listening on %s%s%s%s%s, policy %s, %s.", s->listen ?: PROXY_LISTEN_DEFAULT,
                 s->forward_listen ? ", forwarding " : "", strempty(s->forward_listen), s->forward_listen ? " to " : "",
                 strempty(s->forward_to), s->policy_path ?: "(none: all egress denied)",
                 m->have_ca ? m->ca.fingerprint : "no CA");
        (void) sd_notifyf(false, "READY=1\nSTATUS=Proxy on %s%s%s", s->listen ?: PROXY_LISTEN_DEFAULT,
                          s->forward_listen ? ", forward on " : "", strempty(s->forward_listen));
        r = sd_event_loop(m->event);
        (void) sd_notify(false, "STOPPING=1");
        return r;
}
