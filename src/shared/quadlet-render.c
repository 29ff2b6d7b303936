/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "fileio.h"
#include "path-util.h"
#include "quadlet-render.h"
#include "string-util.h"
#include "unit-escape.h"

/* The agent's CA paths: the TLS volume is mounted whole (Podman < 5.4 has no volume subpath), so the
 * CA directory appears as a subdirectory. The private key directory is covered with an empty tmpfs. */
#define AGENT_CA_BUNDLE QUADLET_AGENT_TLS_DIR "/ca/ca-bundle.crt"
#define AGENT_CA_CERT QUADLET_AGENT_TLS_DIR "/ca/ca.crt"
#define AGENT_PRIVATE_DIR QUADLET_AGENT_TLS_DIR "/private"

/* git runs GIT_SSH_COMMAND through the shell with the host and remote command appended: 'false'
 * ignores them and fails. */
#define GIT_SSH_REFUSE "echo 'openshell: SSH is disabled in this sandbox; use an https:// remote' >&2; false"

static const char *const file_suffix[_QUADLET_FILE_TYPE_MAX] = {
        [QUADLET_FILE_NETWORK] = ".network",
        [QUADLET_FILE_VOLUME] = ".volume",
        [QUADLET_FILE_PROXY] = ".container",
        [QUADLET_FILE_AGENT] = ".container",
};

static const char *const file_prefix[_QUADLET_FILE_TYPE_MAX] = {
        [QUADLET_FILE_NETWORK] = "openshell-sbx-",
        [QUADLET_FILE_VOLUME] = "openshell-tls-",
        [QUADLET_FILE_PROXY] = "openshell-proxy-",
        [QUADLET_FILE_AGENT] = "openshell-agent-",
};

void quadlet_files_done(QuadletFiles *f) {
        for (size_t i = 0; i < _QUADLET_FILE_TYPE_MAX; i++) {
                f->name[i] = mfree(f->name[i]);
                f->content[i] = mfree(f->content[i]);
        }
}

int quadlet_file_name(const char *sandbox, QuadletFileType type, char **ret) {
        if (!sandbox_name_is_valid(sandbox) || type < 0 || type >= _QUADLET_FILE_TYPE_MAX)
                return -EINVAL;
        *ret = strjoin(file_prefix[type], sandbox, file_suffix[type]);
        return *ret ? 0 : -ENOMEM;
}

bool quadlet_selinux_enabled(void) {
        return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

/* Output buffer. Every helper checks 'failed' so that a render function can emit many lines and check
 * once at the end. */
typedef struct Out {
        FILE *f;
        char *buf;
        size_t size;
        int error;
} Out;

static int out_open(Out *o) {
        *o = (Out) {};
        o->f = open_memstream(&o->buf, &o->size);
        return o->f ? 0 : -ENOMEM;
}

static int out_close(Out *o, char **ret) {
        int r = o->error;

        if (fclose(o->f) != 0 && r == 0)
                r = -ENOMEM;
        o->f = NULL;
        if (r < 0) {
                o->buf = mfree(o->buf);
                return r;
        }
        *ret = TAKE_PTR(o->buf);
        return 0;
}

static void out_cleanup(Out *o) {
        if (o->f)
                fclose(o->f);
        free(o->buf);
}

_printf_(2, 3) static void out_printf(Out *o, const char *fmt, ...) {
        va_list ap;

        if (o->error < 0)
                return;
        va_start(ap, fmt);
        if (vfprintf(o->f, fmt, ap) < 0)
                o->error = -ENOMEM;
        va_end(ap);
}

/* Writes "Key=word\n" with word escaped by unit_escape_word(). */
static void out_key_word(Out *o, const char *key, const char *value) {
        _cleanup_free_ char *w = NULL;
        int r;

        if (o->error < 0)
                return;
        r = unit_escape_word(value, &w);
        if (r < 0) {
                o->error = r;
                return;
        }
        out_printf(o, "%s=%s\n", key, w);
}

/* Environment=KEY=VALUE as one escaped word. */
static void out_env(Out *o, const char *key, const char *value) {
        _cleanup_free_ char *kv = strjoin(key, "=", value);

        if (!kv) {
                o->error = -ENOMEM;
                return;
        }
        out_key_word(o, "Environment", kv);
}

/* Exec= from a list of words. */
static void out_exec(Out *o, char *const *words) {
        out_printf(o, "Exec=");
        STRV_FOREACH(w, (char **) words) {
                _cleanup_free_ char *e = NULL;
                int r;

                if (o->error < 0)
                        return;
                r = unit_escape_word(*w, &e);
                if (r < 0) {
                        o->error = r;
                        return;
                }
                out_printf(o, "%s%s", w == words ? "" : " ", e);
        }
        out_printf(o, "\n");
}

/* Paths reach Mount= unquoted: the spec parser restricts them to [A-Za-z0-9/._+@-]; check again here so
 * that the renderer is safe on its own. An image reference as a Mount= source may also hold ':' (tag,
 * digest). Neither may hold ',' or '=', which would start another Mount= option. */
#define MOUNT_WORD_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._+@-"

static bool word_is_safe(const char *s, const char *chars) {
        return s && *s && strspn(s, chars) == strlen(s);
}

static bool mount_word_is_safe(const char *s) {
        return word_is_safe(s, MOUNT_WORD_CHARS);
}

static bool image_word_is_safe(const char *s) {
        return word_is_safe(s, MOUNT_WORD_CHARS ":");
}

/* gateway_socket: the spec's charset for it, narrower than MOUNT_WORD_CHARS. */
#define GATEWAY_SOCKET_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-"

static void out_mount(Out *o, const char *type, const char *source, const char *target, bool ro, bool relabel) {
        if ((source && !mount_word_is_safe(source)) || !mount_word_is_safe(target)) {
                o->error = -EINVAL;
                return;
        }
        out_printf(o, "Mount=type=%s%s%s,destination=%s%s%s\n", type, source ? ",source=" : "", strempty(source),
                   target, ro ? ",ro=true" : "", relabel ? ",relabel=shared" : "");
}

/* Every generated unit is PartOf the umbrella: stopping openshell-sandbox@NAME stops the containers and
 * also the network and volume services, so nothing stays "active (exited)" once the spec is gone. */
static void out_header(Out *o, const RenderOptions *opts, const SandboxSpec *spec, const char *what) {
        out_printf(o, "# Generated by openshell-quadlet from %s — do not edit\n", opts->spec_path);
        out_printf(o, "[Unit]\nDescription=openshell sandbox %s: %s\n", spec->name, what);
        out_printf(o, "PartOf=openshell-sandbox@%s.service\n", spec->name);
}

static void out_labels(Out *o, const char *sandbox, const char *role) {
        out_printf(o, "Label=openshell.sandbox=%s\nLabel=openshell.role=%s\n", sandbox, role);
}

static int render_network(const SandboxSpec *spec, const RenderOptions *opts, char **ret) {
        _cleanup_(out_cleanup) Out o = {};
        _cleanup_free_ char *subnet = NULL, *gw = NULL;
        int r;

        r = sandbox_subnet_format(spec->subnet_slot, &subnet);
        if (r < 0)
                return r;
        r = sandbox_subnet_address(spec->subnet_slot, 1, &gw);
        if (r < 0)
                return r;
        r = out_open(&o);
        if (r < 0)
                return r;
        out_header(&o, opts, spec, "internal network");
        out_printf(&o, "\n[Network]\nNetworkName=openshell-sbx-%s\n", spec->name);
        /* No route out; isolate=strict (netavark) drops traffic to every other network, isolated or
         * not. aardvark-dns on .1 answers for the container names on this network. */
        out_printf(&o, "Internal=true\nSubnet=%s\nGateway=%s\nOptions=isolate=strict\n", subnet, gw);
        out_labels(&o, spec->name, "network");
        return out_close(&o, ret);
}

static int render_volume(const SandboxSpec *spec, const RenderOptions *opts, char **ret) {
        _cleanup_(out_cleanup) Out o = {};
        int r;

        r = out_open(&o);
        if (r < 0)
                return r;
        out_header(&o, opts, spec, "TLS volume");
        out_printf(&o, "\n[Volume]\nVolumeName=openshell-tls-%s\n", spec->name);
        out_labels(&o, spec->name, "tls");
        return out_close(&o, ret);
}

/* The spec bounds the socket's file name so that the in-container path fits a sun_path (107 bytes). */
static_assert(sizeof(QUADLET_GATEWAY_SOCKET_DIR "/") - 1 + SANDBOX_GATEWAY_SOCKET_NAME_MAX <= SANDBOX_SOCKET_PATH_MAX,
              "the gateway socket's path inside the proxy container may not fit a sun_path");

/* gateway_socket's directory, mounted into the proxy, and the socket's path in there. Both reach unit
 * lines unquoted (Volume= splits on ':'), so they are checked here too, not only by the spec parser. */
static int gateway_socket_paths(const SandboxSpec *spec, char **ret_host_dir, char **ret_inner) {
        _cleanup_free_ char *dir = NULL, *inner = NULL;
        const char *s = spec->gateway_socket, *slash;

        if (!s || s[0] != '/' || !path_is_normalized_absolute(s) || !word_is_safe(s, GATEWAY_SOCKET_CHARS))
                return -EINVAL;
        slash = strrchr(s, '/');
        if (slash == s || strlen(slash + 1) > SANDBOX_GATEWAY_SOCKET_NAME_MAX)
                return -EINVAL; /* the directory would be '/' */
        dir = strndup(s, (size_t) (slash - s));
        inner = strjoin(QUADLET_GATEWAY_SOCKET_DIR, slash);
        if (!dir || !inner)
                return -ENOMEM;
        *ret_host_dir = TAKE_PTR(dir);
        *ret_inner = TAKE_PTR(inner);
        return 0;
}

static int proxy_exec_words(const SandboxSpec *spec, char ***ret) {
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_free_ char *listen = NULL, *forward = NULL, *to = NULL, *dir = NULL;
        int r;

        if (asprintf(&listen, "0.0.0.0:%d", QUADLET_PROXY_PORT) < 0 ||
            asprintf(&forward, "0.0.0.0:%d", QUADLET_FORWARD_PORT) < 0)
                return -ENOMEM;
        /* With a gateway socket the forward goes to the socket (mounted below), not to HOST:PORT: the
         * callback path then needs no network between the proxy and the host at all. */
        if (spec->gateway && spec->gateway_socket) {
                r = gateway_socket_paths(spec, &dir, &to);
                if (r < 0)
                        return r;
        } else if (spec->gateway && asprintf(&to, "%s:%u", spec->gateway_host, spec->gateway_port) < 0)
                return -ENOMEM;

        const char *args[] = {
                "--library-path", QUADLET_SIDECAR_ROOT "/lib", QUADLET_SIDECAR_ROOT "/bin/openshell-proxy",
                "--listen", listen,
        };
        for (size_t i = 0; i < ELEMENTSOF(args); i++)
                if (strv_extend(&w, args[i]) < 0)
                        return -ENOMEM;
        /* The TCP forward exists only to carry the supervisor's connection to a gateway. */
        if (to && (strv_extend(&w, "--forward-listen") < 0 || strv_extend(&w, forward) < 0 ||
                   strv_extend(&w, "--forward-to") < 0 || strv_extend(&w, to) < 0))
                return -ENOMEM;
        const char *tail[] = {
                "--tls-dir", QUADLET_PROXY_TLS_DIR, "--policy", QUADLET_PROXY_POLICY, "--sandbox", spec->name,
        };
        for (size_t i = 0; i < ELEMENTSOF(tail); i++)
                if (strv_extend(&w, tail[i]) < 0)
                        return -ENOMEM;
        /* Gateway mode: the proxy fetches policy, credentials and inference route with the sandbox's own
         * client certificate (mounted below), falling back to the policy file while the gateway is away. */
        if (spec->gateway && (strv_extend(&w, "--gateway") < 0 || strv_extend(&w, spec->gateway) < 0))
                return -ENOMEM;
        /* The URL still names the scheme and the TLS name to verify; the socket is where to connect. */
        if (dir && (strv_extend(&w, "--gateway-socket") < 0 || strv_extend(&w, to) < 0))
                return -ENOMEM;
        if (spec->tls_ca) {
                const char *gw[] = {
                        "--gateway-ca", QUADLET_CLIENT_TLS_DIR "/ca.crt", "--gateway-cert", QUADLET_CLIENT_TLS_DIR "/tls.crt",
                        "--gateway-key", QUADLET_CLIENT_TLS_DIR "/tls.key",
                };
                for (size_t i = 0; i < ELEMENTSOF(gw); i++)
                        if (strv_extend(&w, gw[i]) < 0)
                                return -ENOMEM;
        }
        *ret = TAKE_PTR(w);
        return 0;
}

/* The directory of the gateway's callback socket, read-only (connect() needs no write access to the
 * mount), relabelled like the other bind mounts where SELinux is on. The directory, not the socket: a
 * socket the gateway re-creates (restart, socket unit re-listen) gets a new inode that a file bind mount
 * would not follow. */
static void out_gateway_socket(Out *o, const SandboxSpec *spec, const RenderOptions *opts) {
        _cleanup_free_ char *dir = NULL, *inner = NULL;
        int r;

        if (!spec->gateway || !spec->gateway_socket || o->error < 0)
                return;
        r = gateway_socket_paths(spec, &dir, &inner);
        if (r < 0) {
                o->error = r;
                return;
        }
        out_printf(o, "Volume=%s:%s:ro%s\n", dir, QUADLET_GATEWAY_SOCKET_DIR, opts->selinux ? ",z" : "");
}

static int render_proxy(const SandboxSpec *spec, const RenderOptions *opts, char **ret) {
        _cleanup_(out_cleanup) Out o = {};
        _cleanup_free_ char *ip = NULL;
        _cleanup_strv_free_ char **exec = NULL;
        int r;

        r = sandbox_subnet_address(spec->subnet_slot, 2, &ip);
        if (r < 0)
                return r;
        r = proxy_exec_words(spec, &exec);
        if (r < 0)
                return r;
        r = out_open(&o);
        if (r < 0)
                return r;

        out_header(&o, opts, spec, "egress proxy");
        out_printf(&o, "After=openshell-firewall.service\n");
        out_printf(&o, "\n[Container]\nContainerName=openshell-proxy-%s\n", spec->name);
        out_key_word(&o, "Image", opts->sidecar_image ?: SIDECAR_IMAGE);
        out_printf(&o, "Pull=never\n");
        out_printf(&o, "Network=openshell-sbx-%s.network:ip=%s\nNetwork=%s\n", spec->name, ip, QUADLET_EGRESS_NETWORK);
        STRV_FOREACH(d, (char **) opts->resolvers)
                out_key_word(&o, "DNS", *d);
        out_printf(&o, "Mount=type=volume,source=openshell-tls-%s.volume,destination=%s\n", spec->name,
                   QUADLET_PROXY_TLS_DIR);
        out_mount(&o, "bind", spec->policy, QUADLET_PROXY_POLICY, true, opts->selinux);
        if (spec->tls_ca) {
                out_mount(&o, "bind", spec->tls_ca, QUADLET_CLIENT_TLS_DIR "/ca.crt", true, opts->selinux);
                out_mount(&o, "bind", spec->tls_cert, QUADLET_CLIENT_TLS_DIR "/tls.crt", true, opts->selinux);
                out_mount(&o, "bind", spec->tls_key, QUADLET_CLIENT_TLS_DIR "/tls.key", true, opts->selinux);
        }
        out_gateway_socket(&o, spec, opts);
        out_printf(&o, "Entrypoint=%s\n", QUADLET_SIDECAR_LOADER);
        out_exec(&o, exec);
        /* READY=1 comes from the proxy once both listeners are bound and the CA is on the volume. Ports
         * above 1023 need no capability, so the proxy keeps none. */
        out_printf(&o, "Notify=true\nDropCapability=all\nNoNewPrivileges=true\nReadOnly=true\n");
        out_printf(&o, "StopTimeout=%d\n", QUADLET_STOP_TIMEOUT_SEC);
        out_labels(&o, spec->name, "proxy");
        out_printf(&o, "\n[Service]\nRestart=on-failure\n");
        return out_close(&o, ret);
}

static void agent_env(Out *o, const SandboxSpec *spec, const char *proxy_ip) {
        _cleanup_free_ char *proxy = NULL, *endpoint = NULL;
        bool session = spec->gateway && (!spec->tls_ca || spec->tls_agent_cert);

        /* The proxy by address (no resolver needed); the endpoint by the name the gateway certificate
         * carries (--add-host below), so that any TLS client in the agent can verify it. */
        if (asprintf(&proxy, "http://%s:%d", proxy_ip, QUADLET_PROXY_PORT) < 0 ||
            asprintf(&endpoint, "%s://%s:%d", spec->tls_ca ? "https" : "http", QUADLET_PROXY_HOST, QUADLET_FORWARD_PORT) < 0) {
                o->error = -ENOMEM;
                return;
        }
        const char *fixed[][2] = {
                { "HTTP_PROXY", proxy },
                { "HTTPS_PROXY", proxy },
                { "http_proxy", proxy },
                { "https_proxy", proxy },
                { "NO_PROXY", "localhost,127.0.0.1,::1" },
                { "no_proxy", "localhost,127.0.0.1,::1" },
                { "SSL_CERT_FILE", AGENT_CA_BUNDLE },
                { "CURL_CA_BUNDLE", AGENT_CA_BUNDLE },
                { "GIT_SSL_CAINFO", AGENT_CA_BUNDLE },
                { "REQUESTS_CA_BUNDLE", AGENT_CA_BUNDLE },
                { "NODE_EXTRA_CA_CERTS", AGENT_CA_CERT },
                { "NODE_USE_ENV_PROXY", "1" },
                { "GIT_SSH_COMMAND", GIT_SSH_REFUSE },
                { "OPENSHELL_SANDBOX", spec->name },
                { "OPENSHELL_POLICY_FILE", QUADLET_AGENT_POLICY },
        };
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                out_env(o, fixed[i][0], fixed[i][1]);
        /* Without a gateway the forward has nowhere to go, and without its own certificate the
         * supervisor cannot authenticate: no endpoint is advertised, there is no session. */
        if (session)
                out_env(o, "OPENSHELL_ENDPOINT", endpoint);
        if (session && spec->tls_ca) {
                out_env(o, "OPENSHELL_TLS_CA", QUADLET_CLIENT_TLS_DIR "/ca.crt");
                out_env(o, "OPENSHELL_TLS_CERT", QUADLET_CLIENT_TLS_DIR "/tls.crt");
                out_env(o, "OPENSHELL_TLS_KEY", QUADLET_CLIENT_TLS_DIR "/tls.key");
        }
        for (size_t i = 0; i < spec->n_env; i++)
                out_env(o, spec->env[i].key, spec->env[i].value);
}

static void agent_mounts(Out *o, const SandboxSpec *spec, const RenderOptions *opts) {
        const char *sidecar = opts->sidecar_image ?: SIDECAR_IMAGE;

        /* The supervisor comes from the sidecar image, never from the user's image. The whole image is
         * mounted (subpath= needs Podman 5.1): its top-level bin and lib are symlinks into opt/openshell,
         * so /opt/openshell/{bin,lib} resolve within the mount. */
        if (!image_word_is_safe(sidecar)) {
                o->error = -EINVAL;
                return;
        }
        out_printf(o, "Mount=type=image,source=%s,destination=%s\n", sidecar, QUADLET_SIDECAR_ROOT);
        out_printf(o, "Mount=type=volume,source=openshell-tls-%s.volume,destination=%s,ro=true\n", spec->name,
                   QUADLET_AGENT_TLS_DIR);
        /* Hide the proxy's private key directory behind an empty tmpfs; the agent has no capability to
         * unmount it. notmpcopyup matters: Podman's default copies the directory's content (the key)
         * into the tmpfs. */
        out_printf(o, "Tmpfs=%s:ro,notmpcopyup,size=4k,mode=0700\n", AGENT_PRIVATE_DIR);
        /* The policy, for the supervisor's Landlock rules (filesystem_policy). */
        out_mount(o, "bind", spec->policy, QUADLET_AGENT_POLICY, true, opts->selinux);
        /* The supervisor's own identity, never the proxy's: the proxy's certificate fetches credentials. */
        if (spec->tls_agent_cert) {
                out_mount(o, "bind", spec->tls_ca, QUADLET_CLIENT_TLS_DIR "/ca.crt", true, opts->selinux);
                out_mount(o, "bind", spec->tls_agent_cert, QUADLET_CLIENT_TLS_DIR "/tls.crt", true, opts->selinux);
                out_mount(o, "bind", spec->tls_agent_key, QUADLET_CLIENT_TLS_DIR "/tls.key", true, opts->selinux);
        }
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const SandboxMount *m = &spec->mounts[i];
                out_mount(o, sandbox_mount_type_to_string(m->type), m->source, m->target, m->readonly, false);
        }
}

/* The supervisor is PID 1 of the agent, started by the sidecar's loader. Without a command it serves
 * exec/connect only; the sandbox stays up until stopped. */
static int agent_exec_words(const SandboxSpec *spec, char ***ret) {
        _cleanup_strv_free_ char **w = NULL;
        const char *head[] = {
                "--library-path", QUADLET_SIDECAR_ROOT "/lib", QUADLET_SIDECAR_ROOT "/bin/openshell-sandbox",
                spec->command ? "--" : "--no-workload",
        };

        for (size_t i = 0; i < ELEMENTSOF(head); i++)
                if (strv_extend(&w, head[i]) < 0)
                        return -ENOMEM;
        STRV_FOREACH(c, spec->command)
                if (strv_extend(&w, *c) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(w);
        return 0;
}

static void agent_resources(Out *o, const SandboxSpec *spec) {
        /* Podman 5.0 Quadlet has no Memory=/Cpus= keys: PodmanArgs= carries them. */
        if (spec->cpus_milli > 0) {
                unsigned frac = spec->cpus_milli % 1000;
                if (frac == 0)
                        out_printf(o, "PodmanArgs=--cpus=%u\n", spec->cpus_milli / 1000);
                else if (frac % 100 == 0)
                        out_printf(o, "PodmanArgs=--cpus=%u.%u\n", spec->cpus_milli / 1000, frac / 100);
                else if (frac % 10 == 0)
                        out_printf(o, "PodmanArgs=--cpus=%u.%02u\n", spec->cpus_milli / 1000, frac / 10);
                else
                        out_printf(o, "PodmanArgs=--cpus=%u.%03u\n", spec->cpus_milli / 1000, frac);
        }
        if (spec->memory > 0)
                out_printf(o, "PodmanArgs=--memory=%llu\n", (unsigned long long) spec->memory);
        if (spec->pids > 0)
                out_printf(o, "PidsLimit=%u\n", spec->pids);
}

static int render_agent(const SandboxSpec *spec, const RenderOptions *opts, char **ret) {
        _cleanup_(out_cleanup) Out o = {};
        _cleanup_free_ char *ip = NULL, *agent_ip = NULL;
        _cleanup_strv_free_ char **exec = NULL;
        int r;

        r = sandbox_subnet_address(spec->subnet_slot, 2, &ip);
        if (r < 0)
                return r;
        r = sandbox_subnet_address(spec->subnet_slot, 3, &agent_ip);
        if (r < 0)
                return r;
        r = agent_exec_words(spec, &exec);
        if (r < 0)
                return r;
        r = out_open(&o);
        if (r < 0)
                return r;

        out_header(&o, opts, spec, "agent");
        out_printf(&o, "Requires=openshell-proxy-%s.service\nAfter=openshell-proxy-%s.service\n", spec->name,
                   spec->name);
        out_printf(&o, "After=openshell-firewall.service\n");
        out_printf(&o, "\n[Container]\nContainerName=openshell-agent-%s\n", spec->name);
        out_key_word(&o, "Image", spec->image);
        out_printf(&o, "Network=openshell-sbx-%s.network:ip=%s\n", spec->name, agent_ip);
        /* AddHost= needs Podman 5.3. */
        out_printf(&o, "PodmanArgs=--add-host=%s:%s\n", QUADLET_PROXY_HOST, ip);
        /* The sandbox network is IPv4 only, but the kernel still gives eth0 an IPv6 link-local address, and
         * the host's end of the bridge has one too: a host daemon listening on [::] would answer the agent
         * at fe80::...%eth0, past openshell-firewall's IPv4 rules (found by the e2e bypass matrix). The
         * agent cannot turn IPv6 back on: no CAP_NET_ADMIN, /proc/sys is read-only. */
        out_printf(&o, "Sysctl=net.ipv6.conf.all.disable_ipv6=1\n"
                       "Sysctl=net.ipv6.conf.default.disable_ipv6=1\n");
        agent_mounts(&o, spec, opts);
        agent_env(&o, spec, ip);
        out_printf(&o, "Entrypoint=%s\n", QUADLET_SIDECAR_LOADER);
        out_exec(&o, exec);
        if (spec->userns)
                out_key_word(&o, "UserNS", spec->userns);
        agent_resources(&o, spec);
        /* READY=1 comes from the supervisor once its gateway session is up (at once without a gateway). */
        out_printf(&o, "Notify=true\nDropCapability=all\nNoNewPrivileges=true\nStopTimeout=%d\n", QUADLET_STOP_TIMEOUT_SEC);
        out_labels(&o, spec->name, "agent");
        for (size_t i = 0; i < spec->n_labels; i++) {
                _cleanup_free_ char *kv = strjoin(spec->labels[i].key, "=", spec->labels[i].value);
                if (!kv)
                        return -ENOMEM;
                out_key_word(&o, "Label", kv);
        }
        out_printf(&o, "\n[Service]\nRestart=on-failure\n");
        return out_close(&o, ret);
}

int quadlet_render(const SandboxSpec *spec, const RenderOptions *opts, QuadletFiles *ret) {
        static int (*const render[_QUADLET_FILE_TYPE_MAX])(const SandboxSpec *, const RenderOptions *, char **) = {
                [QUADLET_FILE_NETWORK] = render_network,
                [QUADLET_FILE_VOLUME] = render_volume,
                [QUADLET_FILE_PROXY] = render_proxy,
                [QUADLET_FILE_AGENT] = render_agent,
        };
        QuadletFiles f = {};
        int r;

        if (!spec || !opts || !sandbox_name_is_valid(spec->name) || !spec->has_subnet || !spec->image ||
            !spec->policy)
                return -EINVAL;
        /* The spec path only appears in a comment, but a newline there would still end the comment. */
        if (!unit_value_is_safe(opts->spec_path, SANDBOX_PATH_MAX * 4))
                return -EINVAL;

        for (QuadletFileType t = 0; t < _QUADLET_FILE_TYPE_MAX; t++) {
                r = quadlet_file_name(spec->name, t, &f.name[t]);
                if (r >= 0)
                        r = render[t](spec, opts, &f.content[t]);
                if (r < 0) {
                        quadlet_files_done(&f);
                        return r;
                }
        }
        *ret = f;
        return 0;
}

int quadlet_files_write(const QuadletFiles *f, const char *dir) {
        for (size_t i = 0; i < _QUADLET_FILE_TYPE_MAX; i++) {
                _cleanup_free_ char *p = path_join(dir, f->name[i]);
                int r;

                if (!p)
                        return -ENOMEM;
                r = write_file_atomic(p, f->content[i], strlen(f->content[i]), 0644);
                if (r < 0)
                        return r;
        }
        return 0;
}
