/* SPDX-License-Identifier: Apache-2.0 */
#include "alloc-util.h"
#include "string-util.h"
#include "supervisor-args.h"
#include "tests.h"

#define ARGV(...) ((char *[]) { (char *) "openshell-sandbox", __VA_ARGS__, NULL })
#define ARGC(...) ((int) (sizeof((char *[]) { (char *) "x", __VA_ARGS__ }) / sizeof(char *)))

static char *no_env[] = { NULL };

TEST(default_workload) {
        _cleanup_(supervisor_args_done) SupervisorArgs a = {};
        char *argv[] = { (char *) "openshell-sandbox", NULL };

        ASSERT_OK(supervisor_args_parse(1, argv, no_env, &a));
        ASSERT_EQ(strv_length(a.argv), 2);
        ASSERT_STREQ(a.argv[0], "/bin/sh");
        ASSERT_STREQ(a.argv[1], "-l");
        ASSERT_NULL(a.endpoint);
}

TEST(command_keeps_its_options) {
        _cleanup_(supervisor_args_done) SupervisorArgs a = {};

        ASSERT_OK(supervisor_args_parse(ARGC("--policy", "/p.yaml", "python3", "-h", "--x"),
                                        ARGV("--policy", "/p.yaml", "python3", "-h", "--x"), no_env, &a));
        ASSERT_STREQ(a.policy_file, "/p.yaml");
        ASSERT_EQ(strv_length(a.argv), 3);
        ASSERT_STREQ(a.argv[1], "-h");
        ASSERT_FALSE(a.help);
}

TEST(environment) {
        _cleanup_(supervisor_args_done) SupervisorArgs a = {};
        char *env[] = { (char *) "OPENSHELL_ENDPOINT=https://10.213.0.2:8081", (char *) "OPENSHELL_SANDBOX=demo",
                        (char *) "OPENSHELL_TLS_CA=/c/ca.crt", (char *) "OPENSHELL_TLS_CERT=/c/tls.crt",
                        (char *) "OPENSHELL_TLS_KEY=/c/tls.key", NULL };
        char *argv[] = { (char *) "openshell-sandbox", (char *) "--no-workload", NULL };

        ASSERT_OK(supervisor_args_parse(2, argv, env, &a));
        ASSERT_NULL(a.argv);
        ASSERT_STREQ(a.endpoint, "https://10.213.0.2:8081");
        ASSERT_STREQ(a.sandbox, "demo");
        ASSERT_STREQ(a.tls_key, "/c/tls.key");
}

TEST(bad_usage) {
        SupervisorArgs a = {};
        char *partial[] = { (char *) "OPENSHELL_TLS_CA=/c/ca.crt", NULL };
        char *https_without[] = { (char *) "OPENSHELL_ENDPOINT=https://h:1", NULL };
        char *argv[] = { (char *) "openshell-sandbox", NULL };

        ASSERT_ERROR(supervisor_args_parse(ARGC("--bogus"), ARGV("--bogus"), no_env, &a), EINVAL);
        ASSERT_ERROR(supervisor_args_parse(ARGC("--no-workload", "sh"), ARGV("--no-workload", "sh"), no_env, &a), EINVAL);
        ASSERT_ERROR(supervisor_args_parse(1, argv, partial, &a), EINVAL);
        ASSERT_ERROR(supervisor_args_parse(1, argv, https_without, &a), EINVAL);
}

DEFINE_TEST_MAIN();
