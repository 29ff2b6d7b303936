/* SPDX-License-Identifier: Apache-2.0 */
/* Which gateway the CLI talks to: gateway add/select write ~/.config/openshell/gateways.json (and copy the
 * certificates), and the resolution order is --gateway, $OPENSHELL_GATEWAY, the selected one, the
 * built-in default. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-util.h"
#include "cli.h"
#include "fileio.h"
#include "path-util.h"
#include "string-util.h"
#include "tests.h"

#define RUN(...) cli_main((int) (sizeof((char *[]) { __VA_ARGS__ }) / sizeof(char *)), (char *[]) { __VA_ARGS__, NULL })

static char base[] = "/tmp/test-cli-config-XXXXXX";

static void setup(void) {
        static bool done;
        _cleanup_free_ char *cfg = NULL, *tls = NULL, *home = NULL;

        if (done)
                return;
        done = true;
        if (!mkdtemp(base))
                abort();
        cfg = path_join(base, "config");
        tls = path_join(base, "tls");
        home = path_join(base, "home");
        setenv("XDG_CONFIG_HOME", cfg, 1);
        setenv("HOME", home, 1);
        unsetenv("OPENSHELL_GATEWAY");
        (void) mkdir_p(tls, 0700);
        const char *files[] = { "ca.crt", "client.crt", "client.key" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *p = path_join(tls, files[i]);
                (void) write_file_atomic(p, files[i], strlen(files[i]), 0600);
        }
}

static char *config_text(void) {
        _cleanup_free_ char *p = strjoin(base, "/config/openshell/gateways.json");
        char *s = NULL;
        size_t n;

        return read_full_file(p, 1 << 20, &s, &n) < 0 ? NULL : s;
}

TEST(default_without_config) {
        _cleanup_(cli_context_done) CliContext ctx = {};
        CliGateway *g;

        setup();
        ASSERT_OK(cli_config_dir(&ctx.config_dir));
        ASSERT_EQ(cli_gateway_resolve(&ctx, &g), 0);
        ASSERT_STREQ(g->url, "https://127.0.0.1:17670");
        ASSERT_NOT_NULL(g->cert);
        ASSERT_TRUE(endswith(g->cert, "/client.crt") != NULL);
}

TEST(add_copies_certificates_and_selects_the_first) {
        _cleanup_free_ char *tls = strjoin(base, "/tls"), *text = NULL, *key = NULL;
        struct stat st;

        setup();
        ASSERT_EQ(RUN("openshell", "gateway", "add", "local", "https://127.0.0.1:17670", "--tls-dir", tls), 0);
        ASSERT_EQ(RUN("openshell", "gateway", "add", "lab", "https://10.0.0.5:17670/", "--tls-dir", tls), 0);
        ASSERT_EQ(RUN("openshell", "gateway", "add", "plain", "http://127.0.0.1:8080"), 0);
        text = config_text();
        ASSERT_CONTAINS(text, "\"selected\":\t\"local\"");
        ASSERT_CONTAINS(text, "https://10.0.0.5:17670/");
        key = strjoin(base, "/config/openshell/gateways/lab/client.key");
        ASSERT_EQ(stat(key, &st), 0);
        ASSERT_EQ(st.st_mode & 0777, 0600);
        /* A missing TLS directory is a clear usage error. */
        ASSERT_EQ(RUN("openshell", "gateway", "add", "bad", "https://h:1", "--tls-dir", "/nonexistent"), CLI_EXIT_USAGE);
}

TEST(resolution_order) {
        _cleanup_(cli_context_done) CliContext ctx = {};
        CliGateway *g;

        setup();
        ASSERT_OK(cli_config_dir(&ctx.config_dir));
        ASSERT_EQ(cli_gateway_resolve(&ctx, &g), 0);
        ASSERT_STREQ(g->name, "local");
        cli_context_done(&ctx);

        ASSERT_OK(cli_config_dir(&ctx.config_dir));
        ctx.gateway_arg = "lab";
        ASSERT_EQ(cli_gateway_resolve(&ctx, &g), 0);
        ASSERT_STREQ(g->url, "https://10.0.0.5:17670/");
        ASSERT_CONTAINS(g->key, "/gateways/lab/client.key");
        cli_context_done(&ctx);

        ASSERT_OK(cli_config_dir(&ctx.config_dir));
        ctx.gateway_arg = "plain";
        ASSERT_EQ(cli_gateway_resolve(&ctx, &g), 0);
        ASSERT_NULL(g->cert); /* http:// has no certificates */
        cli_context_done(&ctx);

        ASSERT_OK(cli_config_dir(&ctx.config_dir));
        ctx.gateway_arg = "nope";
        ASSERT_EQ(cli_gateway_resolve(&ctx, &g), CLI_EXIT_USAGE);
        cli_context_done(&ctx);

        /* A URL that a configured gateway has: that gateway's certificates. */
        ASSERT_OK(cli_config_dir(&ctx.config_dir));
        ctx.gateway_arg = "https://10.0.0.5:17670/";
        ASSERT_EQ(cli_gateway_resolve(&ctx, &g), 0);
        ASSERT_STREQ(g->name, "lab");
}

TEST(select) {
        _cleanup_free_ char *text = NULL;

        setup();
        ASSERT_EQ(RUN("openshell", "gateway", "select", "lab"), 0);
        text = config_text();
        ASSERT_CONTAINS(text, "\"selected\":\t\"lab\"");
        ASSERT_EQ(RUN("openshell", "gateway", "select", "nope"), CLI_EXIT_NOT_FOUND);
}

TEST(unreachable_gateway_exits_5) {
        setup();
        /* Port 1 on loopback: nothing listens there. */
        ASSERT_EQ(RUN("openshell", "--gateway", "http://127.0.0.1:1", "sandbox", "list"), CLI_EXIT_UNAVAILABLE);
        ASSERT_EQ(RUN("openshell", "--gateway", "http://127.0.0.1:1", "sandbox", "exec", "demo", "--", "true"), CLI_EXIT_UNAVAILABLE);
}

TEST(zz_cleanup) {
        _cleanup_free_ char *cmd = strjoin("rm -rf ", base);
        ASSERT_EQ(system(cmd), 0);
}

TEST(config_dir_without_home) {
        _cleanup_free_ char *xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
        _cleanup_free_ char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
        _cleanup_free_ char *dir = NULL;

        /* systemd-run and services give no $HOME: the passwd entry's home is used. */
        ASSERT_OK(unsetenv("XDG_CONFIG_HOME"));
        ASSERT_OK(unsetenv("HOME"));
        ASSERT_OK(cli_config_dir(&dir));
        ASSERT_TRUE(dir[0] == '/');
        ASSERT_TRUE(endswith(dir, "/.config/openshell") != NULL);
        /* A relative $HOME is not trusted either. */
        dir = mfree(dir);
        ASSERT_OK(setenv("HOME", "relative", 1));
        ASSERT_OK(cli_config_dir(&dir));
        ASSERT_TRUE(dir[0] == '/');
        if (xdg)
                ASSERT_OK(setenv("XDG_CONFIG_HOME", xdg, 1));
        if (home)
                ASSERT_OK(setenv("HOME", home, 1));
        else
                ASSERT_OK(unsetenv("HOME"));
}

DEFINE_TEST_MAIN();
