/* SPDX-License-Identifier: Apache-2.0 */
#include "alloc-util.h"
#include "http-message.h"
#include "string-util.h"
#include "tests.h"

static int feed_all(HttpParser *p, const char *s, size_t *ret_consumed) {
        return http_parser_feed(p, s, strlen(s), ret_consumed);
}

TEST(request_head_simple) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        const char *req = "GET http://example.com/a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-A:  v  \r\n\r\n";
        HttpMessage *m;
        size_t n;

        ASSERT_OK(http_parser_new(HTTP_PARSER_REQUEST, NULL, &p));
        ASSERT_EQ(feed_all(p, req, &n), HTTP_PARSE_HEAD);
        ASSERT_EQ(n, strlen(req));
        m = http_parser_message(p);
        ASSERT_NOT_NULL(m);
        ASSERT_STREQ(m->method, "GET");
        ASSERT_STREQ(m->target, "http://example.com/a?b=1");
        ASSERT_EQ(m->version_major, 1);
        ASSERT_EQ(m->version_minor, 1);
        ASSERT_EQ(m->n_headers, 2);
        ASSERT_STREQ(http_message_header(m, "host"), "example.com");
        ASSERT_STREQ(http_message_header(m, "X-A"), "v");
        ASSERT_TRUE(m->keep_alive);
        ASSERT_FALSE(m->has_body);
        ASSERT_EQ(m->head_bytes, strlen(req));
}

TEST(request_byte_by_byte_and_pipelined) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        const char *req = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /y HTTP/1.0\r\n\r\n";
        size_t len = strlen(req), off = 0, n;
        int r = HTTP_PARSE_AGAIN;

        ASSERT_OK(http_parser_new(HTTP_PARSER_REQUEST, NULL, &p));
        while (r == HTTP_PARSE_AGAIN && off < len) {
                r = http_parser_feed(p, req + off, 1, &n);
                ASSERT_OK(r);
                off += n;
        }
        ASSERT_EQ(r, HTTP_PARSE_HEAD);
        ASSERT_STREQ(http_parser_message(p)->method, "POST");
        ASSERT_TRUE(http_parser_message(p)->has_body);
        ASSERT_EQ(http_parser_message(p)->content_length, 5);
        /* The body and the next request arrive together: the parser stops at the boundary. */
        ASSERT_EQ(http_parser_feed(p, req + off, len - off, &n), HTTP_PARSE_DONE);
        ASSERT_EQ(n, 5);
        off += n;
        http_parser_next(p);
        ASSERT_EQ(http_parser_feed(p, req + off, len - off, &n), HTTP_PARSE_HEAD);
        ASSERT_EQ(off + n, len);
        ASSERT_STREQ(http_parser_message(p)->target, "/y");
        ASSERT_FALSE(http_parser_message(p)->keep_alive);
}

TEST(chunked_request_body) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        const char *head = "PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        const char *body = "3\r\nabc\r\n0\r\n\r\n";
        size_t n;

        ASSERT_OK(http_parser_new(HTTP_PARSER_REQUEST, NULL, &p));
        ASSERT_EQ(feed_all(p, head, &n), HTTP_PARSE_HEAD);
        ASSERT_TRUE(http_parser_message(p)->chunked);
        ASSERT_EQ(http_parser_feed(p, body, 5, &n), HTTP_PARSE_AGAIN);
        ASSERT_EQ(n, 5);
        ASSERT_EQ(feed_all(p, body + 5, &n), HTTP_PARSE_DONE);
        ASSERT_EQ(n, strlen(body) - 5);
}

TEST(connect_request) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        const char *req = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01";
        size_t n;

        ASSERT_OK(http_parser_new(HTTP_PARSER_REQUEST, NULL, &p));
        ASSERT_EQ(feed_all(p, req, &n), HTTP_PARSE_HEAD);
        ASSERT_EQ(n, strlen(req) - 3);
        ASSERT_STREQ(http_parser_message(p)->method, "CONNECT");
        ASSERT_STREQ(http_parser_message(p)->target, "example.com:443");
        ASSERT_FALSE(http_parser_message(p)->has_body);
}

TEST(response_framing) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        const char *r1 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        const char *r2 = "HTTP/1.1 204 No Content\r\n\r\n";
        const char *r3 = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil eof";
        size_t n;

        ASSERT_OK(http_parser_new(HTTP_PARSER_RESPONSE, NULL, &p));
        ASSERT_EQ(feed_all(p, r1, &n), HTTP_PARSE_HEAD);
        ASSERT_EQ(http_parser_message(p)->status, 200);
        ASSERT_STREQ(http_parser_message(p)->reason, "OK");
        ASSERT_EQ(http_parser_feed(p, r1 + n, 2, &n), HTTP_PARSE_DONE);
        http_parser_next(p);
        ASSERT_EQ(feed_all(p, r2, &n), HTTP_PARSE_HEAD);
        ASSERT_FALSE(http_parser_message(p)->has_body);
        ASSERT_EQ(http_parser_feed(p, "", 0, &n), HTTP_PARSE_DONE);
        http_parser_next(p);
        ASSERT_EQ(feed_all(p, r3, &n), HTTP_PARSE_HEAD);
        ASSERT_TRUE(http_parser_message(p)->body_until_eof);
        ASSERT_FALSE(http_parser_message(p)->keep_alive);
        ASSERT_EQ(feed_all(p, r3 + n, &n), HTTP_PARSE_AGAIN);
        ASSERT_EQ(http_parser_finish(p), HTTP_PARSE_DONE);
}

TEST(response_to_head_request) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        size_t n, off;

        ASSERT_OK(http_parser_new(HTTP_PARSER_RESPONSE, NULL, &p));
        ASSERT_EQ(feed_all(p, r, &n), HTTP_PARSE_HEAD);
        http_parser_skip_body(p);
        ASSERT_EQ(http_parser_feed(p, r + n, strlen(r) - n, &off), HTTP_PARSE_DONE);
        ASSERT_EQ(off, 0);
        http_parser_next(p);
        ASSERT_EQ(feed_all(p, r + n, &off), HTTP_PARSE_HEAD);
        ASSERT_EQ(http_parser_message(p)->status, 404);
}

TEST(truncated_body_is_error) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
        size_t n;

        ASSERT_OK(http_parser_new(HTTP_PARSER_RESPONSE, NULL, &p));
        ASSERT_EQ(feed_all(p, r, &n), HTTP_PARSE_HEAD);
        ASSERT_EQ(feed_all(p, r + n, &n), HTTP_PARSE_AGAIN);
        ASSERT_ERROR(http_parser_finish(p), EBADMSG);
}

TEST(limit_header_bytes) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        HttpLimits l = { .max_header_bytes = 64, .max_headers = 10 };
        const char *ok = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        _cleanup_free_ char *big = NULL;
        size_t n;

        ASSERT_OK(http_parser_new(HTTP_PARSER_REQUEST, &l, &p));
        ASSERT_EQ(feed_all(p, ok, &n), HTTP_PARSE_HEAD);
        http_parser_next(p);
        big = strjoin("GET / HTTP/1.1\r\nX-Big: ", "0123456789012345678901234567890123456789012345678901234567890123",
                      "\r\n\r\n");
        ASSERT_ERROR(feed_all(p, big, &n), EMSGSIZE);
        /* Also when the head trickles in. */
        http_parser_next(p);
        ASSERT_EQ(http_parser_feed(p, big, 40, &n), HTTP_PARSE_AGAIN);
        ASSERT_ERROR(http_parser_feed(p, big + 40, 40, &n), EMSGSIZE);
}

TEST(limit_header_count) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        HttpLimits l = { .max_header_bytes = 4096, .max_headers = 3 };
        const char *three = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        const char *four = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
        size_t n;

        ASSERT_OK(http_parser_new(HTTP_PARSER_REQUEST, &l, &p));
        ASSERT_EQ(feed_all(p, three, &n), HTTP_PARSE_HEAD);
        http_parser_next(p);
        ASSERT_ERROR(feed_all(p, four, &n), EMSGSIZE);
}

TEST(bad_limits) {
        HttpParser *p = NULL;
        HttpLimits zero = { 0, 0 };
        HttpLimits huge = { .max_header_bytes = HTTP_MAX_HEADER_BYTES_MAX + 1, .max_headers = 1 };

        ASSERT_ERROR(http_parser_new(HTTP_PARSER_REQUEST, &zero, &p), EINVAL);
        ASSERT_ERROR(http_parser_new(HTTP_PARSER_REQUEST, &huge, &p), EINVAL);
        ASSERT_ERROR(http_parser_new(_HTTP_PARSER_KIND_INVALID, NULL, &p), EINVAL);
        ASSERT_NULL(p);
}

TEST(malformed) {
        static const char *const bad[] = {
                "GET / HTTP/1.1\r\nHost : a\r\n\r\n",          /* space before colon */
                "GET / HTTP/9.9\r\n\r\n",                      /* unknown version */
                "G@T / HTTP/1.1\r\n\r\n",                      /* bad method */
                "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n",
                "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  /* TLS ClientHello to a plain port */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(http_parser_freep) HttpParser *p = NULL;
                size_t n;
                int r;

                ASSERT_OK(http_parser_new(HTTP_PARSER_REQUEST, NULL, &p));
                r = http_parser_feed(p, bad[i], strlen(bad[i]) + (i == 5 ? 8 : 0), &n);
                if (r != -EBADMSG)
                        TEST_FAIL_AT("case %zu: got %d", i, r);
        }
}

TEST(obs_fold_never_forwards_line_breaks) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        const char *req = "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n";
        size_t n;
        int r;

        /* RFC 9112 5.2: reject, or replace the fold with SP; either way no CR/LF survives. */
        ASSERT_OK(http_parser_new(HTTP_PARSER_REQUEST, NULL, &p));
        r = feed_all(p, req, &n);
        if (r == HTTP_PARSE_HEAD)
                ASSERT_NULL(strpbrk(http_message_header(http_parser_message(p), "A"), "\r\n"));
        else
                ASSERT_EQ(r, -EBADMSG);
}

TEST(token_list_and_hop_by_hop) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        _cleanup_free_ char *out = NULL;
        const char *req = "GET http://h/p HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Secret\r\n"
                          "X-Secret: 1\r\nProxy-Authorization: Basic Zm9v\r\nTE: trailers\r\nAccept: */*\r\n\r\n";
        size_t n;

        ASSERT_TRUE(http_token_list_contains("close", "Close"));
        ASSERT_TRUE(http_token_list_contains(" a , b ,close ", "close"));
        ASSERT_FALSE(http_token_list_contains("closed", "close"));
        ASSERT_FALSE(http_token_list_contains("", "close"));
        ASSERT_OK(http_parser_new(HTTP_PARSER_REQUEST, NULL, &p));
        ASSERT_EQ(feed_all(p, req, &n), HTTP_PARSE_HEAD);
        ASSERT_OK(http_message_format_head(http_parser_message(p), "/p", true, "Via: 1.1 openshell\r\n", &out, &n));
        ASSERT_STREQ(out, "GET /p HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nVia: 1.1 openshell\r\n\r\n");
        ASSERT_EQ(n, strlen(out));
}

TEST(format_response) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        _cleanup_free_ char *out = NULL;
        const char *r = "HTTP/1.1 200 \r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5\r\n\r\n";
        size_t n;

        ASSERT_OK(http_parser_new(HTTP_PARSER_RESPONSE, NULL, &p));
        ASSERT_EQ(feed_all(p, r, &n), HTTP_PARSE_HEAD);
        ASSERT_OK(http_message_format_head(http_parser_message(p), NULL, true, NULL, &out, &n));
        ASSERT_STREQ(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        ASSERT_STREQ(http_status_reason(431), "Request Header Fields Too Large");
}

DEFINE_TEST_MAIN();
