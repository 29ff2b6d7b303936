/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc-util.h"
#include "gateway-api.h"
#include "gateway-pki.h"
#include "json-util.h"
#include "string-util.h"
#include "tests.h"

/* A fake systemd that records what it was asked to do. */
typedef struct FakeOps {
        char last[128];
        int fail_install;
        unsigned installs, uninstalls;
} FakeOps;

static int fake_install(void *ud, SandboxSpec *spec, bool start, char **ret_error) {
        FakeOps *f = ud;
        int r = f->fail_install;
        snprintf(f->last, sizeof(f->last), "install %s%s tls=%s gw=%s", spec->name, start ? " start" : "",
                 spec->tls_cert ? "yes" : "no", strna(spec->gateway));
        sandbox_spec_free(spec);
        if (r < 0) {
                *ret_error = strdup("fake failure");
                return r;
        }
        f->installs++;
        return 0;
}
static int fake_uninstall(void *ud, const char *name, char **ret_error) {
        FakeOps *f = ud;
        snprintf(f->last, sizeof(f->last), "uninstall %s", name);
        f->uninstalls++;
        return 0;
}
static int fake_start(void *ud, const char *name, char **ret_error) {
        snprintf(((FakeOps *) ud)->last, 128, "start %s", name);
        return 0;
}
static int fake_stop(void *ud, const char *name, char **ret_error) {
        snprintf(((FakeOps *) ud)->last, 128, "stop %s", name);
        return 0;
}
static int fake_state(void *ud, const char *name, char **ret) {
        *ret = strdup("active");
        return *ret ? 0 : -ENOMEM;
}

static int fake_logs(void *ud, const char *name, unsigned lines, cJSON **ret) {
        cJSON *a = cJSON_CreateArray(), *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "message", "hello");
        cJSON_AddNumberToObject(o, "asked", lines);
        cJSON_AddItemToArray(a, o);
        *ret = a;
        return 0;
}

static const SandboxOps fake_ops = { fake_install, fake_uninstall, fake_start, fake_stop, fake_state, fake_logs };

typedef struct Env {
        char *dir;
        char *tls;
        Store *store;
        FakeOps fake;
        ApiContext ctx;
} Env;

static int env_setup(Env *e) {
        char t[] = "/tmp/test-gateway-api-XXXXXX";
        _cleanup_free_ char *state = NULL;
        int r;

        *e = (Env) {};
        if (!mkdtemp(t))
                return -errno;
        e->dir = strdup(t);
        e->tls = strjoin(t, "/tls");
        state = strjoin(t, "/state");
        if (!e->dir || !e->tls || !state)
                return -ENOMEM;
        r = pki_ensure(e->tls, NULL, NULL);
        if (r < 0)
                return r;
        r = store_open(state, &e->store);
        if (r < 0)
                return r;
        e->ctx = (ApiContext) {
                .store = e->store,
                .ops = &fake_ops,
                .ops_userdata = &e->fake,
                .tls_dir = e->tls,
                .callback_url = "https://10.214.0.1:17671",
                .watch_timeout_default = 30 * USEC_PER_SEC,
                .watch_timeout_max = 60 * USEC_PER_SEC,
        };
        return 0;
}

static void env_done(Env *e) {
        _cleanup_free_ char *cmd = strjoin("rm -rf ", e->dir);
        if (cmd)
                (void) system(cmd);
        store_free(e->store);
        free(e->dir);
        free(e->tls);
}

static const Identity admin = { .kind = IDENTITY_ADMIN };
static const Identity sbx_demo = { .kind = IDENTITY_SANDBOX, .sandbox = "demo" };
static const Identity sbx_other = { .kind = IDENTITY_SANDBOX, .sandbox = "other" };

/* Runs one request; returns the status and the printed body in *out. */
static unsigned call(Env *e, const Identity *id, ListenRole role, const char *method, const char *target,
                     const char *body, char **out) {
        ApiRequest req = { method, target, body, body ? strlen(body) : 0, id, role };
        ApiResponse r;
        unsigned status;

        if (api_handle(&e->ctx, &req, &r) < 0)
                return 0;
        status = r.watch ? 1 : r.status;
        free(*out);
        *out = r.json ? json_print(r.json, false) : strdup("");
        api_response_done(&r);
        return status;
}

#define SPEC "{\"spec\":{\"name\":\"demo\",\"image\":\"localhost/agent:latest\"},\"policy\":{\"version\":1}}"

TEST(health) {
        _cleanup_free_ char *o = NULL;
        Env e;
        ASSERT_OK(env_setup(&e));
        ASSERT_EQ(call(&e, &sbx_other, LISTEN_ROLE_CALLBACK, "GET", "/v1/health", NULL, &o), 200);
        ASSERT_CONTAINS(o, "\"identity\":\"sandbox:other\"");
        ASSERT_CONTAINS(o, "\"listener\":\"callback\"");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/nope", NULL, &o), 404);
        ASSERT_CONTAINS(o, "\"error\":\"not_found\"");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "DELETE", "/v1/health", NULL, &o), 405);
        ASSERT_CONTAINS(o, "\"error\":\"method_not_allowed\"");
        ASSERT_EQ(call(&e, NULL, LISTEN_ROLE_API, "GET", "/v1/health", NULL, &o), 403);
        ASSERT_CONTAINS(o, "\"error\":\"unknown_identity\"");
        env_done(&e);
}

TEST(sandbox_crud) {
        _cleanup_free_ char *o = NULL;
        Env e;
        ASSERT_OK(env_setup(&e));
        if (call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", SPEC, &o) != 201)
                TEST_FAIL_AT("create failed: %s", o);
        ASSERT_CONTAINS(o, "\"state\":\"active\"");
        ASSERT_CONTAINS(o, "tls.crt");
        ASSERT_STREQ(e.fake.last, "install demo tls=yes gw=https://10.214.0.1:17671");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", SPEC, &o), 409);
        ASSERT_CONTAINS(o, "already_exists");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes", NULL, &o), 200);
        ASSERT_CONTAINS(o, "\"sandboxes\":[{\"name\":\"demo\"");
        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo", NULL, &o), 200);
        ASSERT_EQ(call(&e, &sbx_other, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo", NULL, &o), 403);
        ASSERT_CONTAINS(o, "\"error\":\"forbidden\"");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes/demo/stop", NULL, &o), 202);
        ASSERT_STREQ(e.fake.last, "stop demo");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes/demo/start", NULL, &o), 202);
        ASSERT_STREQ(e.fake.last, "start demo");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes/nope/start", NULL, &o), 404);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo/logs?lines=7", NULL, &o), 200);
        ASSERT_CONTAINS(o, "\"lines\":[{\"message\":\"hello\",\"asked\":7}]");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo/logs?lines=0", NULL, &o), 400);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo/logs?lines=5000", NULL, &o), 400);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes/nope/logs", NULL, &o), 404);
        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo/logs", NULL, &o), 403);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "DELETE", "/v1/sandboxes/demo", NULL, &o), 200);
        ASSERT_STREQ(e.fake.last, "uninstall demo");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo", NULL, &o), 404);
        env_done(&e);
}

TEST(sandbox_create_bad_input) {
        static const char *bad[] = {
                "", "{", "[]", "{\"spec\":{}}", "{\"spec\":{\"name\":\"Demo\"}}",
                "{\"spec\":{\"name\":\"demo\"}}", /* no image */
                "{\"spec\":{\"name\":\"demo\",\"image\":\"x\",\"bogus\":1}}",
                "{\"spec\":{\"name\":\"demo\",\"image\":\"x\"},\"extra\":1}",
                "{\"spec\":{\"name\":\"demo\",\"image\":\"x\"},\"start\":\"yes\"}",
                "{\"spec\":{\"name\":\"demo\",\"image\":\"x\"},\"policy\":{\"version\":7}}",
                "{\"spec\":{\"name\":\"demo\",\"image\":\"x\"},\"providers\":[\"missing\"]}",
                "{\"spec\":{\"name\":\"demo\",\"image\":\"x\",\"env\":{\"A\":\"x\\ny\"}}}",
        };
        _cleanup_free_ char *o = NULL;
        Env e;
        ASSERT_OK(env_setup(&e));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                unsigned s = call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", bad[i], &o);
                if (s != 400)
                        TEST_FAIL_AT("'%s' gave %u: %s", bad[i], s, o);
                ASSERT_CONTAINS(o, "\"message\":");
        }
        ASSERT_EQ(e.fake.installs, 0);
        /* systemd failing rolls the record back. */
        e.fake.fail_install = -EIO;
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", SPEC, &o), 502);
        ASSERT_CONTAINS(o, "systemd_error");
        e.fake.fail_install = 0;
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo", NULL, &o), 404);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", SPEC, &o), 201);
        env_done(&e);
}

TEST(policy_and_watch) {
        _cleanup_free_ char *o = NULL;
        ApiResponse r;
        Env e;

        ASSERT_OK(env_setup(&e));
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", SPEC, &o), 201);
        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo/policy", NULL, &o), 200);
        ASSERT_CONTAINS(o, "\"revision\":1");
        ASSERT_EQ(call(&e, &sbx_other, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo/policy", NULL, &o), 403);
        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_CALLBACK, "PUT", "/v1/sandboxes/demo/policy",
                       "{\"policy\":{\"version\":1}}", &o),
                  403);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_CALLBACK, "PUT", "/v1/sandboxes/demo/policy",
                       "{\"policy\":{\"version\":1}}", &o),
                  403);
        /* A watch on an old revision answers at once; on the current one it parks. */
        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo/policy?watch=0", NULL, &o), 200);
        ApiRequest req = { "GET", "/v1/sandboxes/demo/policy?watch=1&timeout=500ms", NULL, 0, &sbx_demo,
                           LISTEN_ROLE_CALLBACK };
        ASSERT_OK(api_handle(&e.ctx, &req, &r));
        ASSERT_TRUE(r.watch);
        ASSERT_STREQ(r.watch_name, "demo");
        ASSERT_EQ(r.watch_revision, 1);
        ASSERT_EQ(r.watch_timeout, 500 * USEC_PER_MSEC);
        api_response_done(&r);
        req.target = "/v1/sandboxes/demo/policy?watch=1&timeout=1h";
        ASSERT_OK(api_handle(&e.ctx, &req, &r));
        ASSERT_EQ(r.watch_timeout, 60 * USEC_PER_SEC); /* capped */
        api_response_done(&r);
        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo/policy?watch=x", NULL, &o), 400);
        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo/policy?watch=1&timeout=0", NULL, &o), 400);

        /* A set wakes watchers of that sandbox. */
        req = (ApiRequest) { "PUT", "/v1/sandboxes/demo/policy", "{\"policy\":{\"version\":1}}", 24, &admin, LISTEN_ROLE_API };
        ASSERT_OK(api_handle(&e.ctx, &req, &r));
        ASSERT_EQ(r.status, 200);
        ASSERT_STREQ(r.notify_policy, "demo");
        api_response_done(&r);
        ASSERT_OK(api_policy_response(&e.ctx, "demo", true, &r));
        o = mfree(o);
        o = json_print(r.json, false);
        ASSERT_CONTAINS(o, "\"revision\":2");
        api_response_done(&r);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "PUT", "/v1/sandboxes/demo/policy", "{\"policy\":{\"version\":0}}", &o), 400);
        ASSERT_CONTAINS(o, "invalid_policy");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "PUT", "/v1/sandboxes/demo/policy", "{\"version\":1}", &o), 400);
        env_done(&e);
}

TEST(providers_credentials_inference) {
        _cleanup_free_ char *o = NULL;
        Env e;
        ASSERT_OK(env_setup(&e));
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/providers",
                       "{\"name\":\"openai\",\"type\":\"openai\",\"credentials\":{\"OPENAI_API_KEY\":\"sk-123\"}}", &o),
                  201);
        ASSERT_NOT_CONTAINS(o, "sk-123");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/providers", NULL, &o), 200);
        ASSERT_NOT_CONTAINS(o, "sk-123");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/providers/openai", NULL, &o), 200);
        ASSERT_NOT_CONTAINS(o, "sk-123");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes",
                       "{\"spec\":{\"name\":\"demo\",\"image\":\"x\"},\"providers\":[\"openai\"]}", &o),
                  201);
        /* Secrets: only the owning sandbox, never the administrator. */
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo/credentials", NULL, &o), 403);
        ASSERT_EQ(call(&e, &sbx_other, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo/credentials", NULL, &o), 403);
        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo/credentials", NULL, &o), 200);
        ASSERT_STREQ(o, "{\"credentials\":{\"OPENAI_API_KEY\":\"sk-123\"}}");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "DELETE", "/v1/providers/openai", NULL, &o), 409);
        ASSERT_CONTAINS(o, "provider_in_use");

        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo/inference", NULL, &o), 404);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "PUT", "/v1/sandboxes/demo/inference",
                       "{\"base_url\":\"https://api.openai.com/v1\",\"model\":\"gpt-x\",\"provider\":\"openai\"}", &o),
                  200);
        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo/inference", NULL, &o), 200);
        ASSERT_CONTAINS(o, "gpt-x");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "PUT", "/v1/sandboxes/demo/inference", "{\"model\":\"m\"}", &o), 400);
        ASSERT_CONTAINS(o, "invalid_inference");
        env_done(&e);
}

DEFINE_TEST_MAIN();
