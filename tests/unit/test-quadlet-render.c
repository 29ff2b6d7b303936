/* SPDX-License-Identifier: Apache-2.0 */
/* Golden-file tests: tests/unit/golden/CASE/spec.json renders to the Quadlet files next to it.
 * OPENSHELL_GOLDEN_UPDATE=1 rewrites the expected files (review the diff before committing). */
#include <stdio.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "quadlet-render.h"
#include "sandbox-spec.h"
#include "string-util.h"
#include "tests.h"

static char *const test_resolvers[] = { (char *) "192.0.2.53", (char *) "2001:db8::53", NULL };

static const struct {
        const char *dir;
        bool selinux;
} golden_cases[] = {
        { "minimal", false },
        { "full", true },
        { "escaping", false },
        { "user-minimal", false },
        { "gateway-socket", true },
};

static int render_file(const char *spec_file, const char *name_for_header, bool selinux, QuadletFiles *ret) {
        _cleanup_(sandbox_spec_freep) SandboxSpec *spec = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = sandbox_spec_load(spec_file, &spec, &error);
        if (r < 0) {
                fprintf(stderr, "# %s: %s\n", spec_file, error ?: "?");
                return r;
        }
        if (!spec->has_subnet) {
                spec->has_subnet = true;
                spec->subnet_slot = 0;
        }
        RenderOptions opts = {
                .spec_path = name_for_header,
                .selinux = selinux,
                .resolvers = test_resolvers,
                .sidecar_image = "localhost/openshell-sidecar:latest",
        };
        return quadlet_render(spec, &opts, ret);
}

TEST(golden) {
        bool update = getenv("OPENSHELL_GOLDEN_UPDATE") != NULL;

        for (size_t c = 0; c < ELEMENTSOF(golden_cases); c++) {
                _cleanup_free_ char *dir = strjoin(GOLDEN_DIR, "/", golden_cases[c].dir);
                _cleanup_free_ char *spec = strjoin(dir, "/spec.json");
                _cleanup_free_ char *header = NULL;
                QuadletFiles f = {};

                ASSERT_NOT_NULL(spec);
                ASSERT_NOT_NULL(header = asprintf_safe("/etc/openshell/sandboxes/%s.json", golden_cases[c].dir));
                ASSERT_OK(render_file(spec, header, golden_cases[c].selinux, &f));
                for (size_t i = 0; i < _QUADLET_FILE_TYPE_MAX; i++) {
                        _cleanup_free_ char *path = strjoin(dir, "/", f.name[i]), *expected = NULL;

                        if (update) {
                                ASSERT_OK(write_file_atomic(path, f.content[i], strlen(f.content[i]), 0644));
                                continue;
                        }
                        if (read_full_file(path, 1 << 20, &expected, NULL) < 0) {
                                quadlet_files_done(&f);
                                TEST_FAIL_AT("%s: cannot read the expected file", path);
                        }
                        if (!streq(expected, f.content[i])) {
                                fprintf(stderr, "# %s differs; rendered:\n%s", path, f.content[i]);
                                quadlet_files_done(&f);
                                TEST_FAIL_AT("golden mismatch in %s", path);
                        }
                }
                quadlet_files_done(&f);
        }
}

/* Every line is blank, a comment, a section header, or a key we emit: no spec value added a line. */
static const char *const known_keys[] = {
        "Description", "PartOf",    "After",        "Requires",    "NetworkName",    "Internal",
        "Subnet",      "Gateway",   "Options",      "Label",       "VolumeName",     "ContainerName",
        "Image",       "Pull",      "Network",      "DNS",         "Mount",          "Tmpfs",
        "Entrypoint",  "Exec",      "Notify",       "DropCapability", "NoNewPrivileges", "ReadOnly",
        "StopTimeout", "Restart",   "Environment",  "UserNS",      "PodmanArgs",     "PidsLimit",
        "Sysctl",      "Volume",
};

static void assert_only_known_lines(const char *content, int *ret_env_lines) {
        _cleanup_free_ char *copy = strdup(content);
        char *line, *next;

        *ret_env_lines = 0;
        for (line = copy; line && *line; line = next) {
                bool ok = false;
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (*line == 0 || *line == '#' || *line == '[') {
                        if (*line == '[' && !endswith(line, "]"))
                                TEST_FAIL_AT("bad section line: %s", line);
                        continue;
                }
                for (size_t i = 0; i < ELEMENTSOF(known_keys) && !ok; i++) {
                        const char *v = startswith(line, known_keys[i]);
                        ok = v && *v == '=';
                }
                if (!ok)
                        TEST_FAIL_AT("unexpected line: %s", line);
                if (startswith(line, "Environment="))
                        (*ret_env_lines)++;
        }
}

TEST(no_injection) {
        _cleanup_free_ char *spec = strjoin(GOLDEN_DIR, "/escaping/spec.json");
        _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL;
        QuadletFiles f = {};
        int env_lines = 0;

        ASSERT_OK(render_file(spec, "/x.json", false, &f));
        ASSERT_OK(sandbox_spec_load(spec, &s, NULL));
        for (size_t i = 0; i < _QUADLET_FILE_TYPE_MAX; i++) {
                assert_only_known_lines(f.content[i], &env_lines);
                if (i == QUADLET_FILE_AGENT)
                        /* 15 fixed variables + OPENSHELL_ENDPOINT + the spec's own */
                        ASSERT_EQ(env_lines, 16 + (int) s->n_env);
        }
        /* '%' is doubled and '$' is doubled, so systemd expands neither. */
        ASSERT_CONTAINS(f.content[QUADLET_FILE_AGENT], "\"PERCENT=100%% %%n %%i\"");
        ASSERT_CONTAINS(f.content[QUADLET_FILE_AGENT], "\"DOLLAR=$$HOME $${PATH}\"");
        ASSERT_CONTAINS(f.content[QUADLET_FILE_AGENT], "\"QUOTES=say \\\"hi\\\" it's\"");
        ASSERT_CONTAINS(f.content[QUADLET_FILE_AGENT], "\"BACKSLASH=C:\\\\dir\\\\\"");
        quadlet_files_done(&f);
}

TEST(renderer_rejects_unsafe_values) {
        /* Values that bypassed the parser still cannot reach a unit file. */
        char *cmd[] = { (char *) "sh", (char *) "x\nExecStartPre=/bin/evil", NULL };
        SandboxKeyValue env[] = { { (char *) "FOO", (char *) "a\nb" } };
        SandboxSpec s = {
                .name = (char *) "demo",
                .image = (char *) "localhost/a:1",
                .policy = (char *) "/p.json",
                .has_subnet = true,
        };
        RenderOptions opts = { .spec_path = "/s.json" };
        QuadletFiles f = {};

        s.command = cmd;
        ASSERT_ERROR(quadlet_render(&s, &opts, &f), EINVAL);
        s.command = NULL;
        s.env = env;
        s.n_env = 1;
        ASSERT_ERROR(quadlet_render(&s, &opts, &f), EINVAL);
        s.n_env = 0;
        s.policy = (char *) "/p,ro=false.json";
        ASSERT_ERROR(quadlet_render(&s, &opts, &f), EINVAL);
        s.policy = (char *) "/p.json";
        opts.spec_path = "/s\n[Service]\nExecStart=/evil";
        ASSERT_ERROR(quadlet_render(&s, &opts, &f), EINVAL);
        opts.spec_path = "/s.json";
        s.has_subnet = false;
        ASSERT_ERROR(quadlet_render(&s, &opts, &f), EINVAL);
        s.has_subnet = true;
        ASSERT_OK(quadlet_render(&s, &opts, &f));
        quadlet_files_done(&f);
}

TEST(gateway_socket) {
        _cleanup_free_ char *spec = strjoin(GOLDEN_DIR, "/gateway-socket/spec.json");
        QuadletFiles on = {}, off = {};
        int env_lines;

        ASSERT_OK(render_file(spec, "/x.json", true, &on));
        ASSERT_OK(render_file(spec, "/x.json", false, &off));
        /* The socket's directory, read-only, relabelled only with SELinux; the proxy connects through it. */
        ASSERT_CONTAINS(on.content[QUADLET_FILE_PROXY],
                        "\nVolume=/run/user/1000/openshell/callback:" QUADLET_GATEWAY_SOCKET_DIR ":ro,z\n");
        ASSERT_CONTAINS(off.content[QUADLET_FILE_PROXY],
                        "\nVolume=/run/user/1000/openshell/callback:" QUADLET_GATEWAY_SOCKET_DIR ":ro\n");
        ASSERT_CONTAINS(on.content[QUADLET_FILE_PROXY], " --forward-to " QUADLET_GATEWAY_SOCKET_DIR "/gateway.sock ");
        ASSERT_CONTAINS(on.content[QUADLET_FILE_PROXY],
                        " --gateway https://host.openshell.internal --gateway-socket " QUADLET_GATEWAY_SOCKET_DIR
                        "/gateway.sock ");
        /* The agent is unchanged: it reaches the gateway through the proxy's forward only. */
        ASSERT_NOT_CONTAINS(on.content[QUADLET_FILE_AGENT], "gateway.sock");
        ASSERT_NOT_CONTAINS(on.content[QUADLET_FILE_AGENT], "Volume=");
        ASSERT_CONTAINS(on.content[QUADLET_FILE_AGENT], "OPENSHELL_ENDPOINT=https://host.openshell.internal:8081");
        assert_only_known_lines(on.content[QUADLET_FILE_PROXY], &env_lines);
        quadlet_files_done(&on);
        quadlet_files_done(&off);
}

TEST(gateway_socket_unsafe_values) {
        /* Values that bypassed the parser: each would break the Volume= line or the mount. */
        static const char *const bad[] = {
                "relative/gw.sock", "/gw.sock", "/run/a:b/gw.sock", "/run/gw/a,b", "/run/gw dir/gw.sock",
                "/run/%t/gw.sock", "/run/../gw.sock", "/run/gw/", "/run/gw/x\nVolume=/:/host",
                "/run/gw/01234567890123456789012345678901234567890123456789012345678901234567890123456789.sock",
        };
        SandboxSpec s = {
                .name = (char *) "demo",
                .image = (char *) "localhost/a:1",
                .policy = (char *) "/p.json",
                .gateway = (char *) "http://gw",
                .gateway_host = (char *) "gw",
                .gateway_port = 80,
                .has_subnet = true,
        };
        RenderOptions opts = { .spec_path = "/s.json" };
        QuadletFiles f = {};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                s.gateway_socket = (char *) bad[i];
                if (quadlet_render(&s, &opts, &f) != -EINVAL)
                        TEST_FAIL_AT("'%s' was rendered", bad[i]);
        }
        s.gateway_socket = (char *) "/run/gw/gw.sock";
        ASSERT_OK(quadlet_render(&s, &opts, &f));
        ASSERT_CONTAINS(f.content[QUADLET_FILE_PROXY], "--forward-to /run/openshell/gateway/gw.sock");
        quadlet_files_done(&f);
}

TEST(deterministic) {
        _cleanup_free_ char *spec = strjoin(GOLDEN_DIR, "/full/spec.json");
        QuadletFiles a = {}, b = {};

        ASSERT_OK(render_file(spec, "/x.json", true, &a));
        ASSERT_OK(render_file(spec, "/x.json", true, &b));
        for (size_t i = 0; i < _QUADLET_FILE_TYPE_MAX; i++)
                ASSERT_STREQ(a.content[i], b.content[i]);
        quadlet_files_done(&a);
        quadlet_files_done(&b);
}

TEST(selinux_only_when_asked) {
        _cleanup_free_ char *spec = strjoin(GOLDEN_DIR, "/full/spec.json");
        QuadletFiles on = {}, off = {};

        ASSERT_OK(render_file(spec, "/x.json", true, &on));
        ASSERT_OK(render_file(spec, "/x.json", false, &off));
        ASSERT_CONTAINS(on.content[QUADLET_FILE_PROXY], "relabel=shared");
        ASSERT_NOT_CONTAINS(off.content[QUADLET_FILE_PROXY], "relabel=shared");
        ASSERT_NOT_CONTAINS(off.content[QUADLET_FILE_AGENT], "relabel=shared");
        quadlet_files_done(&on);
        quadlet_files_done(&off);
}

TEST(write_files) {
        char dir[] = "/tmp/test-quadlet-render-XXXXXX";
        _cleanup_free_ char *spec = strjoin(GOLDEN_DIR, "/minimal/spec.json");
        QuadletFiles f = {};

        ASSERT_NOT_NULL(mkdtemp(dir));
        ASSERT_OK(render_file(spec, "/x.json", false, &f));
        ASSERT_OK(quadlet_files_write(&f, dir));
        for (size_t i = 0; i < _QUADLET_FILE_TYPE_MAX; i++) {
                _cleanup_free_ char *p = strjoin(dir, "/", f.name[i]), *back = NULL;
                ASSERT_OK(read_full_file(p, 1 << 20, &back, NULL));
                ASSERT_STREQ(back, f.content[i]);
                unlink(p);
        }
        rmdir(dir);
        quadlet_files_done(&f);
}

TEST(agent_runs_supervisor_with_its_own_identity) {
        _cleanup_free_ char *spec = strjoin(GOLDEN_DIR, "/full/spec.json");
        _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL;
        RenderOptions opts = { .spec_path = "/x.json", .sidecar_image = "localhost/openshell-sidecar:latest" };
        QuadletFiles f = {};
        const char *agent;

        ASSERT_OK(sandbox_spec_load(spec, &s, NULL));
        ASSERT_OK(quadlet_render(s, &opts, &f));
        agent = f.content[QUADLET_FILE_AGENT];
        /* The supervisor from the sidecar image is PID 1 and runs the spec's command. */
        ASSERT_CONTAINS(agent, "Mount=type=image,source=localhost/openshell-sidecar:latest,destination=/opt/openshell\n");
        ASSERT_CONTAINS(agent, "/opt/openshell/bin/openshell-sandbox -- /usr/bin/agent --workspace /work --verbose\n");
        ASSERT_CONTAINS(agent, "Notify=true\n");
        /* The agent gets the supervisor's certificate, never the proxy's key (which fetches credentials). */
        ASSERT_CONTAINS(agent, "source=/etc/openshell/pki/sandboxes/full/agent.key,");
        ASSERT_NOT_CONTAINS(agent, "sandboxes/full/tls.key");
        ASSERT_CONTAINS(f.content[QUADLET_FILE_PROXY], "sandboxes/full/tls.key");
        ASSERT_NOT_CONTAINS(f.content[QUADLET_FILE_PROXY], "agent.key");
        ASSERT_CONTAINS(agent, "OPENSHELL_ENDPOINT=https://host.openshell.internal:8081\n");
        ASSERT_CONTAINS(agent, "PodmanArgs=--add-host=host.openshell.internal:10.213.17.34\n");
        quadlet_files_done(&f);

        /* Without an agent certificate there is no session: no endpoint, no client certificate at all. */
        s->tls_agent_cert = mfree(s->tls_agent_cert);
        s->tls_agent_key = mfree(s->tls_agent_key);
        ASSERT_OK(quadlet_render(s, &opts, &f));
        agent = f.content[QUADLET_FILE_AGENT];
        ASSERT_NOT_CONTAINS(agent, "OPENSHELL_ENDPOINT");
        ASSERT_NOT_CONTAINS(agent, "OPENSHELL_TLS_");
        ASSERT_NOT_CONTAINS(agent, "/etc/openshell/tls/client");
        quadlet_files_done(&f);

        /* Without a command the supervisor runs no workload. */
        s->command = strv_free(s->command);
        ASSERT_OK(quadlet_render(s, &opts, &f));
        ASSERT_CONTAINS(f.content[QUADLET_FILE_AGENT], "/opt/openshell/bin/openshell-sandbox --no-workload\n");
        quadlet_files_done(&f);

        /* An image reference that could split the Mount= value is refused. */
        opts.sidecar_image = "localhost/x,destination=/etc";
        ASSERT_ERROR(quadlet_render(s, &opts, &f), EINVAL);
}

/* The agent has no IPv6 at all: its link-local address would reach host daemons on [::] past the IPv4
 * firewall (e2e bypass matrix, case N05). The proxy keeps IPv6 for IPv6 upstreams. */
TEST(agent_has_no_ipv6) {
        _cleanup_free_ char *spec = strjoin(GOLDEN_DIR, "/minimal/spec.json");
        QuadletFiles f = {};

        ASSERT_OK(render_file(spec, "/x.json", false, &f));
        ASSERT_CONTAINS(f.content[QUADLET_FILE_AGENT], "\nSysctl=net.ipv6.conf.all.disable_ipv6=1\n");
        ASSERT_CONTAINS(f.content[QUADLET_FILE_AGENT], "\nSysctl=net.ipv6.conf.default.disable_ipv6=1\n");
        ASSERT_NOT_CONTAINS(f.content[QUADLET_FILE_PROXY], "Sysctl=");
        quadlet_files_done(&f);
}

DEFINE_TEST_MAIN();
