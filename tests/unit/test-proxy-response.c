/* SPDX-License-Identifier: Apache-2.0 */
#include "alloc-util.h"
#include "json-util.h"
#include "proxy-log.h"
#include "proxy-response.h"
#include "tests.h"

TEST(denied_response) {
        ProxyDenial d = { .layer = POLICY_LAYER_L7, .host = "api.github.com", .port = 443, .method = "POST",
                          .path = "/repos", .policy = "github", .rule = "endpoints[1].access:read-only",
                          .detail = "method not allowed by access preset" };
        _cleanup_free_ char *r = NULL, *body = NULL;
        _cleanup_json_ cJSON *j = NULL;
        size_t n;

        ASSERT_OK(proxy_response_denied(&d, true, &r, &n));
        ASSERT_EQ(n, strlen(r));
        ASSERT_TRUE(strncmp(r, "HTTP/1.1 403 Forbidden\r\n", 24) == 0);
        ASSERT_CONTAINS(r, "X-OpenShell-Policy: denied\r\n");
        ASSERT_CONTAINS(r, "Content-Type: application/json\r\n");
        ASSERT_NOT_CONTAINS(r, "Connection: close");
        body = strdup(strstr(r, "\r\n\r\n") + 4);
        ASSERT_OK(json_parse(body, strlen(body), &j, NULL, NULL));
        ASSERT_STREQ(cJSON_GetObjectItem(j, "error")->valuestring, "policy_denied");
        ASSERT_STREQ(cJSON_GetObjectItem(j, "layer")->valuestring, "l7");
        ASSERT_EQ(cJSON_GetObjectItem(j, "port")->valuedouble, 443);
        ASSERT_STREQ(cJSON_GetObjectItem(j, "rule")->valuestring, "endpoints[1].access:read-only");
        /* Content-Length matches the body. */
        ASSERT_CONTAINS(r, "Content-Length: ");
        ASSERT_EQ(strtoul(strstr(r, "Content-Length: ") + 16, NULL, 10), strlen(body));
}

TEST(denied_connect_has_null_path_and_closes) {
        ProxyDenial d = { .layer = POLICY_LAYER_L4, .host = "example.com", .port = 443, .method = "CONNECT",
                          .detail = "no policy allows this destination" };
        _cleanup_free_ char *r = NULL;
        size_t n;

        ASSERT_OK(proxy_response_denied(&d, false, &r, &n));
        ASSERT_CONTAINS(r, "Connection: close\r\n");
        ASSERT_CONTAINS(r, "\"path\":null,\"policy\":null,\"rule\":null");
}

TEST(json_escapes_hostile_values) {
        ProxyDenial d = { .layer = POLICY_LAYER_L7, .host = "h", .port = 80, .method = "GET",
                          .path = "/\"x\"\n<script>", .detail = "d" };
        _cleanup_free_ char *s = NULL;
        _cleanup_json_ cJSON *j = NULL;

        ASSERT_OK(proxy_denial_json(&d, &s));
        ASSERT_NOT_CONTAINS(s, "\n");
        ASSERT_OK(json_parse(s, strlen(s), &j, NULL, NULL));
        ASSERT_STREQ(cJSON_GetObjectItem(j, "path")->valuestring, "/\"x\"\n<script>");
}

TEST(error_response) {
        _cleanup_free_ char *r = NULL;
        size_t n;

        ASSERT_OK(proxy_response_error(431, "header_too_large", "too big", &r, &n));
        ASSERT_TRUE(strncmp(r, "HTTP/1.1 431 Request Header Fields Too Large\r\n", 46) == 0);
        ASSERT_CONTAINS(r, "Connection: close");
        ASSERT_CONTAINS(r, "{\"error\":\"header_too_large\",\"detail\":\"too big\"}");
}

TEST(log_line) {
        ProxyLogEntry e = { .sandbox = "demo", .client = "10.213.0.3", .allowed = true, .layer = POLICY_LAYER_L7,
                            .method = "GET", .host = "pypi.org", .port = 443, .path = "/simple/x?token=SECRET",
                            .policy = "pypi", .rule = "endpoints[0].rules[0]", .reason = "allowed by rule",
                            .status = 200, .bytes_up = 10, .bytes_down = 20, .duration = 1500 * USEC_PER_MSEC };
        _cleanup_free_ char *s = NULL, *s2 = NULL;

        ASSERT_OK(proxy_log_format(&e, &s));
        ASSERT_STREQ(s, "decision=allowed layer=l7 sandbox=demo client=10.213.0.3 method=GET host=pypi.org port=443 "
                        "path=/simple/x policy=pypi rule=endpoints[0].rules[0] reason=\"allowed by rule\" status=200 "
                        "bytes_up=10 bytes_down=20 duration_ms=1500");
        e.allowed = false;
        e.path = "/a b\n\"c\"";
        e.policy = NULL;
        ASSERT_OK(proxy_log_format(&e, &s2));
        ASSERT_CONTAINS(s2, "decision=denied");
        ASSERT_CONTAINS(s2, "path=\"/a b\\x0a\\\"c\\\"\"");
        ASSERT_CONTAINS(s2, "policy=-");
        ASSERT_NOT_CONTAINS(s2, "\n");
}

DEFINE_TEST_MAIN();
