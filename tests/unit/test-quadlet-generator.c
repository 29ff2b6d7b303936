/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "quadlet-generator.h"
#include "string-util.h"
#include "tests.h"

static bool exists(const char *dir, const char *file) {
        _cleanup_free_ char *p = strjoin(dir, "/", file);
        return access(p, F_OK) == 0;
}

static void put(const char *dir, const char *file, const char *text) {
        _cleanup_free_ char *p = strjoin(dir, "/", file);
        if (mkdir_p(dir, 0755) < 0 || write_file_atomic(p, text, strlen(text), 0644) < 0)
                abort();
}

TEST(render_all) {
        char root[] = "/tmp/test-quadlet-generator-XXXXXX";
        _cleanup_free_ char *specs = NULL, *qdir = NULL, *units = NULL, *net = NULL, *cmd = NULL, *dropin = NULL;

        ASSERT_NOT_NULL(mkdtemp(root));
        specs = strjoin(root, "/specs");
        qdir = strjoin(root, "/quadlet");
        units = strjoin(root, "/units");
        net = strjoin(root, "/openshell.network");
        put(root, "openshell.network", "[Network]\nNetworkName=openshell\n");
        put(specs, "good.json", "{\"name\":\"good\",\"image\":\"x\",\"policy\":\"/p\"}");
        put(specs, "broken.json", "{\"name\":\"broken\",\"image\":\"x\"}");
        put(specs, "syntax.json", "{");
        /* A stale file from a removed sandbox must disappear. */
        put(qdir, "openshell-agent-gone.container", "[Container]\n");
        ASSERT_OK(mkdir_p(units, 0755));

        char *const resolvers[] = { (char *) "192.0.2.1", NULL };
        GeneratorConfig c = {
                .spec_dir = specs,
                .quadlet_dir = qdir,
                .network_file = net,
                .unit_dir = units,
                .resolvers = resolvers,
        };
        ASSERT_EQ(generator_render_all(&c), 1);
        ASSERT_TRUE(exists(qdir, "openshell-sbx-good.network"));
        ASSERT_TRUE(exists(qdir, "openshell-tls-good.volume"));
        ASSERT_TRUE(exists(qdir, "openshell-proxy-good.container"));
        ASSERT_TRUE(exists(qdir, "openshell-agent-good.container"));
        ASSERT_TRUE(exists(qdir, "openshell.network"));
        ASSERT_FALSE(exists(qdir, "openshell-agent-broken.container"));
        ASSERT_FALSE(exists(qdir, "openshell-agent-gone.container"));
        dropin = strjoin(units, "/openshell-sandbox@good.service.d/50-openshell-sandbox.conf");
        {
                _cleanup_free_ char *text = NULL;
                ASSERT_OK(read_full_file(dropin, 4096, &text, NULL));
                ASSERT_CONTAINS(text, "Requires=openshell-agent-good.service\nAfter=openshell-agent-good.service\n");
        }
        ASSERT_FALSE(exists(units, "openshell-sandbox@broken.service.d"));

        ASSERT_NOT_NULL(cmd = strjoin("rm -rf ", root));
        ASSERT_EQ(system(cmd), 0);
}

TEST(empty_spec_dir) {
        char root[] = "/tmp/test-quadlet-generator-XXXXXX";
        _cleanup_free_ char *qdir = NULL, *cmd = NULL;

        ASSERT_NOT_NULL(mkdtemp(root));
        qdir = strjoin(root, "/q");
        GeneratorConfig c = {
                .spec_dir = "/nonexistent/openshell-specs",
                .quadlet_dir = qdir,
                .network_file = "/nonexistent/openshell.network",
        };
        ASSERT_EQ(generator_render_all(&c), 0);
        ASSERT_FALSE(exists(qdir, "openshell.network"));
        ASSERT_NOT_NULL(cmd = strjoin("rm -rf ", root));
        ASSERT_EQ(system(cmd), 0);
}

TEST(user_detection) {
        unsetenv("SYSTEMD_SCOPE");
        ASSERT_TRUE(generator_is_user("/usr/lib/systemd/user-generators/openshell-sandbox-generator"));
        ASSERT_FALSE(generator_is_user("/usr/lib/systemd/system-generators/openshell-sandbox-generator"));
        setenv("SYSTEMD_SCOPE", "user", 1);
        ASSERT_TRUE(generator_is_user("/usr/lib/systemd/system-generators/openshell-sandbox-generator"));
        setenv("SYSTEMD_SCOPE", "system", 1);
        ASSERT_FALSE(generator_is_user("/usr/lib/systemd/user-generators/openshell-sandbox-generator"));
        unsetenv("SYSTEMD_SCOPE");
}

DEFINE_TEST_MAIN();
