/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line parsing of the CLI: usage errors never reach the network and exit 2 with a hint. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "tests.h"

#define RUN(...) cli_main((int) (sizeof((char *[]) { __VA_ARGS__ }) / sizeof(char *)), (char *[]) { __VA_ARGS__, NULL })

TEST(names) {
        ASSERT_TRUE(cli_is_valid_name("demo"));
        ASSERT_TRUE(cli_is_valid_name("a-1"));
        ASSERT_FALSE(cli_is_valid_name("-a"));
        ASSERT_FALSE(cli_is_valid_name("a-"));
        ASSERT_FALSE(cli_is_valid_name("Demo"));
        ASSERT_FALSE(cli_is_valid_name("a_b"));
        ASSERT_FALSE(cli_is_valid_name(""));
        ASSERT_FALSE(cli_is_valid_name(NULL));
        ASSERT_FALSE(cli_is_valid_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 64 */
}

TEST(output_format) {
        CliContext ctx = {};

        ASSERT_EQ(cli_parse_output(&ctx, "json"), 0);
        ASSERT_TRUE(ctx.json);
        ASSERT_EQ(cli_parse_output(&ctx, "table"), 0);
        ASSERT_FALSE(ctx.json);
        ASSERT_EQ(cli_parse_output(&ctx, "yaml"), CLI_EXIT_USAGE);
}

TEST(usage_errors_exit_2) {
        ASSERT_EQ(RUN("openshell"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "frobnicate"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox", "frob"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "-o", "xml", "status"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "--bogus"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox", "get"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox", "get", "Bad_Name"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox", "create", "demo"), CLI_EXIT_USAGE); /* no --image */
        ASSERT_EQ(RUN("openshell", "sandbox", "create", "--image", "x"), CLI_EXIT_USAGE); /* no NAME */
        ASSERT_EQ(RUN("openshell", "sandbox", "create", "demo", "--image", "x", "--env", "NOEQUALS"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox", "create", "demo", "--image", "x", "--timeout", "0"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox", "create", "demo", "--image", "x", "--timeout", "soon"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox", "create", "demo", "--image", "x", "--timeout"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox", "exec", "demo"), CLI_EXIT_USAGE); /* no command */
        ASSERT_EQ(RUN("openshell", "sandbox", "exec", "demo", "--env", "1X=y", "--", "true"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox", "exec", "demo", "--workdir", "rel", "--", "true"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox", "connect", "demo", "extra"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox", "upload", "demo"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "sandbox", "download", "demo", "relative/path"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "policy", "set", "demo"), CLI_EXIT_USAGE); /* no FILE */
        ASSERT_EQ(RUN("openshell", "policy", "get", "demo", "--wait"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "provider", "create", "p", "--credential", "K=V"), CLI_EXIT_USAGE); /* no --type */
        ASSERT_EQ(RUN("openshell", "provider", "create", "p", "--type", "openai"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "inference", "set", "demo", "--model", "m"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "gateway", "add", "local"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "gateway", "add", "local", "ftp://x"), CLI_EXIT_USAGE);
        ASSERT_EQ(RUN("openshell", "gateway", "add", "local", "https://127.0.0.1:1"), CLI_EXIT_USAGE); /* no certs */
        ASSERT_EQ(RUN("openshell", "completion", "zsh"), CLI_EXIT_USAGE);
}

TEST(connect_needs_a_terminal) {
        if (isatty(STDIN_FILENO))
                TEST_SKIP("stdin is a terminal");
        ASSERT_EQ(RUN("openshell", "sandbox", "connect", "demo"), CLI_EXIT_USAGE);
}

TEST(invalid_policy_file_exits_7) {
        char path[] = "/tmp/test-cli-policy-XXXXXX";
        int fd = mkstemp(path);
        cJSON *j = NULL;

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\", \"port\": 0}]}}}", 85), 85);
        close(fd);
        ASSERT_EQ(cli_policy_load(path, &j), CLI_EXIT_INVALID);
        ASSERT_EQ(cli_policy_load("/nonexistent/policy.yaml", &j), CLI_EXIT_USAGE);
        ASSERT_OK(truncate(path, 0));
        fd = open(path, O_WRONLY);
        ASSERT_EQ(write(fd, "version: 1\n", 11), 11);
        close(fd);
        ASSERT_EQ(cli_policy_load(path, &j), 0);
        ASSERT_NOT_NULL(j);
        cJSON_Delete(j);
        unlink(path);
}

TEST(help_and_completion_succeed) {
        ASSERT_EQ(RUN("openshell", "--help"), 0);
        ASSERT_EQ(RUN("openshell", "sandbox", "--help"), 0);
        ASSERT_EQ(RUN("openshell", "sandbox", "exec", "--help"), 0);
        ASSERT_EQ(RUN("openshell", "completion", "bash"), 0);
        fflush(stdout);
}

DEFINE_TEST_MAIN();
