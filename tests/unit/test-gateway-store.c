/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "gateway-store.h"
#include "json-util.h"
#include "string-util.h"
#include "tests.h"

static char *tmpdir(void) {
        char t[] = "/tmp/test-gateway-store-XXXXXX";
        return mkdtemp(t) ? strdup(t) : NULL;
}

static void rm_rf(const char *d) {
        _cleanup_free_ char *cmd = strjoin("rm -rf ", d);
        if (cmd)
                (void) system(cmd);
}

static cJSON *J(const char *s) {
        cJSON *j = NULL;
        return json_parse(s, strlen(s), &j, NULL, NULL) < 0 ? NULL : j;
}

static char *P(const cJSON *j) {
        return json_print(j, false);
}

TEST(sandbox_lifecycle) {
        _cleanup_free_ char *d = tmpdir(), *err = NULL, *txt = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_json_ cJSON *spec = J("{\"name\":\"demo\",\"image\":\"x\"}"), *rec = NULL, *list = NULL;

        ASSERT_OK(store_open(d, &s));
        ASSERT_OK(store_sandbox_create(s, "demo", spec, NULL, &err));
        ASSERT_ERROR(store_sandbox_create(s, "demo", spec, NULL, &err), EEXIST);
        ASSERT_ERROR(store_sandbox_create(s, "Bad", spec, NULL, &err), EINVAL);
        ASSERT_OK(store_sandbox_get(s, "demo", &rec));
        txt = P(rec);
        ASSERT_CONTAINS(txt, "\"name\":\"demo\"");
        ASSERT_CONTAINS(txt, "\"image\":\"x\"");
        ASSERT_OK(store_sandbox_list(s, &list));
        ASSERT_EQ(cJSON_GetArraySize(list), 1);
        ASSERT_ERROR(store_sandbox_get(s, "nope", &rec), ENOENT);
        ASSERT_ERROR(store_sandbox_get(s, "../x", &rec), ENOENT);
        ASSERT_OK(store_sandbox_delete(s, "demo"));
        ASSERT_ERROR(store_sandbox_delete(s, "demo"), ENOENT);
        cJSON_Delete(list);
        list = NULL;
        ASSERT_OK(store_sandbox_list(s, &list));
        ASSERT_EQ(cJSON_GetArraySize(list), 0);
        rm_rf(d);
}

TEST(policy_revisions) {
        _cleanup_free_ char *d = tmpdir(), *err = NULL, *txt = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_json_ cJSON *spec = J("{}"), *pol = J("{\"version\":1}"), *got = NULL, *bad = J("[1]");
        uint64_t rev;

        ASSERT_OK(store_open(d, &s));
        ASSERT_ERROR(store_policy_get(s, "demo", &got, &rev), ENOENT);
        ASSERT_OK(store_sandbox_create(s, "demo", spec, NULL, &err));
        ASSERT_OK(store_policy_get(s, "demo", &got, &rev));
        ASSERT_EQ(rev, 0);
        cJSON_Delete(got);
        got = NULL;
        ASSERT_OK(store_policy_set(s, "demo", pol, &rev, &err));
        ASSERT_EQ(rev, 1);
        ASSERT_OK(store_policy_set(s, "demo", pol, &rev, &err));
        ASSERT_EQ(rev, 2);
        ASSERT_ERROR(store_policy_set(s, "demo", bad, &rev, &err), EINVAL);
        ASSERT_OK(store_policy_get(s, "demo", &got, &rev));
        ASSERT_EQ(rev, 2);
        txt = P(got);
        ASSERT_STREQ(txt, "{\"version\":1}");
        ASSERT_ERROR(store_policy_set(s, "other", pol, &rev, &err), ENOENT);
        rm_rf(d);
}

TEST(providers_and_credentials) {
        _cleanup_free_ char *d = tmpdir(), *err = NULL, *a = NULL, *b = NULL, *c = NULL, *mode_path = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_json_ cJSON *p1 = J("{\"name\":\"openai\",\"type\":\"openai\",\"credentials\":{\"OPENAI_API_KEY\":\"sk-secret\"}}"),
                             *p2 = J("{\"name\":\"gh\",\"type\":\"github\",\"credentials\":{\"GH_TOKEN\":\"ghp-secret\"}}"),
                             *red = NULL, *list = NULL, *creds = NULL, *spec = J("{}"),
                             *provs = J("[\"openai\",\"gh\"]"), *missing = J("[\"nope\"]");
        struct stat st;

        ASSERT_OK(store_open(d, &s));
        ASSERT_OK(store_provider_create(s, p1, &red, &err));
        a = P(red);
        ASSERT_NOT_CONTAINS(a, "sk-secret");
        ASSERT_CONTAINS(a, "OPENAI_API_KEY");
        ASSERT_ERROR(store_provider_create(s, p1, NULL, &err), EEXIST);
        ASSERT_OK(store_provider_create(s, p2, NULL, &err));
        ASSERT_OK(store_provider_list(s, &list));
        b = P(list);
        ASSERT_NOT_CONTAINS(b, "secret");
        ASSERT_EQ(cJSON_GetArraySize(list), 2);
        mode_path = strjoin(d, "/providers/openai.json");
        ASSERT_OK(stat(mode_path, &st));
        ASSERT_EQ(st.st_mode & 0777, 0600);

        ASSERT_ERROR(store_sandbox_create(s, "demo", spec, missing, &err), EINVAL);
        ASSERT_OK(store_sandbox_create(s, "demo", spec, provs, &err));
        ASSERT_OK(store_sandbox_credentials(s, "demo", &creds));
        c = P(creds);
        ASSERT_STREQ(c, "{\"OPENAI_API_KEY\":\"sk-secret\",\"GH_TOKEN\":\"ghp-secret\"}");

        ASSERT_ERROR(store_provider_delete(s, "openai"), EBUSY);
        ASSERT_OK(store_sandbox_delete(s, "demo"));
        ASSERT_OK(store_provider_delete(s, "openai"));
        ASSERT_ERROR(store_provider_delete(s, "openai"), ENOENT);
        rm_rf(d);
}

TEST(provider_validation) {
        static const char *bad[] = {
                "[]",
                "{\"name\":\"x\",\"type\":\"t\"}",
                "{\"name\":\"X\",\"type\":\"t\",\"credentials\":{\"K\":\"v\"}}",
                "{\"name\":\"x\",\"type\":\"t\",\"credentials\":{}}",
                "{\"name\":\"x\",\"type\":\"t\",\"credentials\":{\"K\":\"a\\r\\nInjected: 1\"}}",
                "{\"name\":\"x\",\"type\":\"t\",\"credentials\":{\"1K\":\"v\"}}",
                "{\"name\":\"x\",\"type\":\"t\",\"credentials\":{\"K\":5}}",
                "{\"name\":\"x\",\"type\":\"t\",\"credentials\":{\"K\":\"v\"},\"extra\":1}",
        };
        _cleanup_free_ char *d = tmpdir();
        _cleanup_(store_freep) Store *s = NULL;

        ASSERT_OK(store_open(d, &s));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_json_ cJSON *j = J(bad[i]);
                _cleanup_free_ char *err = NULL;
                ASSERT_NOT_NULL(j);
                if (store_provider_create(s, j, NULL, &err) != -EINVAL)
                        TEST_FAIL_AT("accepted: %s", bad[i]);
                ASSERT_NOT_NULL(err);
        }
        rm_rf(d);
}

TEST(inference) {
        _cleanup_free_ char *d = tmpdir(), *err = NULL, *txt = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_json_ cJSON *spec = J("{}"), *good = J("{\"base_url\":\"https://api.example/v1\",\"model\":\"m\",\"api\":\"openai\"}"),
                             *bad1 = J("{\"base_url\":\"ftp://x\",\"model\":\"m\"}"),
                             *bad2 = J("{\"base_url\":\"https://x\",\"model\":\"m\",\"provider\":\"none\"}"),
                             *bad3 = J("{\"base_url\":\"https://x\",\"model\":\"m\",\"api\":\"grpc\"}"), *got = NULL;

        ASSERT_OK(store_open(d, &s));
        ASSERT_OK(store_sandbox_create(s, "demo", spec, NULL, &err));
        ASSERT_ERROR(store_inference_get(s, "demo", &got), ENOENT);
        ASSERT_OK(store_inference_set(s, "demo", good, &err));
        ASSERT_ERROR(store_inference_set(s, "demo", bad1, &err), EINVAL);
        ASSERT_ERROR(store_inference_set(s, "demo", bad2, &err), EINVAL);
        ASSERT_ERROR(store_inference_set(s, "demo", bad3, &err), EINVAL);
        ASSERT_ERROR(store_inference_set(s, "nope", good, &err), ENOENT);
        ASSERT_OK(store_inference_get(s, "demo", &got));
        txt = P(got);
        ASSERT_CONTAINS(txt, "api.example");
        rm_rf(d);
}

TEST(inference_for_sandbox) {
        _cleanup_free_ char *d = tmpdir(), *err = NULL, *a = NULL, *b = NULL, *c = NULL, *e = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_json_ cJSON *spec = J("{}"),
                             *p1 = J("{\"name\":\"multi\",\"type\":\"t\",\"credentials\":{\"X\":\"x-1\","
                                     "\"OPENAI_API_KEY\":\"sk-o\",\"ANTHROPIC_API_KEY\":\"sk-a\"}}"),
                             *p2 = J("{\"name\":\"one\",\"type\":\"t\",\"credentials\":{\"TOKEN\":\"tok-1\"}}"),
                             *r1 = J("{\"base_url\":\"https://h/v1\",\"model\":\"m\",\"provider\":\"multi\"}"),
                             *r2 = J("{\"base_url\":\"https://h\",\"model\":\"m\",\"api\":\"anthropic\",\"provider\":\"multi\"}"),
                             *r3 = J("{\"base_url\":\"https://h\",\"model\":\"m\",\"provider\":\"one\"}"),
                             *r4 = J("{\"base_url\":\"http://127.0.0.1:1\",\"model\":\"m\"}"), *got = NULL;

        ASSERT_OK(store_open(d, &s));
        ASSERT_OK(store_provider_create(s, p1, NULL, &err));
        ASSERT_OK(store_provider_create(s, p2, NULL, &err));
        ASSERT_OK(store_sandbox_create(s, "demo", spec, NULL, &err));
        ASSERT_ERROR(store_inference_for_sandbox(s, "demo", &got), ENOENT);
        ASSERT_OK(store_inference_set(s, "demo", r1, &err));
        ASSERT_OK(store_inference_for_sandbox(s, "demo", &got));
        a = P(got);
        ASSERT_CONTAINS(a, "\"credential\":{\"value\":\"sk-o\"}");
        cJSON_Delete(TAKE_PTR(got));
        ASSERT_OK(store_inference_get(s, "demo", &got)); /* the administrator's view has no secret */
        e = P(got);
        ASSERT_NOT_CONTAINS(e, "sk-");
        cJSON_Delete(TAKE_PTR(got));
        ASSERT_OK(store_inference_set(s, "demo", r2, &err));
        ASSERT_OK(store_inference_for_sandbox(s, "demo", &got));
        b = P(got);
        ASSERT_CONTAINS(b, "\"value\":\"sk-a\"");
        cJSON_Delete(TAKE_PTR(got));
        ASSERT_OK(store_inference_set(s, "demo", r3, &err));
        ASSERT_OK(store_inference_for_sandbox(s, "demo", &got));
        c = P(got);
        ASSERT_CONTAINS(c, "\"value\":\"tok-1\"");
        cJSON_Delete(TAKE_PTR(got));
        ASSERT_OK(store_inference_set(s, "demo", r4, &err));
        ASSERT_OK(store_inference_for_sandbox(s, "demo", &got));
        ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(got, "credential"));
        cJSON_Delete(TAKE_PTR(got));
        rm_rf(d);
}

static bool exists(const char *dir, const char *file) {
        _cleanup_free_ char *p = strjoin(dir, "/", file);
        return p && access(p, F_OK) == 0;
}

static void put(const char *dir, const char *file, const char *text) {
        _cleanup_free_ char *p = strjoin(dir, "/", file);
        FILE *f = p ? fopen(p, "we") : NULL;
        if (f) {
                fputs(text, f);
                fclose(f);
        }
}

/* What store_open() finds after a kill -9, and leaves of it. */
TEST(recover_after_crash) {
        _cleanup_free_ char *d = tmpdir(), *err = NULL, *sb = NULL, *orphan_rec = NULL, *current = NULL, *txt = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_json_ cJSON *spec = J("{\"name\":\"x\",\"image\":\"x\"}"), *pol = J("{\"version\":1}"),
                             *pol2 = J("{\"version\":1,\"network_policies\":{}}"), *got = NULL, *list = NULL;
        uint64_t rev;

        ASSERT_NOT_NULL(d);
        sb = strjoin(d, "/sandboxes");
        orphan_rec = strjoin(sb, "/orphan/sandbox.json");
        current = strjoin(sb, "/done/policy-current.json");
        ASSERT_OK(store_open(d, &s));
        /* done: a complete create; half: killed before store_sandbox_complete(); orphan: a directory
         * without a record (a delete or a create killed half-way). */
        ASSERT_OK(store_sandbox_create(s, "done", spec, NULL, &err));
        ASSERT_OK(store_policy_set(s, "done", pol, &rev, &err));
        ASSERT_OK(store_sandbox_complete(s, "done"));
        ASSERT_OK(store_sandbox_create(s, "half", spec, NULL, &err));
        ASSERT_OK(store_policy_set(s, "half", pol, &rev, &err));
        ASSERT_OK(store_sandbox_create(s, "orphan", spec, NULL, &err));
        ASSERT_OK(store_sandbox_complete(s, "orphan"));
        ASSERT_OK(unlink(orphan_rec));
        put(sb, "orphan/policy.json", "{\"revision\":7,\"policy\":{}}");
        /* done: killed between the two renames of a policy change (the record new, the proxy's copy old),
         * and with temporaries left over. */
        ASSERT_OK(store_policy_set(s, "done", pol2, &rev, &err));
        ASSERT_EQ(rev, 2);
        put(sb, "done/policy-current.json", "{\"version\":1}");
        put(sb, "done/policy.json.tmp.AbCdEf", "{\"revis");
        put(d, "providers/p.json.tmp.123456", "{");
        s = store_free(s);

        ASSERT_OK(store_open(d, &s));
        ASSERT_OK(store_sandbox_list(s, &list));
        ASSERT_EQ(cJSON_GetArraySize(list), 1);
        ASSERT_FALSE(exists(sb, "half"));
        ASSERT_FALSE(exists(sb, "orphan"));
        ASSERT_FALSE(exists(sb, "done/creating"));
        ASSERT_FALSE(exists(sb, "done/policy.json.tmp.AbCdEf"));
        ASSERT_FALSE(exists(d, "providers/p.json.tmp.123456"));
        ASSERT_OK(store_policy_get(s, "done", &got, &rev));
        ASSERT_EQ(rev, 2);
        cJSON_Delete(got);
        got = NULL;
        ASSERT_OK(read_full_file(current, 4096, &txt, NULL));
        got = J(txt);
        ASSERT_TRUE(cJSON_Compare(got, pol2, true));
        /* The half-created sandbox can simply be created again. */
        ASSERT_OK(store_sandbox_create(s, "half", spec, NULL, &err));
        rm_rf(d);
}

DEFINE_TEST_MAIN();
