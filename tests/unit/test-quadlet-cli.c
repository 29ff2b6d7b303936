/* SPDX-License-Identifier: Apache-2.0 */
/* The verbs that need neither systemd nor Podman: validate, render, install --no-reload, list, check,
 * remove --no-reload. */
#include <stdio.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "quadlet-cli.h"
#include "sandbox-spec.h"
#include "sandbox-store.h"
#include "string-util.h"
#include "tests.h"

static char root[64];

static char *put(const char *file, const char *text) {
        char *p = strjoin(root, "/", file);
        if (!p || write_file_atomic(p, text, strlen(text), 0644) < 0)
                abort();
        return p;
}

static void setup(void) {
        snprintf(root, sizeof(root), "/tmp/test-quadlet-cli-XXXXXX");
        if (!mkdtemp(root))
                abort();
}

static void teardown(void) {
        _cleanup_free_ char *cmd = strjoin("rm -rf ", root);
        if (system(cmd) != 0)
                abort();
}

TEST(validate) {
        setup();
        _cleanup_free_ char *good = put("good.json", "{\"name\":\"good\",\"image\":\"x\",\"policy\":\"/p\"}");
        _cleanup_free_ char *bad = put("bad.json", "{\"name\":\"Bad\",\"image\":\"x\",\"policy\":\"/p\"}");
        CliArgs a = { .spec = good };
        ASSERT_EQ(verb_validate(&a), EXIT_OK);
        a.spec = bad;
        ASSERT_EQ(verb_validate(&a), EXIT_INVALID_SPEC);
        a.spec = "/nonexistent/spec.json";
        ASSERT_EQ(verb_validate(&a), EXIT_FAILURE_GENERIC);
        teardown();
}

TEST(render) {
        setup();
        _cleanup_free_ char *spec = put("r.json", "{\"name\":\"r\",\"image\":\"x\",\"policy\":\"/p\"}");
        _cleanup_free_ char *out = strjoin(root, "/out/nested"), *agent = NULL, *text = NULL, *subnet = NULL;
        CliArgs a = { .spec = spec, .output = out, .selinux = SELINUX_NO };
        ASSERT_EQ(verb_render(&a), EXIT_OK);
        agent = strjoin(out, "/openshell-agent-r.container");
        ASSERT_OK(read_full_file(agent, 1 << 20, &text, NULL));
        /* Without install, the subnet is the name's own slot. */
        ASSERT_OK(sandbox_subnet_address(sandbox_default_slot("r"), 3, &subnet));
        ASSERT_CONTAINS(text, subnet);
        teardown();
}

TEST(install_list_check_remove) {
        setup();
        _cleanup_free_ char *policy = put("policy.json", "{}");
        _cleanup_free_ char *json = asprintf_safe("{\"name\":\"inst\",\"image\":\"x\",\"policy\":\"%s\"}", policy);
        _cleanup_free_ char *spec = put("inst-src.json", json);
        _cleanup_free_ char *dir = strjoin(root, "/specs"), *installed = strjoin(dir, "/inst.json");
        _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL;
        CliArgs a = { .spec = spec, .spec_dir = dir, .no_reload = true };

        ASSERT_EQ(verb_install(&a), EXIT_OK);
        ASSERT_OK(sandbox_spec_load(installed, &s, NULL));
        ASSERT_TRUE(s->has_subnet); /* pinned */
        ASSERT_EQ(s->subnet_slot, sandbox_default_slot("inst"));
        ASSERT_EQ(verb_list(&a), EXIT_OK);

        a.name = "inst";
        ASSERT_EQ(verb_check(&a), EXIT_OK);
        a.name = "absent";
        ASSERT_EQ(verb_check(&a), EXIT_NO_SPEC);
        a.name = "Not_Valid";
        ASSERT_EQ(verb_check(&a), EXIT_USAGE);

        a.name = "inst";
        ASSERT_EQ(verb_remove(&a), EXIT_OK);
        ASSERT_TRUE(access(installed, F_OK) < 0);
        ASSERT_EQ(verb_remove(&a), EXIT_NO_SPEC);
        teardown();
}

TEST(install_rejects_missing_files) {
        setup();
        _cleanup_free_ char *spec = put("m.json", "{\"name\":\"m\",\"image\":\"x\",\"policy\":\"/nonexistent/policy.json\"}");
        _cleanup_free_ char *dir = strjoin(root, "/specs");
        CliArgs a = { .spec = spec, .spec_dir = dir, .no_reload = true };
        ASSERT_EQ(verb_install(&a), EXIT_INVALID_SPEC);
        teardown();
}

TEST(install_subnet_conflict) {
        setup();
        _cleanup_free_ char *policy = put("policy.json", "{}");
        _cleanup_free_ char *dir = strjoin(root, "/specs");
        _cleanup_free_ char *j1 = asprintf_safe("{\"name\":\"one\",\"image\":\"x\",\"policy\":\"%s\",\"subnet\":\"10.213.9.0/28\"}", policy);
        _cleanup_free_ char *j2 = asprintf_safe("{\"name\":\"two\",\"image\":\"x\",\"policy\":\"%s\",\"subnet\":\"10.213.9.0/28\"}", policy);
        _cleanup_free_ char *s1 = put("one.json", j1), *s2 = put("two.json", j2);
        CliArgs a = { .spec = s1, .spec_dir = dir, .no_reload = true };

        ASSERT_EQ(verb_install(&a), EXIT_OK);
        a.spec = s2;
        ASSERT_EQ(verb_install(&a), EXIT_INVALID_SPEC);
        /* Reinstalling 'one' keeps its subnet. */
        a.spec = s1;
        ASSERT_EQ(verb_install(&a), EXIT_OK);
        teardown();
}

TEST(selinux_mode_table) {
        ASSERT_EQ(selinux_mode_from_string("auto"), SELINUX_AUTO);
        ASSERT_EQ(selinux_mode_from_string("yes"), SELINUX_YES);
        ASSERT_EQ(selinux_mode_from_string("maybe"), -EINVAL);
}

DEFINE_TEST_MAIN();
