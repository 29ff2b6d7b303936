/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>

#include "alloc-util.h"
#include "policy.h"
#include "string-util.h"
#include "tests.h"

static const char policy_json[] =
        "{\"version\": 1, \"network_policies\": {"
        " \"github\": {\"name\": \"GitHub\", \"endpoints\": ["
        "   {\"host\": \"github.com\", \"port\": 443},"
        "   {\"host\": \"api.github.com\", \"ports\": [443, 8443], \"protocol\": \"rest\", \"access\": \"read-only\"},"
        "   {\"host\": \"*.githubusercontent.com\", \"port\": 443}]},"
        " \"pypi\": {\"name\": \"PyPI\", \"endpoints\": ["
        "   {\"host\": \"**.pythonhosted.org\", \"port\": 443},"
        "   {\"host\": \"pypi.org\", \"port\": 80, \"protocol\": \"rest\", \"rules\": ["
        "      {\"allow\": {\"method\": \"GET\", \"path\": \"/simple/**\"}},"
        "      {\"allow\": {\"method\": [\"POST\", \"PUT\"], \"path\": \"/upload/*/files\"}},"
        "      {\"allow\": {\"method\": \"GET\", \"path\": \"/search\", \"query\": {\"q\": \"req*\"}}}],"
        "    \"deny_rules\": [{\"method\": \"*\", \"path\": \"/simple/evil/**\"}]}]},"
        " \"rw\": {\"endpoints\": [{\"host\": \"rw.example\", \"port\": 80, \"protocol\": \"rest\", \"access\": \"read-write\"},"
        "   {\"host\": \"full.example\", \"port\": 80, \"protocol\": \"rest\", \"access\": \"full\"}]},"
        " \"audit\": {\"endpoints\": [{\"host\": \"audit.example\", \"port\": 80, \"protocol\": \"rest\","
        "   \"enforcement\": \"audit\", \"rules\": [{\"allow\": {\"method\": \"GET\", \"path\": \"/ok\"}}]}]},"
        " \"both\": {\"endpoints\": [{\"host\": \"mixed.example\", \"port\": 80},"
        "   {\"host\": \"mixed.example\", \"port\": 80, \"protocol\": \"rest\", \"access\": \"full\","
        "    \"deny_rules\": [{\"path\": \"/admin/**\"}]}]},"
        " \"local\": {\"endpoints\": [{\"host\": \"127.0.0.1\", \"port\": 18080, \"allowed_ips\": [\"127.0.0.0/8\"]}]}"
        "}}";

typedef struct Case {
        const char *host;
        uint16_t port;
        const char *method;
        const char *path;
        const char *query;
        bool allowed;
        bool audit;
        const char *policy; /* expected matched policy id or NULL */
        const char *rule;   /* expected rule or NULL to skip */
} Case;

static const Case cases[] = {
        /* L4: exact hosts, case, ports */
        { "github.com", 443, NULL, NULL, NULL, true, false, "github", "endpoints[0]" },
        { "GitHub.COM", 443, NULL, NULL, NULL, true, false, "github", NULL },
        { "github.com.", 443, NULL, NULL, NULL, true, false, "github", NULL },
        { "github.com", 80, NULL, NULL, NULL, false, false, NULL, NULL },
        { "gist.github.com", 443, NULL, NULL, NULL, false, false, NULL, NULL },
        { "github.com.evil.org", 443, NULL, NULL, NULL, false, false, NULL, NULL },
        { "evilgithub.com", 443, NULL, NULL, NULL, false, false, NULL, NULL },
        { "api.github.com", 8443, NULL, NULL, NULL, true, false, "github", "endpoints[1]" },
        { "api.github.com", 8080, NULL, NULL, NULL, false, false, NULL, NULL },
        /* single-label wildcard */
        { "raw.githubusercontent.com", 443, NULL, NULL, NULL, true, false, "github", "endpoints[2]" },
        { "a.b.githubusercontent.com", 443, NULL, NULL, NULL, false, false, NULL, NULL },
        { "githubusercontent.com", 443, NULL, NULL, NULL, false, false, NULL, NULL },
        /* any-depth wildcard */
        { "files.pythonhosted.org", 443, NULL, NULL, NULL, true, false, "pypi", NULL },
        { "a.b.c.pythonhosted.org", 443, NULL, NULL, NULL, true, false, "pypi", NULL },
        { "pythonhosted.org", 443, NULL, NULL, NULL, false, false, NULL, NULL },
        { "xpythonhosted.org", 443, NULL, NULL, NULL, false, false, NULL, NULL },
        /* nothing configured */
        { "example.com", 443, NULL, NULL, NULL, false, false, NULL, NULL },
        /* L7 access presets */
        { "api.github.com", 443, "GET", "/repos/x", NULL, true, false, "github", "endpoints[1].access:read-only" },
        { "api.github.com", 443, "HEAD", "/", NULL, true, false, "github", NULL },
        { "api.github.com", 443, "POST", "/repos/x", NULL, false, false, "github", "endpoints[1].access:read-only" },
        { "api.github.com", 443, "DELETE", "/repos/x", NULL, false, false, "github", NULL },
        { "rw.example", 80, "POST", "/x", NULL, true, false, "rw", NULL },
        { "rw.example", 80, "PATCH", "/x", NULL, true, false, "rw", NULL },
        { "rw.example", 80, "DELETE", "/x", NULL, false, false, "rw", NULL },
        { "full.example", 80, "DELETE", "/x", NULL, true, false, "rw", NULL },
        /* L7 rules: path globs and methods */
        { "pypi.org", 80, "GET", "/simple/requests/", NULL, true, false, "pypi", "endpoints[1].rules[0]" },
        { "pypi.org", 80, "GET", "/simple", NULL, true, false, "pypi", NULL },
        { "pypi.org", 80, "GET", "/simplex", NULL, false, false, "pypi", "endpoints[1].rules" },
        { "pypi.org", 80, "POST", "/simple/requests/", NULL, false, false, "pypi", NULL },
        { "pypi.org", 80, "POST", "/upload/pkg/files", NULL, true, false, "pypi", "endpoints[1].rules[1]" },
        { "pypi.org", 80, "PUT", "/upload/pkg/files", NULL, true, false, "pypi", NULL },
        { "pypi.org", 80, "POST", "/upload/a/b/files", NULL, false, false, "pypi", NULL },
        { "pypi.org", 80, "POST", "/upload//files", NULL, false, false, NULL, NULL },
        /* deny beats allow */
        { "pypi.org", 80, "GET", "/simple/evil/x", NULL, false, false, "pypi", "endpoints[1].deny_rules[0]" },
        { "mixed.example", 80, "GET", "/admin/users", NULL, false, false, "both", "endpoints[1].deny_rules[0]" },
        { "mixed.example", 80, "GET", "/public", NULL, true, false, "both", NULL },
        /* query */
        { "pypi.org", 80, "GET", "/search", "q=requests", true, false, "pypi", "endpoints[1].rules[2]" },
        { "pypi.org", 80, "GET", "/search", "page=2&q=req%75ests", true, false, "pypi", NULL },
        { "pypi.org", 80, "GET", "/search", "q=flask", false, false, "pypi", NULL },
        { "pypi.org", 80, "GET", "/search", NULL, false, false, "pypi", NULL },
        { "pypi.org", 80, "GET", "/search", "q=%zz", false, false, "pypi", NULL },
        /* non-canonical paths are refused */
        { "pypi.org", 80, "GET", "/simple/../admin", NULL, false, false, NULL, NULL },
        { "pypi.org", 80, "GET", "/simple/%2e%2e/admin", NULL, false, false, NULL, NULL },
        { "pypi.org", 80, "GET", "/simple%2Fevil", NULL, false, false, NULL, NULL },
        /* audit mode lets denials through, flagged */
        { "audit.example", 80, "GET", "/ok", NULL, true, false, "audit", NULL },
        { "audit.example", 80, "POST", "/ok", NULL, true, true, "audit", NULL },
        /* L4 endpoint seen at L7: any method */
        { "github.com", 443, "DELETE", "/x", NULL, true, false, "github", "endpoints[0].host" },
        /* IP literal endpoints */
        { "127.0.0.1", 18080, NULL, NULL, NULL, true, false, "local", NULL },
        { "[::1]", 18080, NULL, NULL, NULL, false, false, NULL, NULL },
};

TEST(decision_table) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_free_ char *err = NULL;

        ASSERT_OK(policy_parse(policy_json, strlen(policy_json), &p, &err));
        ASSERT_TRUE(ELEMENTSOF(cases) >= 40);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const Case *c = &cases[i];
                PolicyRequest req = { .host = c->host, .port = c->port, .method = c->method, .path = c->path,
                                      .query = c->query };
                PolicyDecision d;

                ASSERT_OK(policy_check(p, &req, &d));
                if (d.allowed != c->allowed || d.audit != c->audit)
                        TEST_FAIL_AT("case %zu (%s:%u %s %s): allowed=%d audit=%d reason=%s", i, c->host, c->port,
                                     strna(c->method), strna(c->path), d.allowed, d.audit, d.reason);
                if (c->policy && (!d.entry || !streq(d.entry->id, c->policy)))
                        TEST_FAIL_AT("case %zu: policy %s, expected %s", i, d.entry ? d.entry->id : "(none)", c->policy);
                if (!c->policy && !c->allowed && d.entry && !c->method)
                        TEST_FAIL_AT("case %zu: unexpected policy %s", i, d.entry->id);
                if (c->rule && !streq(d.rule, c->rule))
                        TEST_FAIL_AT("case %zu: rule \"%s\", expected \"%s\"", i, d.rule, c->rule);
                ASSERT_NOT_NULL(d.reason);
        }
}

TEST(layers) {
        _cleanup_(policy_freep) Policy *p = NULL;
        PolicyRequest l4 = { .host = "nowhere.example", .port = 443 };
        PolicyRequest l7 = { .host = "api.github.com", .port = 443, .method = "POST", .path = "/" };
        PolicyRequest l7_nohost = { .host = "nowhere.example", .port = 80, .method = "GET", .path = "/" };
        PolicyDecision d;

        ASSERT_OK(policy_parse(policy_json, strlen(policy_json), &p, NULL));
        ASSERT_OK(policy_check(p, &l4, &d));
        ASSERT_EQ(d.layer, POLICY_LAYER_L4);
        ASSERT_OK(policy_check(p, &l7, &d));
        ASSERT_EQ(d.layer, POLICY_LAYER_L7);
        ASSERT_FALSE(d.allowed);
        /* No endpoint for the destination at all: that is an L4 denial even for plain HTTP. */
        ASSERT_OK(policy_check(p, &l7_nohost, &d));
        ASSERT_EQ(d.layer, POLICY_LAYER_L4);
        ASSERT_STREQ(policy_layer_to_string(d.layer), "l4");
}

TEST(null_policy_denies_everything) {
        PolicyRequest r = { .host = "github.com", .port = 443 };
        PolicyDecision d;

        ASSERT_OK(policy_check(NULL, &r, &d));
        ASSERT_FALSE(d.allowed);
        ASSERT_NULL(d.entry);
}

TEST(bad_requests) {
        PolicyRequest r = { .host = "", .port = 443 };
        PolicyDecision d;

        ASSERT_ERROR(policy_check(NULL, &r, &d), EINVAL);
        r.host = "a b";
        ASSERT_ERROR(policy_check(NULL, &r, &d), EINVAL);
        r.host = "ok.example";
        r.port = 0;
        ASSERT_ERROR(policy_check(NULL, &r, &d), EINVAL);
        r.port = 80;
        r.method = "get";
        r.path = "/";
        ASSERT_ERROR(policy_check(NULL, &r, &d), EINVAL);
}

TEST(glob) {
        ASSERT_TRUE(policy_glob_match("/a/*", "/a/b"));
        ASSERT_FALSE(policy_glob_match("/a/*", "/a/b/c"));
        ASSERT_TRUE(policy_glob_match("/a/**", "/a/b/c"));
        ASSERT_TRUE(policy_glob_match("/a/**", "/a"));
        ASSERT_TRUE(policy_glob_match("/a/**/z", "/a/b/c/z"));
        ASSERT_TRUE(policy_glob_match("/a/**/z", "/a/z"));
        ASSERT_FALSE(policy_glob_match("/a/**/z", "/a/b/c/y"));
        ASSERT_TRUE(policy_glob_match("/v*/items", "/v1/items"));
        ASSERT_FALSE(policy_glob_match("/v*/items", "/v1/x/items"));
        ASSERT_TRUE(policy_glob_match("**", "/anything/at/all"));
        ASSERT_TRUE(policy_glob_match("/*.json", "/x.json"));
        ASSERT_FALSE(policy_glob_match("/*.json", "/x.jsonp"));
        /* Many stars stay fast (no exponential backtracking). */
        ASSERT_FALSE(policy_glob_match("/**/**/**/**/**/**/**/**/x",
                                       "/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/y"));
}

static const struct sockaddr *SA(const char *s) {
        static struct sockaddr_storage ring[4];
        static unsigned next;
        struct sockaddr_storage *p = &ring[next++ % ELEMENTSOF(ring)], ss = {};

        if (inet_pton(AF_INET, s, &((struct sockaddr_in *) &ss)->sin_addr) == 1)
                ss.ss_family = AF_INET;
        else if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1)
                ss.ss_family = AF_INET6;
        *p = ss;
        return (const struct sockaddr *) p;
}

TEST(ssrf) {
        _cleanup_(policy_freep) Policy *p = NULL;
        PolicyCidr own;
        const PolicyEndpoint *gh, *local;

        ASSERT_OK(policy_parse(policy_json, strlen(policy_json), &p, NULL));
        gh = &p->entries[0].endpoints[0];
        local = &p->entries[5].endpoints[0];
        ASSERT_OK(policy_cidr_parse("10.213.0.0/28", &own));
        ASSERT_TRUE(policy_address_is_internal(SA("127.0.0.1"), NULL, 0));
        ASSERT_TRUE(policy_address_is_internal(SA("169.254.169.254"), NULL, 0));
        ASSERT_TRUE(policy_address_is_internal(SA("::1"), NULL, 0));
        ASSERT_TRUE(policy_address_is_internal(SA("::ffff:127.0.0.1"), NULL, 0));
        ASSERT_TRUE(policy_address_is_internal(SA("fe80::1"), NULL, 0));
        ASSERT_TRUE(policy_address_is_internal(SA("fd00:ec2::254"), NULL, 0));
        ASSERT_TRUE(policy_address_is_internal(SA("0.0.0.0"), NULL, 0));
        ASSERT_TRUE(policy_address_is_internal(SA("10.213.0.3"), &own, 1));
        ASSERT_FALSE(policy_address_is_internal(SA("10.213.0.17"), &own, 1));
        ASSERT_FALSE(policy_address_is_internal(SA("140.82.121.4"), &own, 1));
        ASSERT_FALSE(policy_endpoint_allows_address(gh, SA("127.0.0.1"), NULL, 0));
        ASSERT_FALSE(policy_endpoint_allows_address(gh, SA("169.254.169.254"), NULL, 0));
        ASSERT_TRUE(policy_endpoint_allows_address(gh, SA("140.82.121.4"), NULL, 0));
        ASSERT_TRUE(policy_endpoint_allows_address(local, SA("127.0.0.1"), NULL, 0));
        ASSERT_TRUE(policy_endpoint_allows_address(local, SA("::ffff:127.0.0.2"), NULL, 0));
        ASSERT_FALSE(policy_endpoint_allows_address(local, SA("169.254.169.254"), NULL, 0));
}

TEST(cidr_parse) {
        PolicyCidr c;

        ASSERT_OK(policy_cidr_parse("10.0.0.0/8", &c));
        ASSERT_EQ(c.prefixlen, 8);
        ASSERT_TRUE(policy_cidr_contains(&c, SA("10.255.1.1")));
        ASSERT_FALSE(policy_cidr_contains(&c, SA("11.0.0.1")));
        ASSERT_OK(policy_cidr_parse("2001:db8::/32", &c));
        ASSERT_TRUE(policy_cidr_contains(&c, SA("2001:db8::1")));
        ASSERT_OK(policy_cidr_parse("192.168.1.7", &c));
        ASSERT_EQ(c.prefixlen, 32);
        ASSERT_OK(policy_cidr_parse("10.1.2.0/23", &c));
        ASSERT_TRUE(policy_cidr_contains(&c, SA("10.1.3.255")));
        ASSERT_FALSE(policy_cidr_contains(&c, SA("10.1.4.0")));
        ASSERT_ERROR(policy_cidr_parse("10.0.0.0/33", &c), EINVAL);
        ASSERT_ERROR(policy_cidr_parse("10.0.0/8", &c), EINVAL);
        ASSERT_ERROR(policy_cidr_parse("example.com", &c), EINVAL);
        ASSERT_ERROR(policy_cidr_parse("", &c), EINVAL);
}

DEFINE_TEST_MAIN();
