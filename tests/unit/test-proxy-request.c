/* SPDX-License-Identifier: Apache-2.0 */
#include "alloc-util.h"
#include "http-message.h"
#include "proxy-request.h"
#include "tests.h"

typedef struct UriCase {
        const char *target;
        int ret;
        const char *authority, *host, *origin;
        uint16_t port;
} UriCase;

static const UriCase uri_cases[] = {
        { "http://example.com/a/b?c=d", 0, "example.com", "example.com", "/a/b?c=d", 80 },
        { "HTTP://Example.com", 0, "Example.com", "Example.com", "/", 80 },
        { "http://example.com:8080?q", 0, "example.com:8080", "example.com", "/?q", 8080 },
        { "http://example.com/p#frag", 0, "example.com", "example.com", "/p", 80 },
        { "http://[::1]:81/x", 0, "[::1]:81", "::1", "/x", 81 },
        { "http://[::1]/x", 0, "[::1]", "::1", "/x", 80 },
        { "http://10.0.0.1:65535/", 0, "10.0.0.1:65535", "10.0.0.1", "/", 65535 },
        { "https://example.com/", -EPROTONOSUPPORT, NULL, NULL, NULL, 0 },
        { "ftp://example.com/", -EPROTONOSUPPORT, NULL, NULL, NULL, 0 },
        { "/origin/form", -EINVAL, NULL, NULL, NULL, 0 },
        { "http:///nohost", -EINVAL, NULL, NULL, NULL, 0 },
        { "http://user:pw@example.com/", -EINVAL, NULL, NULL, NULL, 0 },
        { "http://example.com:0/", -EINVAL, NULL, NULL, NULL, 0 },
        { "http://example.com:99999/", -EINVAL, NULL, NULL, NULL, 0 },
        { "http://example.com:x/", -EINVAL, NULL, NULL, NULL, 0 },
        /* Found by fuzz-proxy-request: an authority "[" made the parser write before its buffer, and an
         * unclosed or stray bracket cut a character off the host or kept the bracket in it. */
        { "http://[/x", -EINVAL, NULL, NULL, NULL, 0 },
        { "http://[", -EINVAL, NULL, NULL, NULL, 0 },
        { "http://[]/", -EINVAL, NULL, NULL, NULL, 0 },
        { "http://[abc/", -EINVAL, NULL, NULL, NULL, 0 },
        { "http://abc]/", -EINVAL, NULL, NULL, NULL, 0 },
        { "http://a]:80/", -EINVAL, NULL, NULL, NULL, 0 },
        { "http://[::1]x/", -EINVAL, NULL, NULL, NULL, 0 },
};

TEST(parse_absolute_uri) {
        for (size_t i = 0; i < ELEMENTSOF(uri_cases); i++) {
                const UriCase *u = &uri_cases[i];
                _cleanup_free_ char *authority = NULL, *host = NULL, *origin = NULL;
                uint16_t port = 0;
                int r = proxy_parse_absolute_uri(u->target, &authority, &host, &port, &origin);

                if (r != u->ret)
                        TEST_FAIL_AT("case %zu (%s): %d, expected %d", i, u->target, r, u->ret);
                if (r < 0)
                        continue;
                ASSERT_STREQ(authority, u->authority);
                ASSERT_STREQ(host, u->host);
                ASSERT_STREQ(origin, u->origin);
                ASSERT_EQ(port, u->port);
        }
}

TEST(upstream_head) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        _cleanup_free_ char *out = NULL;
        const char *req = "POST http://h:81/x HTTP/1.1\r\nHost: evil\r\nProxy-Connection: keep-alive\r\n"
                          "Proxy-Authorization: Basic Zm9v\r\nTransfer-Encoding: chunked\r\nUpgrade: h2c\r\n"
                          "Connection: Upgrade, X-Hop\r\nX-Hop: 1\r\nAccept: */*\r\n\r\n";
        size_t n;

        ASSERT_OK(http_parser_new(HTTP_PARSER_REQUEST, NULL, &p));
        ASSERT_EQ(http_parser_feed(p, req, strlen(req), &n), HTTP_PARSE_HEAD);
        ASSERT_OK(proxy_format_upstream_head(http_parser_message(p), "/x", "h:81", &out, &n));
        ASSERT_STREQ(out, "POST /x HTTP/1.1\r\nHost: h:81\r\nTransfer-Encoding: chunked\r\nAccept: */*\r\n"
                          "Via: 1.1 openshell-proxy\r\n\r\n");
}

TEST(upstream_head_http10_keepalive) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        _cleanup_free_ char *out = NULL;
        const char *req = "GET http://h/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        size_t n;

        ASSERT_OK(http_parser_new(HTTP_PARSER_REQUEST, NULL, &p));
        ASSERT_EQ(http_parser_feed(p, req, strlen(req), &n), HTTP_PARSE_HEAD);
        ASSERT_OK(proxy_format_upstream_head(http_parser_message(p), "/", "h", &out, &n));
        ASSERT_CONTAINS(out, "GET / HTTP/1.0\r\n");
        ASSERT_CONTAINS(out, "Connection: keep-alive\r\n");
}

DEFINE_TEST_MAIN();
