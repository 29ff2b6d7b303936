/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "sandbox-store.h"
#include "string-util.h"
#include "tests.h"

static char tmpdir[64];

static void put(const char *file, const char *json) {
        _cleanup_free_ char *p = strjoin(tmpdir, "/", file);
        if (write_file_atomic(p, json, strlen(json), 0644) < 0)
                abort();
}

static void cleanup_dir(void) {
        static const char *const files[] = { "a.json", "b.json", "c.json", "bad.json", "Upper.json",
                                             "wrong.json", "notes.txt" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *p = strjoin(tmpdir, "/", files[i]);
                unlink(p);
        }
        rmdir(tmpdir);
}

#define SPEC(n, extra) "{\"name\":\"" n "\",\"image\":\"x\",\"policy\":\"/p\"" extra "}"

TEST(fnv) {
        /* Reference values of 32-bit FNV-1a. */
        ASSERT_EQ(fnv1a32(""), 2166136261U);
        ASSERT_EQ(fnv1a32("a"), 0xe40c292cU);
        ASSERT_EQ(fnv1a32("foobar"), 0xbf9cf968U);
        ASSERT_EQ(sandbox_default_slot("foobar"), 0xbf9cf968U % 4096);
}

TEST(load_and_allocate) {
        SandboxSet set = {};
        SandboxEntry *a, *b, *c;

        snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-sandbox-store-XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(tmpdir));
        /* 'b' pins the slot 'a' hashes to, so 'a' probes to the next one; 'c' pins the same as 'b'. */
        unsigned slot_a = sandbox_default_slot("a");
        _cleanup_free_ char *pin = NULL, *jb = NULL, *jc = NULL;
        ASSERT_OK(sandbox_subnet_format(slot_a, &pin));
        ASSERT_NOT_NULL(jb = asprintf_safe(SPEC("b", ",\"subnet\":\"%s\""), pin));
        ASSERT_NOT_NULL(jc = asprintf_safe(SPEC("c", ",\"subnet\":\"%s\""), pin));
        put("a.json", SPEC("a", ""));
        put("b.json", jb);
        put("c.json", jc);
        put("bad.json", "{\"name\":\"bad\"}");
        put("Upper.json", SPEC("upper", ""));
        put("wrong.json", SPEC("other", ""));
        put("notes.txt", "not a spec");

        ASSERT_OK(sandbox_set_load_dir(tmpdir, &set));
        ASSERT_EQ(set.n, 6);
        ASSERT_OK(sandbox_set_allocate(&set));
        a = sandbox_set_find(&set, "a");
        b = sandbox_set_find(&set, "b");
        c = sandbox_set_find(&set, "c");
        ASSERT_NOT_NULL(a);
        ASSERT_NOT_NULL(a->spec);
        ASSERT_NOT_NULL(b->spec);
        ASSERT_EQ(b->spec->subnet_slot, slot_a);
        ASSERT_EQ(a->spec->subnet_slot, (slot_a + 1) % 4096);
        ASSERT_NULL(c->spec);
        ASSERT_CONTAINS(c->error, "subnet: already used by sandbox 'b'");
        ASSERT_CONTAINS(sandbox_set_find(&set, "bad")->error, "image: missing");
        ASSERT_CONTAINS(sandbox_set_find(&set, "Upper")->error, "file name");
        ASSERT_CONTAINS(sandbox_set_find(&set, "wrong")->error, "does not match the file name");
        sandbox_set_done(&set);
        cleanup_dir();
}

TEST(missing_dir_is_empty) {
        SandboxSet set = {};
        ASSERT_OK(sandbox_set_load_dir("/nonexistent/openshell-test", &set));
        ASSERT_EQ(set.n, 0);
}

TEST(put_replaces) {
        SandboxSet set = {};
        SandboxSpec *s1 = NULL, *s2 = NULL;
        const char *j = SPEC("z", "");

        ASSERT_OK(sandbox_spec_from_json(j, strlen(j), &s1, NULL));
        ASSERT_OK(sandbox_spec_from_json(j, strlen(j), &s2, NULL));
        ASSERT_OK(sandbox_set_put(&set, "/d/z.json", s1));
        ASSERT_OK(sandbox_set_put(&set, "/d/z.json", s2));
        ASSERT_EQ(set.n, 1);
        ASSERT_OK(sandbox_set_allocate(&set));
        ASSERT_EQ(set.entries[0].spec->subnet_slot, sandbox_default_slot("z"));
        sandbox_set_done(&set);
}

TEST(paths) {
        SandboxPaths p = {};
        setenv("XDG_CONFIG_HOME", "/home/u/.config", 1);
        setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
        ASSERT_OK(sandbox_paths_get(true, &p));
        ASSERT_STREQ(p.spec_dir, "/home/u/.config/openshell/sandboxes");
        ASSERT_STREQ(p.quadlet_dir, "/run/user/1000/openshell/quadlet");
        sandbox_paths_done(&p);
        ASSERT_OK(sandbox_paths_get(false, &p));
        ASSERT_STREQ(p.quadlet_dir, "/run/openshell/quadlet");
        ASSERT_TRUE(endswith(p.spec_dir, "/openshell/sandboxes") != NULL);
        sandbox_paths_done(&p);
}

DEFINE_TEST_MAIN();
