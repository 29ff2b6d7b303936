/* SPDX-License-Identifier: Apache-2.0 */
/* The stages "openshell sandbox create" shows: a pure function of the gateway's GET /v1/sandboxes/NAME
 * answer (cli_sandbox_progress), so every case is checked without a gateway. */
#include "cli.h"
#include "json-util.h"
#include "string-util.h"
#include "tests.h"

/* A record as the gateway sends it: state, the four units, session, and a spec whose gateway/tls decide
 * whether the agent's readiness includes its session. */
static cJSON *record(const char *state, const char *net, const char *vol, const char *proxy, const char *agent,
                     bool session, const char *spec) {
        char buf[1024];

        snprintf(buf, sizeof(buf),
                 "{\"name\":\"demo\",\"spec\":%s,\"state\":\"%s\",\"units\":{\"network\":\"%s\",\"volume\":\"%s\","
                 "\"proxy\":\"%s\",\"agent\":\"%s\"},\"session\":%s}",
                 spec, state, net, vol, proxy, agent, session ? "true" : "false");
        return cJSON_Parse(buf);
}

#define SPEC_GATEWAY                                                                                       \
        "{\"gateway\":\"https://10.214.0.1:17671\",\"tls\":{\"ca\":\"/t/ca.crt\",\"cert\":\"/t/tls.crt\","  \
        "\"key\":\"/t/tls.key\",\"agent_cert\":\"/t/agent.crt\",\"agent_key\":\"/t/agent.key\"}}"
#define SPEC_NO_GATEWAY "{\"image\":\"x\"}"
/* A record from before agent certificates: the supervisor has no identity, hence no session. */
#define SPEC_OLD_TLS                                                                                       \
        "{\"gateway\":\"https://10.214.0.1:17671\",\"tls\":{\"ca\":\"/t/ca.crt\",\"cert\":\"/t/tls.crt\","  \
        "\"key\":\"/t/tls.key\"}}"
/* DisableTLS=yes: a session without certificates. */
#define SPEC_PLAIN_GATEWAY "{\"gateway\":\"http://10.214.0.1:17671\"}"

static int progress(const char *state, const char *net, const char *vol, const char *proxy, const char *agent,
                    bool session, const char *spec, CliProgress *p) {
        _cleanup_json_ cJSON *j = record(state, net, vol, proxy, agent, session, spec);
        int r;

        if (!j)
                return -ENOMEM;
        r = cli_sandbox_progress(j, p);
        /* p->failed points into j: keep only whether and which, as a static string. */
        if (r >= 0 && p->failed) {
                static const char *const keys[] = { "network", "volume", "proxy", "agent", "sandbox" };
                const char *f = p->failed;
                p->failed = "?";
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        if (streq(f, keys[i]))
                                p->failed = keys[i];
        }
        return r;
}

TEST(stage_names) {
        ASSERT_STREQ(cli_stage_to_string(CLI_STAGE_CREATED), "created");
        ASSERT_STREQ(cli_stage_to_string(CLI_STAGE_NETWORK), "network ready");
        ASSERT_STREQ(cli_stage_to_string(CLI_STAGE_VOLUME), "volume ready");
        ASSERT_STREQ(cli_stage_to_string(CLI_STAGE_PROXY), "proxy ready");
        ASSERT_STREQ(cli_stage_to_string(CLI_STAGE_AGENT), "agent ready");
        ASSERT_NULL(cli_stage_to_string(_CLI_STAGE_MAX));
        ASSERT_NULL(cli_stage_to_string(_CLI_STAGE_INVALID));
}

TEST(stages_in_order) {
        CliProgress p;

        /* Right after create: the units are not even generated yet. */
        ASSERT_OK(progress("inactive", "unknown", "unknown", "unknown", "unknown", false, SPEC_GATEWAY, &p));
        ASSERT_EQ(p.stage, CLI_STAGE_CREATED);
        ASSERT_NULL(p.failed);
        ASSERT_FALSE(p.untracked);
        ASSERT_TRUE(p.wants_session);
        ASSERT_OK(progress("activating", "activating", "inactive", "inactive", "inactive", false, SPEC_GATEWAY, &p));
        ASSERT_EQ(p.stage, CLI_STAGE_CREATED);
        ASSERT_OK(progress("activating", "active", "activating", "inactive", "inactive", false, SPEC_GATEWAY, &p));
        ASSERT_EQ(p.stage, CLI_STAGE_NETWORK);
        ASSERT_OK(progress("activating", "active", "active", "activating", "inactive", false, SPEC_GATEWAY, &p));
        ASSERT_EQ(p.stage, CLI_STAGE_VOLUME);
        ASSERT_OK(progress("activating", "active", "active", "active", "activating", false, SPEC_GATEWAY, &p));
        ASSERT_EQ(p.stage, CLI_STAGE_PROXY);
        ASSERT_OK(progress("active", "active", "active", "active", "active", true, SPEC_GATEWAY, &p));
        ASSERT_EQ(p.stage, CLI_STAGE_AGENT);
        ASSERT_NULL(p.failed);
        /* "reloading" is up too; a later stage implies the earlier ones. */
        ASSERT_OK(progress("active", "unknown", "active", "reloading", "inactive", false, SPEC_GATEWAY, &p));
        ASSERT_EQ(p.stage, CLI_STAGE_PROXY);
}

TEST(agent_ready_needs_the_session_with_a_gateway) {
        CliProgress p;

        /* The agent unit is active, the session is not up (yet): not ready. */
        ASSERT_OK(progress("active", "active", "active", "active", "active", false, SPEC_GATEWAY, &p));
        ASSERT_EQ(p.stage, CLI_STAGE_PROXY);
        ASSERT_TRUE(p.wants_session);
        /* The session alone is not enough either. */
        ASSERT_OK(progress("activating", "active", "active", "active", "activating", true, SPEC_GATEWAY, &p));
        ASSERT_EQ(p.stage, CLI_STAGE_PROXY);
        ASSERT_OK(progress("active", "active", "active", "active", "active", false, SPEC_PLAIN_GATEWAY, &p));
        ASSERT_TRUE(p.wants_session);
        ASSERT_EQ(p.stage, CLI_STAGE_PROXY);
        /* No gateway, or no agent certificate: there is no session to wait for. */
        ASSERT_OK(progress("active", "active", "active", "active", "active", false, SPEC_NO_GATEWAY, &p));
        ASSERT_FALSE(p.wants_session);
        ASSERT_EQ(p.stage, CLI_STAGE_AGENT);
        ASSERT_OK(progress("active", "active", "active", "active", "active", false, SPEC_OLD_TLS, &p));
        ASSERT_FALSE(p.wants_session);
        ASSERT_EQ(p.stage, CLI_STAGE_AGENT);
}

TEST(failures) {
        CliProgress p;

        ASSERT_OK(progress("activating", "active", "active", "failed", "inactive", false, SPEC_GATEWAY, &p));
        ASSERT_STREQ(p.failed, "proxy");
        ASSERT_EQ(p.stage, CLI_STAGE_VOLUME);
        ASSERT_OK(progress("failed", "failed", "inactive", "inactive", "inactive", false, SPEC_GATEWAY, &p));
        ASSERT_STREQ(p.failed, "network");
        ASSERT_EQ(p.stage, CLI_STAGE_CREATED);
        ASSERT_OK(progress("failed", "active", "active", "active", "failed", false, SPEC_GATEWAY, &p));
        ASSERT_STREQ(p.failed, "agent");
        /* Only the umbrella unit failed. */
        ASSERT_OK(progress("failed", "active", "active", "inactive", "inactive", false, SPEC_GATEWAY, &p));
        ASSERT_STREQ(p.failed, "sandbox");
        /* "inactive" or "deactivating" is no failure by itself (the timeout covers a sandbox that stops). */
        ASSERT_OK(progress("deactivating", "active", "active", "deactivating", "inactive", false, SPEC_GATEWAY, &p));
        ASSERT_NULL(p.failed);
}

TEST(untracked_and_older_gateways) {
        _cleanup_json_ cJSON *a = cJSON_Parse("{\"name\":\"demo\",\"state\":\"active\"}"),
                             *f = cJSON_Parse("{\"name\":\"demo\",\"state\":\"failed\"}"),
                             *i = cJSON_Parse("{\"name\":\"demo\",\"state\":\"activating\"}");
        CliProgress p;

        /* The gateway cannot see systemd. */
        ASSERT_OK(progress("unknown", "unknown", "unknown", "unknown", "unknown", false, SPEC_GATEWAY, &p));
        ASSERT_TRUE(p.untracked);
        /* A gateway without "units": the umbrella unit's state decides. */
        ASSERT_OK(cli_sandbox_progress(a, &p));
        ASSERT_EQ(p.stage, CLI_STAGE_AGENT);
        ASSERT_NULL(p.failed);
        ASSERT_OK(cli_sandbox_progress(f, &p));
        ASSERT_EQ(p.stage, CLI_STAGE_CREATED);
        ASSERT_STREQ(p.failed, "sandbox");
        ASSERT_OK(cli_sandbox_progress(i, &p));
        ASSERT_EQ(p.stage, CLI_STAGE_CREATED);
        ASSERT_NULL(p.failed);
}

TEST(bad_answers) {
        static const char *const bad[] = {
                "[]", "\"x\"", "{}", "{\"state\":3}", "{\"state\":\"active\",\"units\":[]}",
                "{\"state\":\"active\",\"units\":\"active\"}",
        };
        CliProgress p;

        for (size_t k = 0; k < ELEMENTSOF(bad); k++) {
                _cleanup_json_ cJSON *j = cJSON_Parse(bad[k]);
                ASSERT_NOT_NULL(j);
                if (cli_sandbox_progress(j, &p) != -EINVAL)
                        TEST_FAIL_AT("'%s' accepted", bad[k]);
        }
        ASSERT_ERROR(cli_sandbox_progress(NULL, &p), EINVAL);
        /* Units of the wrong type count as not up, never as a crash. */
        {
                _cleanup_json_ cJSON *j = cJSON_Parse(
                        "{\"state\":\"activating\",\"units\":{\"network\":1,\"proxy\":null},\"session\":\"yes\"}");
                ASSERT_OK(cli_sandbox_progress(j, &p));
                ASSERT_EQ(p.stage, CLI_STAGE_CREATED);
                ASSERT_NULL(p.failed);
        }
}

DEFINE_TEST_MAIN();
