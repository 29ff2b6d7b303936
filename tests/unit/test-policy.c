/* SPDX-License-Identifier: Apache-2.0 */
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "policy.h"
#include "string-util.h"
#include "tests.h"

static const char yaml_policy[] =
        "# demo policy\n"
        "version: 1\n"
        "network_policies:\n"
        "  github:\n"
        "    name: GitHub\n"
        "    binaries: [/usr/bin/git]   # accepted, ignored\n"
        "    endpoints:\n"
        "      - host: GitHub.com\n"
        "        port: 443\n"
        "      - host: api.github.com\n"
        "        ports: [443, \"8443\"]\n"
        "        protocol: rest\n"
        "        enforcement: audit\n"
        "        rules:\n"
        "          - allow: {method: get, path: /repos/**, query: {per_page: \"*\"}}\n"
        "        deny_rules:\n"
        "          - deny: {method: [DELETE], path: /admin/**}\n"
        "        allowed_ips: [10.0.0.0/8, \"::1\"]\n"
        "filesystem_policy:\n"
        "  read_only: [/usr]\n"
        "landlock: {compatibility: best_effort}\n"
        "process: {run_as_user: sandbox}\n";

static const char json_policy[] =
        "{\"version\": 1, \"network_policies\": {\"github\": {\"name\": \"GitHub\", \"binaries\": [\"/usr/bin/git\"],"
        " \"endpoints\": [{\"host\": \"GitHub.com\", \"port\": 443},"
        " {\"host\": \"api.github.com\", \"ports\": [443, \"8443\"], \"protocol\": \"rest\", \"enforcement\": \"audit\","
        "  \"rules\": [{\"allow\": {\"method\": \"get\", \"path\": \"/repos/**\", \"query\": {\"per_page\": \"*\"}}}],"
        "  \"deny_rules\": [{\"deny\": {\"method\": [\"DELETE\"], \"path\": \"/admin/**\"}}],"
        "  \"allowed_ips\": [\"10.0.0.0/8\", \"::1\"]}]}},"
        " \"filesystem_policy\": {\"read_only\": [\"/usr\"]}, \"landlock\": {\"compatibility\": \"best_effort\"},"
        " \"process\": {\"run_as_user\": \"sandbox\"}}";

static void check_model(const Policy *p) {
        const PolicyEndpoint *e;

        if (!p)
                TEST_FAIL_AT("no policy");
        ASSERT_EQ(p->version, 1);
        ASSERT_EQ(p->n_entries, 1);
        ASSERT_STREQ(p->entries[0].id, "github");
        ASSERT_STREQ(p->entries[0].name, "GitHub");
        ASSERT_EQ(p->entries[0].n_endpoints, 2);
        ASSERT_STREQ(p->entries[0].endpoints[0].host, "github.com");
        ASSERT_EQ(p->entries[0].endpoints[0].protocol, POLICY_PROTOCOL_L4);
        e = &p->entries[0].endpoints[1];
        ASSERT_EQ(e->n_ports, 2);
        ASSERT_EQ(e->ports[1], 8443);
        ASSERT_EQ(e->protocol, POLICY_PROTOCOL_REST);
        ASSERT_EQ(e->enforcement, POLICY_ENFORCEMENT_AUDIT);
        ASSERT_EQ(e->n_rules, 1);
        ASSERT_STREQ(e->rules[0].methods[0], "GET");
        ASSERT_STREQ(e->rules[0].path, "/repos/**");
        ASSERT_EQ(e->rules[0].n_query, 1);
        ASSERT_EQ(e->n_deny_rules, 1);
        ASSERT_STREQ(e->deny_rules[0].methods[0], "DELETE");
        ASSERT_EQ(e->n_allowed_ips, 2);
        ASSERT_NOT_NULL(p->filesystem_policy);
        ASSERT_NOT_NULL(p->landlock);
        ASSERT_NOT_NULL(p->process);
}

TEST(json_and_yaml_give_the_same_model) {
        _cleanup_(policy_freep) Policy *j = NULL, *y = NULL;
        _cleanup_free_ char *err = NULL;

        ASSERT_OK(policy_parse(json_policy, strlen(json_policy), &j, &err));
        check_model(j);
        ASSERT_OK(policy_parse(yaml_policy, strlen(yaml_policy), &y, &err));
        check_model(y);
}

TEST(load_file) {
        char path[] = "/tmp/test-policy-XXXXXX";
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_free_ char *err = NULL;
        int fd = mkstemp(path);

        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_OK(write_file_atomic(path, yaml_policy, strlen(yaml_policy), 0644));
        ASSERT_OK(policy_load(path, &p, &err));
        check_model(p);
        unlink(path);
        ASSERT_ERROR(policy_load(path, &p, &err), ENOENT);
        ASSERT_CONTAINS(err, "cannot read");
}

typedef struct BadCase {
        const char *text;
        const char *expect; /* substring of the error */
} BadCase;

static const BadCase bad[] = {
        { "{\"version\": 2}", "version" },
        { "{}", "version: expected version 1" },
        { "{\"version\": 1, \"extra\": 1}", "unknown key \"extra\"" },
        { "{\"version\": 1, \"network_policies\": []}", "network_policies: expected an object" },
        { "{\"version\": 1, \"network_policies\": {\"a b\": {\"endpoints\": []}}}", "policy id" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {}}}", "network_policies.x: \"endpoints\" must be a list" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"port\": 1}]}}}", "\"host\" is required" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\"}]}}}",
          "network_policies.x.endpoints[0]: exactly one of \"port\" or \"ports\"" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\", \"port\": 0}]}}}",
          "endpoints[0].port: expected a port number 1..65535" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\", \"port\": 70000}]}}}",
          "1..65535" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\", \"ports\": []}]}}}",
          "non-empty" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a*.b\", \"port\": 1}]}}}",
          "invalid host pattern" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a/b\", \"port\": 1}]}}}",
          "invalid host pattern" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\", \"port\": 1, \"protocol\": \"ftp\"}]}}}",
          "endpoints[0].protocol: invalid \"protocol\" value" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\", \"port\": 1, \"protocol\": \"rest\"}]}}}",
          "needs \"access\" or \"rules\"" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\", \"port\": 1, \"access\": \"full\"}]}}}",
          "need \"protocol\": \"rest\"" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\", \"port\": 1, \"protocol\": \"rest\", \"access\": \"all\"}]}}}",
          "invalid \"access\" value" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\", \"port\": 1, \"protocol\": \"rest\", \"rules\": [{\"method\": \"GET\"}]}]}}}",
          "rules[0]: a rule needs \"allow\"" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\", \"port\": 1, \"protocol\": \"rest\", \"rules\": [{\"allow\": {\"method\": \"G T\"}}]}]}}}",
          "invalid HTTP method" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\", \"port\": 1, \"protocol\": \"rest\", \"rules\": [{\"allow\": {\"path\": \"no-slash\"}}]}]}}}",
          "must start with '/'" },
        { "{\"version\": 1, \"network_policies\": {\"x\": {\"endpoints\": [{\"host\": \"a\", \"port\": 1, \"allowed_ips\": [\"localhost\"]}]}}}",
          "allowed_ips[0]: expected an IP address or CIDR" },
        { "{\"version\": 1, \"filesystem_policy\": 3}", "filesystem_policy: expected an object" },
        { "{\"version\": 1,,}", "line 1, column" },
        /* process and process.seccomp */
        { "{\"version\": 1, \"process\": []}", "process: expected an object" },
        { "{\"version\": 1, \"process\": {\"run_as\": \"x\"}}", "process: unknown key \"run_as\"" },
        { "{\"version\": 1, \"process\": {\"run_as_user\": 0}}", "process.run_as_user: expected a string" },
        { "{\"version\": 1, \"process\": {\"seccomp\": true}}", "process.seccomp: expected an object" },
        { "{\"version\": 1, \"process\": {\"seccomp\": {\"allow\": []}}}", "process.seccomp: unknown key \"allow\"" },
        { "{\"version\": 1, \"process\": {\"seccomp\": {\"profile\": \"strict\"}}}",
          "process.seccomp.profile: expected baseline or none" },
        { "{\"version\": 1, \"process\": {\"seccomp\": {\"profile\": 1}}}", "expected baseline or none" },
        { "{\"version\": 1, \"process\": {\"seccomp\": {\"deny\": \"ptrace\"}}}",
          "process.seccomp.deny: expected a list of system call names" },
        { "{\"version\": 1, \"process\": {\"seccomp\": {\"deny\": [\"ptrace\", 3]}}}",
          "process.seccomp.deny[1]: expected a system call name" },
        { "{\"version\": 1, \"process\": {\"seccomp\": {\"deny\": [\"ptrace\", \"no_such_call\"]}}}",
          "process.seccomp.deny[1]: unknown system call \"no_such_call\"" },
        { "{\"version\": 1, \"process\": {\"seccomp\": {\"deny\": [\"PTRACE\"]}}}", "unknown system call" },
        { "{\"version\": 1, \"process\": {\"seccomp\": {\"deny\": [\"\"]}}}", "unknown system call" },
        { "{\"version\": 1, \"process\": {\"seccomp\": {\"deny\": [\"ptrace\\n\"]}}}", "unknown system call" },
        { "version: 1\nprocess:\n  seccomp:\n    deny:\n      - mount\n      - mnt\n",
          "line 6: process.seccomp.deny[1]: unknown system call \"mnt\"" },
        /* YAML: errors carry the line */
        { "version: 1\nnetwork_policies:\n  x:\n    endpoints:\n      - host: a\n        port: 99999\n", "line 6: " },
        { "version: 1\nnetwork_policies:\n  x:\n    endpoints:\n      - host: a\n        prot: rest\n        port: 1\n",
          "line 6: network_policies.x.endpoints[0]: unknown key \"prot\"" },
        { "version: 1\nversion: 1\n", "line 2: duplicate key \"version\"" },
        { "a: &x [1]\nb: *x\n", "aliases are not supported" },
        { "version: 1\n  bad: indent\n", "invalid YAML" },
        { "", "expected a single YAML document" },
        { "---\nversion: 1\n---\nversion: 1\n", "single YAML document" },
};

TEST(invalid_policies_name_field_and_line) {
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(policy_freep) Policy *p = NULL;
                _cleanup_free_ char *err = NULL;
                int r;

                r = policy_parse(bad[i].text, strlen(bad[i].text), &p, &err);
                if (r != -EINVAL || p)
                        TEST_FAIL_AT("case %zu: expected -EINVAL, got %d", i, r);
                if (!err || !strstr(err, bad[i].expect))
                        TEST_FAIL_AT("case %zu: error \"%s\" lacks \"%s\"", i, strna(err), bad[i].expect);
        }
}

TEST(seccomp_sections) {
        static const struct {
                const char *text;
                bool enabled;
                PolicySeccompProfile profile;
                size_t n_deny;
        } good[] = {
                { "version: 1\n", false, POLICY_SECCOMP_PROFILE_BASELINE, 0 },
                { "version: 1\nprocess: {}\n", false, POLICY_SECCOMP_PROFILE_BASELINE, 0 },
                { "version: 1\nprocess: {run_as_user: sandbox, run_as_group: sandbox}\n", false,
                  POLICY_SECCOMP_PROFILE_BASELINE, 0 },
                { "version: 1\nprocess: {seccomp: null}\n", false, POLICY_SECCOMP_PROFILE_BASELINE, 0 },
                { "version: 1\nprocess: {seccomp: {}}\n", true, POLICY_SECCOMP_PROFILE_BASELINE, 0 },
                { "version: 1\nprocess:\n  seccomp:\n    profile: baseline\n    deny: [personality, ptrace]\n", true,
                  POLICY_SECCOMP_PROFILE_BASELINE, 2 },
                /* duplicates are dropped; "umount" exists on other architectures only: accepted */
                { "{\"version\": 1, \"process\": {\"seccomp\": {\"profile\": \"none\", \"deny\": [\"mkdir\", \"mkdir\", \"umount\"]}}}",
                  true, POLICY_SECCOMP_PROFILE_NONE, 2 },
                { "{\"version\": 1, \"process\": {\"seccomp\": {\"profile\": \"none\", \"deny\": []}}}", true,
                  POLICY_SECCOMP_PROFILE_NONE, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_(policy_freep) Policy *p = NULL;
                _cleanup_free_ char *err = NULL;
                int r = policy_parse(good[i].text, strlen(good[i].text), &p, &err);

                if (r < 0)
                        TEST_FAIL_AT("case %zu: %s", i, strna(err));
                if (p->seccomp.enabled != good[i].enabled || strv_length(p->seccomp.deny) != good[i].n_deny ||
                    (good[i].enabled && p->seccomp.profile != good[i].profile))
                        TEST_FAIL_AT("case %zu: enabled %d profile %d deny %zu", i, p->seccomp.enabled,
                                     p->seccomp.profile, strv_length(p->seccomp.deny));
        }
}

TEST(syscall_names) {
        ASSERT_TRUE(policy_syscall_name_valid("ptrace"));
        ASSERT_TRUE(policy_syscall_name_valid("io_uring_setup"));
        ASSERT_TRUE(policy_syscall_name_valid("umount")); /* another architecture's */
        ASSERT_FALSE(policy_syscall_name_valid("ptrace2"));
        ASSERT_FALSE(policy_syscall_name_valid(""));
        ASSERT_FALSE(policy_syscall_name_valid(NULL));
        ASSERT_FALSE(policy_syscall_name_valid("Ptrace"));
        ASSERT_FALSE(policy_syscall_name_valid("a-b"));
        ASSERT_FALSE(policy_syscall_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

TEST(too_big) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_free_ char *err = NULL, *big = malloc(POLICY_MAX_BYTES + 2);

        ASSERT_NOT_NULL(big);
        memset(big, ' ', POLICY_MAX_BYTES + 1);
        big[POLICY_MAX_BYTES + 1] = 0;
        ASSERT_ERROR(policy_parse(big, POLICY_MAX_BYTES + 1, &p, &err), EFBIG);
}

TEST(empty_network_policies_deny_all) {
        _cleanup_(policy_freep) Policy *p = NULL;
        PolicyRequest r = { .host = "example.com", .port = 443 };
        PolicyDecision d;

        ASSERT_OK(policy_parse("version: 1\n", 11, &p, NULL));
        ASSERT_EQ(p->n_entries, 0);
        ASSERT_OK(policy_check(p, &r, &d));
        ASSERT_FALSE(d.allowed);
}

TEST(enum_tables) {
        ASSERT_STREQ(policy_access_to_string(POLICY_ACCESS_READ_ONLY), "read-only");
        ASSERT_EQ(policy_access_from_string("read-write"), POLICY_ACCESS_READ_WRITE);
        ASSERT_EQ(policy_enforcement_from_string("audit"), POLICY_ENFORCEMENT_AUDIT);
        ASSERT_EQ(policy_tls_from_string("skip"), POLICY_TLS_SKIP);
        ASSERT_EQ(policy_protocol_from_string("grpc"), -EINVAL);
        ASSERT_EQ(policy_seccomp_profile_from_string("baseline"), POLICY_SECCOMP_PROFILE_BASELINE);
        ASSERT_STREQ(policy_seccomp_profile_to_string(POLICY_SECCOMP_PROFILE_NONE), "none");
}

DEFINE_TEST_MAIN();
