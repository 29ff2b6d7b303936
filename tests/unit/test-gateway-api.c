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
        int fail_units;         /* unit_states fails with this */
        unsigned unit_calls;    /* unit_states calls */
        char asked[1024];       /* the units of the last unit_states call, space-separated */
        const char *session_up; /* the sandbox with a supervisor session, or NULL */
        const char *umbrella;   /* if set, the state of every umbrella unit */
} FakeOps;

static int fake_install(void *ud, SandboxSpec *spec, bool start, char **ret_error) {
        FakeOps *f = ud;
        int r = f->fail_install;
        snprintf(f->last, sizeof(f->last), "install %s%s tls=%s agent=%s gw=%s", spec->name, start ? " start" : "",
                 spec->tls_cert ? "yes" : "no", strna(spec->tls_agent_cert), strna(spec->gateway));
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

/* Each unit's state by its kind: the umbrella is active, the network and volume are, the proxy is still
 * activating, the agent has failed; the other sandbox's units are not loaded. */
static int fake_unit_states(void *ud, char *const *units, char ***ret) {
        FakeOps *f = ud;
        char **states = NULL;

        f->unit_calls++;
        f->asked[0] = 0;
        if (f->fail_units < 0)
                return f->fail_units;
        for (size_t i = 0; units[i]; i++) {
                const char *u = units[i], *st = "unknown";
                strncat(f->asked, u, sizeof(f->asked) - strlen(f->asked) - 2);
                strcat(f->asked, " ");
                if (strstr(u, "other"))
                        st = "unknown";
                else if (startswith(u, "openshell-sandbox@"))
                        st = f->umbrella ?: "activating";
                else if (endswith(u, "-network.service") || endswith(u, "-volume.service"))
                        st = "active";
                else if (startswith(u, "openshell-proxy-"))
                        st = "active";
                else if (startswith(u, "openshell-agent-"))
                        st = "failed";
                if (strv_extend(&states, st) < 0)
                        return strv_free(states), -ENOMEM;
        }
        *ret = states;
        return 0;
}

static bool fake_has_session(void *ud, const char *name) {
        FakeOps *f = ud;
        return streq_ptr(f->session_up, name);
}

static const SandboxOps fake_ops = { fake_install, fake_uninstall, fake_start, fake_stop, fake_state, fake_logs,
                                     fake_unit_states };
/* A backend that only knows the umbrella unit's state. */
static const SandboxOps fake_ops_state_only = { fake_install, fake_uninstall, fake_start, fake_stop, fake_state,
                                                fake_logs, NULL };

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
                .has_session = fake_has_session,
                .session_userdata = &e->fake,
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
static const Identity agent_demo = { .kind = IDENTITY_AGENT, .sandbox = "demo" };

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
        ASSERT_CONTAINS(o, "\"state\":\"activating\"");
        ASSERT_CONTAINS(o, "tls.crt");
        ASSERT_CONTAINS(o, "/demo/tls/agent.crt\",\"agent_key\":\"");
        ASSERT_CONTAINS(o, "/demo/tls/agent.key\"");
        {
                _cleanup_free_ char *want = strjoin("install demo tls=yes agent=", e.dir,
                                                    "/state/sandboxes/demo/tls/agent.crt gw=https://10.214.0.1:17671");
                ASSERT_STREQ(e.fake.last, want);
        }
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
        /* Again: 404, and what a killed first delete may have left on the system side goes too. */
        ASSERT_EQ(e.fake.uninstalls, 1U);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "DELETE", "/v1/sandboxes/demo", NULL, &o), 404);
        ASSERT_EQ(e.fake.uninstalls, 2U);
        ASSERT_STREQ(e.fake.last, "uninstall demo");
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo", NULL, &o), 404);
        env_done(&e);
}

/* A Unix callback listener: specs get the TLS name as "gateway" and the socket's host path; a spec that
 * names its own gateway is left as it is. */
TEST(sandbox_gets_gateway_socket) {
        _cleanup_free_ char *o = NULL;
        Env e;

        ASSERT_OK(env_setup(&e));
        e.ctx.callback_url = "https://host.openshell.internal";
        e.ctx.callback_socket = "/run/user/1000/openshell/callback/gateway.sock";
        if (call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", SPEC, &o) != 201)
                TEST_FAIL_AT("create failed: %s", o);
        ASSERT_CONTAINS(o, "\"gateway\":\"https://host.openshell.internal\"");
        ASSERT_CONTAINS(o, "\"gateway_socket\":\"/run/user/1000/openshell/callback/gateway.sock\"");
        ASSERT_CONTAINS(e.fake.last, " gw=https://host.openshell.internal");
        if (call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes",
                 "{\"spec\":{\"name\":\"other\",\"image\":\"localhost/agent:latest\","
                 "\"gateway\":\"https://gw.example.internal:8443\"}}", &o) != 201)
                TEST_FAIL_AT("create failed: %s", o);
        ASSERT_CONTAINS(o, "\"gateway\":\"https://gw.example.internal:8443\"");
        ASSERT_NOT_CONTAINS(o, "gateway_socket");
        env_done(&e);
}

/* A create killed after its record was complete but before systemd did its part (e2e/test-faults-system.sh,
 * F04): the same request again finishes it while systemd has no unit of it, or while it is inactive and a
 * start is asked for; anything else stays a 409. The fake reports the units of "other" as not loaded. */
#define SPEC_OTHER "{\"spec\":{\"name\":\"other\",\"image\":\"localhost/agent:latest\"},\"start\":true}"
TEST(sandbox_create_interrupted_is_finished_by_a_retry) {
        _cleanup_free_ char *o = NULL;
        Env e;
        ASSERT_OK(env_setup(&e));
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", SPEC_OTHER, &o), 201);
        ASSERT_EQ(e.fake.installs, 1U);
        /* As after a crash before the install: record, certificate and policy exist, no unit does. */
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", SPEC_OTHER, &o), 201);
        ASSERT_EQ(e.fake.installs, 2U);
        ASSERT_CONTAINS(e.fake.last, "install other start tls=yes");
        ASSERT_CONTAINS(o, "\"name\":\"other\"");
        /* A different request for the same name is a conflict, not a retry. */
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes",
                       "{\"spec\":{\"name\":\"other\",\"image\":\"localhost/else:latest\"}}", &o), 409);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes",
                       "{\"spec\":{\"name\":\"other\",\"image\":\"localhost/agent:latest\"},"
                       "\"providers\":[]}", &o),
                  201); /* no providers and [] are the same request */
        ASSERT_EQ(e.fake.installs, 3U);
        /* Units exist but the start never happened: the same create asking for a start finishes it; without
         * a start there is nothing to finish. */
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", SPEC, &o), 201);
        ASSERT_EQ(e.fake.installs, 4U);
        e.fake.umbrella = "inactive";
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", SPEC, &o), 409);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes",
                       "{\"spec\":{\"name\":\"demo\",\"image\":\"localhost/agent:latest\"},"
                       "\"policy\":{\"version\":1},\"start\":true}", &o), 201);
        ASSERT_EQ(e.fake.installs, 5U);
        ASSERT_CONTAINS(e.fake.last, "install demo start");
        e.fake.umbrella = "active";
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes",
                       "{\"spec\":{\"name\":\"demo\",\"image\":\"localhost/agent:latest\"},"
                       "\"start\":true}", &o), 409);
        /* Without unit states the gateway cannot tell: a duplicate stays a 409. */
        e.ctx.ops = &fake_ops_state_only;
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", SPEC_OTHER, &o), 409);
        ASSERT_EQ(e.fake.installs, 5U);
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

/* GET reports the umbrella unit, each generated unit and the session, all from one systemd round trip. */
TEST(sandbox_progress) {
        _cleanup_free_ char *o = NULL;
        Env e;

        ASSERT_OK(env_setup(&e));
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes", SPEC, &o), 201);
        e.fake.unit_calls = 0;
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo", NULL, &o), 200);
        ASSERT_CONTAINS(o, "\"state\":\"activating\"");
        ASSERT_CONTAINS(o, "\"units\":{\"network\":\"active\",\"volume\":\"active\",\"proxy\":\"active\",\"agent\":\"failed\"}");
        ASSERT_CONTAINS(o, "\"session\":false");
        ASSERT_EQ(e.fake.unit_calls, 1);
        ASSERT_STREQ(e.fake.asked, "openshell-sandbox@demo.service openshell-sbx-demo-network.service "
                                   "openshell-tls-demo-volume.service openshell-proxy-demo.service "
                                   "openshell-agent-demo.service ");
        e.fake.session_up = "demo";
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo", NULL, &o), 200);
        ASSERT_CONTAINS(o, "\"session\":true");
        /* The proxy reads its own record too (the same fields). */
        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo", NULL, &o), 200);
        ASSERT_CONTAINS(o, "\"session\":true");

        /* The list: every entry, still one round trip for all of them. */
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes",
                       "{\"spec\":{\"name\":\"other\",\"image\":\"x\"}}", &o), 201);
        e.fake.unit_calls = 0;
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes", NULL, &o), 200);
        ASSERT_EQ(e.fake.unit_calls, 1);
        ASSERT_CONTAINS(o, "\"name\":\"demo\"");
        ASSERT_CONTAINS(o, "\"state\":\"unknown\",\"units\":{\"network\":\"unknown\",\"volume\":\"unknown\",\"proxy\":\"unknown\",\"agent\":\"unknown\"},\"session\":false");
        ASSERT_CONTAINS(o, "\"state\":\"activating\",\"units\":{\"network\":\"active\",\"volume\":\"active\",\"proxy\":\"active\",\"agent\":\"failed\"},\"session\":true");

        /* systemd cannot be asked: everything "unknown", the request still succeeds. */
        e.fake.fail_units = -ECONNREFUSED;
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo", NULL, &o), 200);
        ASSERT_CONTAINS(o, "\"units\":{\"network\":\"unknown\",\"volume\":\"unknown\",\"proxy\":\"unknown\",\"agent\":\"unknown\"}");
        ASSERT_CONTAINS(o, "\"state\":\"unknown\"");

        /* A backend without unit_states: the umbrella's state from 'state', the units unknown. */
        e.ctx.ops = &fake_ops_state_only;
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "GET", "/v1/sandboxes/demo", NULL, &o), 200);
        ASSERT_CONTAINS(o, "\"state\":\"active\"");
        ASSERT_CONTAINS(o, "\"agent\":\"unknown\"");
        env_done(&e);
}

/* The agent's certificate reaches nothing over the API but health: no secrets, no policy, no record. */
TEST(agent_identity) {
        _cleanup_free_ char *o = NULL;
        Env e;

        ASSERT_OK(env_setup(&e));
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/providers",
                       "{\"name\":\"openai\",\"type\":\"openai\",\"credentials\":{\"OPENAI_API_KEY\":\"sk-123\"}}", &o),
                  201);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "POST", "/v1/sandboxes",
                       "{\"spec\":{\"name\":\"demo\",\"image\":\"x\"},\"providers\":[\"openai\"]}", &o),
                  201);
        ASSERT_EQ(call(&e, &admin, LISTEN_ROLE_API, "PUT", "/v1/sandboxes/demo/inference",
                       "{\"base_url\":\"https://api.openai.com/v1\",\"model\":\"gpt-x\",\"provider\":\"openai\"}", &o),
                  200);
        ASSERT_EQ(call(&e, &agent_demo, LISTEN_ROLE_CALLBACK, "GET", "/v1/health", NULL, &o), 200);
        ASSERT_CONTAINS(o, "\"identity\":\"agent:demo\"");
        static const char *const denied[] = {
                "/v1/sandboxes/demo/credentials", "/v1/sandboxes/demo/inference", "/v1/sandboxes/demo/policy",
                "/v1/sandboxes/demo", "/v1/sandboxes", "/v1/providers",
        };
        for (size_t i = 0; i < ELEMENTSOF(denied); i++)
                for (ListenRole role = 0; role < _LISTEN_ROLE_MAX; role++) {
                        unsigned st = call(&e, &agent_demo, role, "GET", denied[i], NULL, &o);
                        if (st != 403 || strstr(o, "sk-123") || !strstr(o, "\"error\":\"forbidden\""))
                                TEST_FAIL_AT("agent:demo GET %s on %s: %u %s", denied[i], listen_role_to_string(role), st, o);
                }
        /* The proxy's certificate still gets them. */
        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo/credentials", NULL, &o), 200);
        ASSERT_CONTAINS(o, "sk-123");
        ASSERT_EQ(call(&e, &sbx_demo, LISTEN_ROLE_CALLBACK, "GET", "/v1/sandboxes/demo/inference", NULL, &o), 200);
        ASSERT_CONTAINS(o, "sk-123");
        env_done(&e);
}

DEFINE_TEST_MAIN();
