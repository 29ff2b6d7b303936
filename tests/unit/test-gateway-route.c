/* SPDX-License-Identifier: Apache-2.0 */
#include "gateway-route.h"
#include "string-util.h"
#include "tests.h"

TEST(identity) {
        Identity id;
        char buf[80];

        ASSERT_OK(identity_from_common_name("openshell-admin", &id));
        ASSERT_EQ(id.kind, IDENTITY_ADMIN);
        ASSERT_STREQ(identity_to_string(&id, buf, sizeof(buf)), "admin");
        ASSERT_OK(identity_from_common_name("sandbox:demo", &id));
        ASSERT_EQ(id.kind, IDENTITY_SANDBOX);
        ASSERT_STREQ(id.sandbox, "demo");
        ASSERT_STREQ(identity_to_string(&id, buf, sizeof(buf)), "sandbox:demo");
        ASSERT_OK(identity_from_common_name("agent:demo", &id));
        ASSERT_EQ(id.kind, IDENTITY_AGENT);
        ASSERT_STREQ(id.sandbox, "demo");
        ASSERT_STREQ(identity_to_string(&id, buf, sizeof(buf)), "agent:demo");
        ASSERT_ERROR(identity_from_common_name("agent:", &id), EACCES);
        ASSERT_ERROR(identity_from_common_name("agent:Demo", &id), EACCES);
        ASSERT_ERROR(identity_from_common_name("agent:sandbox:demo", &id), EACCES);
        ASSERT_ERROR(identity_from_common_name("sandbox:agent:demo", &id), EACCES);
        ASSERT_ERROR(identity_from_common_name("Agent:demo", &id), EACCES);
        ASSERT_ERROR(identity_from_common_name("agent:demo ", &id), EACCES);
        ASSERT_ERROR(identity_from_common_name("openshell-gateway", &id), EACCES);
        ASSERT_ERROR(identity_from_common_name("sandbox:", &id), EACCES);
        ASSERT_ERROR(identity_from_common_name("sandbox:Demo", &id), EACCES);
        ASSERT_ERROR(identity_from_common_name("sandbox:a/b", &id), EACCES);
        ASSERT_ERROR(identity_from_common_name("Openshell-Admin", &id), EACCES);
        ASSERT_ERROR(identity_from_common_name(NULL, &id), EACCES);
}

static GatewayRoute route(const char *method, const char *target) {
        RouteMatch m;
        int r = gateway_route_match(method, target, &m);
        return r < 0 ? (GatewayRoute) r : m.route;
}

TEST(routing) {
        RouteMatch m;

        ASSERT_EQ(route("GET", "/v1/health"), ROUTE_HEALTH);
        ASSERT_EQ(route("GET", "/v1/sandboxes"), ROUTE_SANDBOX_LIST);
        ASSERT_EQ(route("POST", "/v1/sandboxes"), ROUTE_SANDBOX_CREATE);
        ASSERT_EQ(route("GET", "/v1/sandboxes/demo"), ROUTE_SANDBOX_GET);
        ASSERT_EQ(route("DELETE", "/v1/sandboxes/demo"), ROUTE_SANDBOX_DELETE);
        ASSERT_EQ(route("POST", "/v1/sandboxes/demo/start"), ROUTE_SANDBOX_START);
        ASSERT_EQ(route("POST", "/v1/sandboxes/demo/stop"), ROUTE_SANDBOX_STOP);
        ASSERT_EQ(route("GET", "/v1/sandboxes/demo/logs?lines=5"), ROUTE_SANDBOX_LOGS);
        ASSERT_EQ(route("GET", "/v1/sandboxes/demo/policy"), ROUTE_POLICY_GET);
        ASSERT_EQ(route("PUT", "/v1/sandboxes/demo/policy"), ROUTE_POLICY_SET);
        ASSERT_EQ(route("GET", "/v1/sandboxes/demo/credentials"), ROUTE_CREDENTIALS_GET);
        ASSERT_EQ(route("GET", "/v1/sandboxes/demo/inference"), ROUTE_INFERENCE_GET);
        ASSERT_EQ(route("PUT", "/v1/sandboxes/demo/inference"), ROUTE_INFERENCE_SET);
        ASSERT_EQ(route("GET", "/v1/providers"), ROUTE_PROVIDER_LIST);
        ASSERT_EQ(route("POST", "/v1/providers"), ROUTE_PROVIDER_CREATE);
        ASSERT_EQ(route("GET", "/v1/providers/openai"), ROUTE_PROVIDER_GET);
        ASSERT_EQ(route("DELETE", "/v1/providers/openai"), ROUTE_PROVIDER_DELETE);

        ASSERT_OK(gateway_route_match("GET", "/v1/sandboxes/demo/policy?watch=3&timeout=10", &m));
        ASSERT_STREQ(m.name, "demo");
        ASSERT_STREQ(m.query, "watch=3&timeout=10");
}

TEST(routing_errors) {
        ASSERT_EQ(route("GET", "/v2/health"), -ENOENT);
        ASSERT_EQ(route("GET", "/v1/healthz"), -ENOENT);
        ASSERT_EQ(route("GET", "/v1/sandboxes/"), -ENOENT);
        ASSERT_EQ(route("GET", "/v1/sandboxes//policy"), -ENOENT);
        ASSERT_EQ(route("GET", "/v1/sandboxes/demo/bogus"), -ENOENT);
        ASSERT_EQ(route("GET", "http://x/v1/health"), -ENOENT);
        ASSERT_EQ(route("GET", "*"), -ENOENT);
        ASSERT_EQ(route("POST", "/v1/health"), -EOPNOTSUPP);
        ASSERT_EQ(route("PATCH", "/v1/sandboxes/demo"), -EOPNOTSUPP);
        ASSERT_EQ(route("GET", "/v1/sandboxes/demo/start"), -EOPNOTSUPP);
        ASSERT_EQ(route("GET", "/v1/sandboxes/Demo"), -EINVAL);
        ASSERT_EQ(route("GET", "/v1/sandboxes/..%2f"), -EINVAL);
        ASSERT_EQ(route("GET", "/v1/sandboxes/"
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/policy"),
                  -EINVAL);
}

static int authz(const char *who, ListenRole role, const char *method, const char *target) {
        Identity id;
        RouteMatch m;
        int r = identity_from_common_name(who, &id);
        if (r < 0)
                return r;
        r = gateway_route_match(method, target, &m);
        if (r < 0)
                return r;
        return gateway_authorize(&id, role, &m);
}

#define A LISTEN_ROLE_API
#define C LISTEN_ROLE_CALLBACK

TEST(authorization_matrix) {
        static const struct {
                const char *method, *target;
                int admin, own, other, own_cb, admin_cb;
        } rows[] = {
                /*                                            admin own other own@cb admin@cb */
                { "GET", "/v1/health", 0, 0, 0, 0, 0 },
                { "GET", "/v1/sandboxes", 0, -EPERM, -EPERM, -EPERM, -EPERM },
                { "POST", "/v1/sandboxes", 0, -EPERM, -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/sandboxes/demo", 0, 0, -EPERM, 0, 0 },
                { "DELETE", "/v1/sandboxes/demo", 0, -EPERM, -EPERM, -EPERM, -EPERM },
                { "POST", "/v1/sandboxes/demo/start", 0, -EPERM, -EPERM, -EPERM, -EPERM },
                { "POST", "/v1/sandboxes/demo/stop", 0, -EPERM, -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/sandboxes/demo/logs", 0, -EPERM, -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/sandboxes/demo/policy", 0, 0, -EPERM, 0, 0 },
                { "PUT", "/v1/sandboxes/demo/policy", 0, -EPERM, -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/sandboxes/demo/credentials", -EPERM, 0, -EPERM, 0, -EPERM },
                { "GET", "/v1/sandboxes/demo/inference", 0, 0, -EPERM, 0, 0 },
                { "PUT", "/v1/sandboxes/demo/inference", 0, -EPERM, -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/providers", 0, -EPERM, -EPERM, -EPERM, -EPERM },
                { "POST", "/v1/providers", 0, -EPERM, -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/providers/demo", 0, -EPERM, -EPERM, -EPERM, -EPERM },
                { "DELETE", "/v1/providers/demo", 0, -EPERM, -EPERM, -EPERM, -EPERM },
                /* the session is the agent's: not the proxy's certificate, not the administrator's */
                { "GET", "/v1/sandboxes/demo/session", -EPERM, -EPERM, -EPERM, -EPERM, -EPERM },
                { "POST", "/v1/sandboxes/demo/exec", 0, -EPERM, -EPERM, -EPERM, -EPERM },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const char *m = rows[i].method, *t = rows[i].target;
                int got[5] = {
                        authz("openshell-admin", A, m, t), authz("sandbox:demo", A, m, t),
                        authz("sandbox:other", A, m, t),   authz("sandbox:demo", C, m, t),
                        authz("openshell-admin", C, m, t),
                };
                int want[5] = { rows[i].admin, rows[i].own, rows[i].other, rows[i].own_cb, rows[i].admin_cb };
                for (size_t k = 0; k < 5; k++)
                        if (got[k] != want[k])
                                TEST_FAIL_AT("%s %s column %zu: got %d, want %d", m, t, k, got[k], want[k]);
        }
}

/* The agent's certificate (CN=agent:NAME) is readable by anything in the agent container: it reaches
 * health and its own session, nothing else, on either listener. */
TEST(agent_identity) {
        static const struct {
                const char *method, *target;
                int own, own_cb, other_cb;
        } rows[] = {
                /*                                              own    own@cb  other@cb */
                { "GET", "/v1/health", 0, 0, 0 },
                { "GET", "/v1/sandboxes/demo/session", 0, 0, -EPERM },
                { "GET", "/v1/sandboxes/demo/credentials", -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/sandboxes/demo/policy", -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/sandboxes/demo/policy?watch=1", -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/sandboxes/demo/inference", -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/sandboxes/demo", -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/sandboxes/demo/logs", -EPERM, -EPERM, -EPERM },
                { "POST", "/v1/sandboxes/demo/exec", -EPERM, -EPERM, -EPERM },
                { "POST", "/v1/sandboxes/demo/start", -EPERM, -EPERM, -EPERM },
                { "DELETE", "/v1/sandboxes/demo", -EPERM, -EPERM, -EPERM },
                { "PUT", "/v1/sandboxes/demo/policy", -EPERM, -EPERM, -EPERM },
                { "PUT", "/v1/sandboxes/demo/inference", -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/sandboxes", -EPERM, -EPERM, -EPERM },
                { "POST", "/v1/sandboxes", -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/providers", -EPERM, -EPERM, -EPERM },
                { "GET", "/v1/providers/demo", -EPERM, -EPERM, -EPERM },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const char *m = rows[i].method, *t = rows[i].target;
                int got[3] = { authz("agent:demo", A, m, t), authz("agent:demo", C, m, t), authz("agent:other", C, m, t) };
                int want[3] = { rows[i].own, rows[i].own_cb, rows[i].other_cb };
                for (size_t k = 0; k < 3; k++)
                        if (got[k] != want[k])
                                TEST_FAIL_AT("%s %s column %zu: got %d, want %d", m, t, k, got[k], want[k]);
        }
        /* Every route: the agent may call health and its own session, and nothing else. */
        for (int r = 0; r < _ROUTE_MAX; r++) {
                Identity agent = { .kind = IDENTITY_AGENT, .sandbox = "demo" };
                RouteMatch mt = { .route = r, .name = "demo" };
                bool allowed = IN_SET(r, ROUTE_HEALTH, ROUTE_SANDBOX_SESSION);
                if ((gateway_authorize(&agent, A, &mt) == 0) != allowed || (gateway_authorize(&agent, C, &mt) == 0) != allowed)
                        TEST_FAIL_AT("agent:demo on route %s: expected %s", gateway_route_to_string(r), allowed ? "allowed" : "denied");
        }
}

/* The proxy's certificate keeps its routes but no longer opens the session. */
TEST(sandbox_identity_no_session) {
        ASSERT_ERROR(authz("sandbox:demo", C, "GET", "/v1/sandboxes/demo/session"), EPERM);
        ASSERT_ERROR(authz("sandbox:demo", A, "GET", "/v1/sandboxes/demo/session"), EPERM);
        ASSERT_OK(authz("sandbox:demo", C, "GET", "/v1/sandboxes/demo/credentials"));
        ASSERT_OK(authz("sandbox:demo", C, "GET", "/v1/sandboxes/demo/policy"));
        ASSERT_OK(authz("sandbox:demo", C, "GET", "/v1/sandboxes/demo/inference"));
        ASSERT_OK(authz("sandbox:demo", C, "GET", "/v1/sandboxes/demo"));
}

TEST(every_route_in_matrix) {
        /* Each route has an entry: an unknown route value is denied. */
        Identity admin = { .kind = IDENTITY_ADMIN };
        RouteMatch m = { .route = _ROUTE_MAX };
        ASSERT_ERROR(gateway_authorize(&admin, A, &m), EPERM);
        for (int r = 0; r < _ROUTE_MAX; r++)
                ASSERT_NOT_NULL(gateway_route_to_string(r));
}

TEST(query) {
        char buf[16];
        ASSERT_OK(query_get("watch=3&timeout=10", "timeout", buf, sizeof(buf)));
        ASSERT_STREQ(buf, "10");
        ASSERT_OK(query_get("watch=3&timeout=10", "watch", buf, sizeof(buf)));
        ASSERT_STREQ(buf, "3");
        ASSERT_OK(query_get("watch", "watch", buf, sizeof(buf)));
        ASSERT_STREQ(buf, "");
        ASSERT_ERROR(query_get("watchx=1", "watch", buf, sizeof(buf)), ENOENT);
        ASSERT_ERROR(query_get("", "watch", buf, sizeof(buf)), ENOENT);
        ASSERT_ERROR(query_get("watch=12345678901234567890", "watch", buf, sizeof(buf)), E2BIG);
}

DEFINE_TEST_MAIN();
