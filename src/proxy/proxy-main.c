/* SPDX-License-Identifier: Apache-2.0 */
/* openshell-proxy: the sandbox's egress sidecar. main() only parses options and wires the Manager. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "parse-util.h"
#include "policy.h"
#include "proxy-manager.h"
#include "proxy-settings.h"
#include "string-util.h"

static void help(void) {
        printf("openshell-proxy [OPTIONS...]\n\n"
               "The egress proxy sidecar of an openshell sandbox: an HTTP forward proxy (CONNECT and\n"
               "absolute-URI requests) enforcing the sandbox policy, a TCP forward to the gateway and the\n"
               "sandbox's MITM CA.\n\n"
               "  -h --help                    Show this help\n"
               "     --version                 Show the version\n"
               "     --config FILE             Read [Proxy] settings from FILE and FILE.d/*.conf\n"
               "     --listen HOST:PORT        HTTP proxy address (default " PROXY_LISTEN_DEFAULT ")\n"
               "     --forward-listen HOST:PORT  TCP forward address\n"
               "     --forward-to HOST:PORT|PATH  TCP forward destination (the gateway), or an AF_UNIX\n"
               "                               socket at an absolute PATH\n"
               "     --tls-dir DIR             Create or reuse the sandbox CA in DIR\n"
               "     --policy FILE             Policy (JSON or YAML); without it all egress is denied\n"
               "     --upstream-ca FILE        Extra CA trusted for inspected (MITM) upstreams\n"
               "     --credentials FILE        Real values for openshell:resolve:env:KEY placeholders\n"
               "     --inference FILE          The inference.local route (JSON, see docs/proxy.md)\n"
               "     --gateway URL             Fetch policy, credentials and route from the gateway\n"
               "     --gateway-socket PATH     Connect to the gateway at this AF_UNIX socket; the URL\n"
               "                               still names the TLS host to verify\n"
               "     --gateway-ca FILE         CA that signed the gateway's server certificate\n"
               "     --gateway-cert FILE       The sandbox's client certificate (CN=sandbox:NAME)\n"
               "     --gateway-key FILE        Its private key\n"
               "     --inference-max-body-bytes SIZE  InferenceMaxBodyBytes= (default 4M)\n"
               "     --check-policy FILE       Validate a policy file and exit\n"
               "     --sandbox NAME            Sandbox name for log lines\n"
               "     --max-connections N       MaxConnections= (default %u)\n"
               "     --buffer-bytes SIZE       BufferBytes= per direction (default %u)\n"
               "     --max-header-bytes N      MaxHeaderBytes= (default %u)\n"
               "     --max-headers N           MaxHeaders= (default %u)\n"
               "     --idle-timeout SEC        IdleTimeoutSec= (default 300s)\n"
               "     --handshake-timeout SEC   HandshakeTimeoutSec= (default 30s)\n\n"
               "Signals: SIGHUP reloads the policy (an invalid one is refused, the old one stays);\n"
               "SIGTERM/SIGINT exit. See docs/proxy.md and docs/policy.md.\n",
               PROXY_MAX_CONNECTIONS_DEFAULT, PROXY_BUFFER_BYTES_DEFAULT, HTTP_MAX_HEADER_BYTES_DEFAULT,
               HTTP_MAX_HEADERS_DEFAULT);
}

enum {
        ARG_VERSION = 0x100,
        ARG_CONFIG,
        ARG_LISTEN,
        ARG_FORWARD_LISTEN,
        ARG_FORWARD_TO,
        ARG_TLS_DIR,
        ARG_POLICY,
        ARG_CHECK_POLICY,
        ARG_SANDBOX,
        ARG_MAX_CONNECTIONS,
        ARG_BUFFER_BYTES,
        ARG_MAX_HEADER_BYTES,
        ARG_MAX_HEADERS,
        ARG_IDLE_TIMEOUT,
        ARG_HANDSHAKE_TIMEOUT,
        ARG_UPSTREAM_CA,
        ARG_CREDENTIALS,
        ARG_INFERENCE,
        ARG_INFERENCE_MAX_BODY,
        ARG_GATEWAY,
        ARG_GATEWAY_CA,
        ARG_GATEWAY_CERT,
        ARG_GATEWAY_KEY,
        ARG_GATEWAY_SOCKET,
};

static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, ARG_VERSION },
        { "config", required_argument, NULL, ARG_CONFIG },
        { "listen", required_argument, NULL, ARG_LISTEN },
        { "forward-listen", required_argument, NULL, ARG_FORWARD_LISTEN },
        { "forward-to", required_argument, NULL, ARG_FORWARD_TO },
        { "tls-dir", required_argument, NULL, ARG_TLS_DIR },
        { "policy", required_argument, NULL, ARG_POLICY },
        { "check-policy", required_argument, NULL, ARG_CHECK_POLICY },
        { "sandbox", required_argument, NULL, ARG_SANDBOX },
        { "max-connections", required_argument, NULL, ARG_MAX_CONNECTIONS },
        { "buffer-bytes", required_argument, NULL, ARG_BUFFER_BYTES },
        { "max-header-bytes", required_argument, NULL, ARG_MAX_HEADER_BYTES },
        { "max-headers", required_argument, NULL, ARG_MAX_HEADERS },
        { "idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT },
        { "handshake-timeout", required_argument, NULL, ARG_HANDSHAKE_TIMEOUT },
        { "upstream-ca", required_argument, NULL, ARG_UPSTREAM_CA },
        { "credentials", required_argument, NULL, ARG_CREDENTIALS },
        { "inference", required_argument, NULL, ARG_INFERENCE },
        { "inference-max-body-bytes", required_argument, NULL, ARG_INFERENCE_MAX_BODY },
        { "gateway", required_argument, NULL, ARG_GATEWAY },
        { "gateway-ca", required_argument, NULL, ARG_GATEWAY_CA },
        { "gateway-cert", required_argument, NULL, ARG_GATEWAY_CERT },
        { "gateway-key", required_argument, NULL, ARG_GATEWAY_KEY },
        { "gateway-socket", required_argument, NULL, ARG_GATEWAY_SOCKET },
        {}
};

static int set_string(char **field, const char *value) {
        char *copy = strdup(value);

        if (!copy)
                return log_oom();
        free(*field);
        *field = copy;
        return 0;
}

static int apply_option(ProxySettings *s, int c, const char *v) {
        ProxyLimits *l = &s->limits;
        int r = 0;

        switch (c) {
        case ARG_LISTEN:
                return set_string(&s->listen, v);
        case ARG_FORWARD_LISTEN:
                return set_string(&s->forward_listen, v);
        case ARG_FORWARD_TO:
                return set_string(&s->forward_to, v);
        case ARG_TLS_DIR:
                return set_string(&s->tls_dir, v);
        case ARG_POLICY:
                return set_string(&s->policy_path, v);
        case ARG_SANDBOX:
                return set_string(&s->sandbox, v);
        case ARG_UPSTREAM_CA:
                return set_string(&s->upstream_ca, v);
        case ARG_CREDENTIALS:
                return set_string(&s->credentials_path, v);
        case ARG_GATEWAY:
                return set_string(&s->gateway_url, v);
        case ARG_GATEWAY_CA:
                return set_string(&s->gateway_ca, v);
        case ARG_GATEWAY_CERT:
                return set_string(&s->gateway_cert, v);
        case ARG_GATEWAY_KEY:
                return set_string(&s->gateway_key, v);
        case ARG_GATEWAY_SOCKET:
                return set_string(&s->gateway_socket, v);
        case ARG_INFERENCE:
                return set_string(&s->inference_path, v);
        case ARG_INFERENCE_MAX_BODY:
                r = parse_size(v, &l->inference_max_body);
                break;
        case ARG_MAX_CONNECTIONS:
                r = safe_atou(v, &l->max_connections);
                break;
        case ARG_BUFFER_BYTES:
                r = parse_size(v, &l->buffer_bytes);
                break;
        case ARG_MAX_HEADER_BYTES:
                r = safe_atou(v, &l->max_header_bytes);
                break;
        case ARG_MAX_HEADERS:
                r = safe_atou(v, &l->max_headers);
                break;
        case ARG_IDLE_TIMEOUT:
                r = parse_sec(v, &l->idle_timeout);
                break;
        case ARG_HANDSHAKE_TIMEOUT:
                r = parse_sec(v, &l->handshake_timeout);
                break;
        default:
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Invalid value '%s' for --%s.", v, options[c - ARG_VERSION + 1].name);
        return 0;
}

/* Every client costs a descriptor, and one more for its upstream: a unit's or shell's soft limit (often
 * 1024) would stop the proxy far below MaxConnections=. */
static void raise_fd_limit(const ProxyLimits *l) {
        uint64_t limit = 0, need = 2 * (uint64_t) l->max_connections + 64;
        int r;

        r = rlimit_nofile_raise(&limit);
        if (r < 0)
                log_warning_errno(r, "Cannot raise RLIMIT_NOFILE, staying at %" PRIu64 ": %m", limit);
        if (limit < need)
                log_warning("RLIMIT_NOFILE is %" PRIu64 ", MaxConnections=%u may need up to %" PRIu64
                            " descriptors: connections beyond the limit wait to be accepted.",
                            limit, l->max_connections, need);
}

static int check_policy(const char *path) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_free_ char *err = NULL;
        int r;

        r = policy_load(path, &p, &err);
        if (r < 0)
                return log_error_errno(r, "Invalid policy %s: %s", path, strna(err));
        printf("%s: valid, %zu network policies\n", path, p->n_entries);
        return 0;
}

/* Two passes: --config is applied first, so that every other option overrides the file. */
static int parse_argv(int argc, char *argv[], ProxySettings *s, const char **ret_check) {
        const char *config = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        puts("openshell-proxy " PACKAGE_VERSION);
                        return 0;
                case ARG_CONFIG:
                        config = optarg;
                        break;
                case ARG_CHECK_POLICY:
                        *ret_check = optarg;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        break;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'.", argv[optind]);
        if (config) {
                r = proxy_settings_load(s, config);
                if (r < 0)
                        return log_error_errno(r, "Failed to read configuration %s: %m", config);
        }
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                r = apply_option(s, c, optarg);
                if (r < 0)
                        return r;
        }
        return 1;
}

static int run(int argc, char *argv[]) {
        _cleanup_(proxy_settings_done) ProxySettings settings;
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_free_ char *err = NULL;
        const char *check = NULL;
        int r;

        proxy_settings_init(&settings);
        r = parse_argv(argc, argv, &settings, &check);
        if (r <= 0)
                return r;
        if (check)
                return check_policy(check);
        r = proxy_settings_validate(&settings, &err);
        if (r < 0)
                return log_error_errno(r, "Invalid settings: %s", err);
        raise_fd_limit(&settings.limits);
        r = manager_new(&settings, &m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the proxy: %m");
        r = manager_load_policy(m, &err);
        if (r < 0)
                return log_error_errno(r, "Refusing to start with an invalid policy or credentials: %s", strna(err));
        if (!settings.policy_path)
                log_warning("No --policy given: all egress is denied%s.",
                            settings.gateway_url ? " until the gateway's policy arrives" : "");
        r = manager_watch_policy(m);
        if (r < 0)
                log_warning_errno(r, "Cannot watch the policy for changes, reload with SIGHUP: %m");
        r = manager_start_listeners(m);
        if (r < 0)
                return r;
        r = manager_setup_ca(m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the CA in %s: %m", settings.tls_dir);
        r = manager_start_gateway(m, &err);
        if (r < 0)
                return log_error_errno(r, "Cannot use the gateway: %s", strna(err));
        r = manager_run(m);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}

int main(int argc, char *argv[]) {
        int r;

        log_set_program_name("openshell-proxy");
        log_parse_environment();
        /* Writes to a vanished peer (splice included) must fail with EPIPE, not kill the daemon. */
        (void) signal(SIGPIPE, SIG_IGN);
        r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
