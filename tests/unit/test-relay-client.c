/* SPDX-License-Identifier: Apache-2.0 */
#include <unistd.h>

#include "alloc-util.h"
#include "http-message.h"
#include "relay-client.h"
#include "string-util.h"
#include "tests.h"
#include "x509-util.h"

TEST(endpoint_parse) {
        RelayEndpoint e;

        ASSERT_OK(relay_endpoint_parse("https://10.213.0.2:8081", &e));
        ASSERT_TRUE(e.tls);
        ASSERT_STREQ(e.host, "10.213.0.2");
        ASSERT_EQ(e.port, 8081);
        ASSERT_OK(relay_endpoint_parse("http://host.openshell.internal/", &e));
        ASSERT_FALSE(e.tls);
        ASSERT_EQ(e.port, 80);
        ASSERT_OK(relay_endpoint_parse("https://[fd00::1]:17671", &e));
        ASSERT_STREQ(e.host, "fd00::1");
        ASSERT_EQ(e.port, 17671);
        ASSERT_OK(relay_endpoint_parse("https://gw", &e));
        ASSERT_EQ(e.port, 443);
}

TEST(endpoint_invalid) {
        RelayEndpoint e;
        const char *bad[] = { "", "ftp://h:1", "https://", "https://:1", "https://h:0", "https://h:65536", "https://h:x",
                              "https://h:1/path", "https://u@h:1", "https://[::1", "https://h:1?q", "h:1",
                              "https://h:123456789",
                              /* Found by fuzz-relay-proto: brackets around something that is no IPv6 address. */
                              "http://[/1]:1", "https://[gw]:1", "https://[]:1" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (relay_endpoint_parse(bad[i], &e) != -EINVAL)
                        TEST_FAIL_AT("accepted '%s'", bad[i]);
}

TEST(upgrade_request_and_response) {
        RelayEndpoint e = { .tls = true, .host = "fd00::1", .port = 1 };
        _cleanup_free_ char *req = relay_upgrade_request("GET", "/v1/sandboxes/demo/session", &e);
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        size_t n;

        ASSERT_CONTAINS(req, "GET /v1/sandboxes/demo/session HTTP/1.1\r\n");
        ASSERT_CONTAINS(req, "Host: [fd00::1]:1\r\n");
        ASSERT_CONTAINS(req, "Upgrade: openshell-relay/1\r\n");

        ASSERT_OK(http_parser_new(HTTP_PARSER_REQUEST, NULL, &p));
        ASSERT_EQ(http_parser_feed(p, req, strlen(req), &n), HTTP_PARSE_HEAD);
        ASSERT_TRUE(relay_upgrade_requested(http_parser_message(p)));
        p = http_parser_free(p);

        const char *ok = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: openshell-relay/1\r\n\r\n\x02";
        ASSERT_OK(http_parser_new(HTTP_PARSER_RESPONSE, NULL, &p));
        ASSERT_EQ(http_parser_feed(p, ok, strlen(ok), &n), HTTP_PARSE_HEAD);
        ASSERT_EQ(n, strlen(ok) - 1); /* the relay's first byte is left over */
        ASSERT_OK(relay_upgrade_check_response(http_parser_message(p)));
        p = http_parser_free(p);

        const char *refused = "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\n{}";
        ASSERT_OK(http_parser_new(HTTP_PARSER_RESPONSE, NULL, &p));
        ASSERT_EQ(http_parser_feed(p, refused, strlen(refused), &n), HTTP_PARSE_HEAD);
        ASSERT_ERROR(relay_upgrade_check_response(http_parser_message(p)), EPROTO);
        p = http_parser_free(p);

        const char *wrong = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
        ASSERT_OK(http_parser_new(HTTP_PARSER_RESPONSE, NULL, &p));
        ASSERT_EQ(http_parser_feed(p, wrong, strlen(wrong), &n), HTTP_PARSE_HEAD);
        ASSERT_ERROR(relay_upgrade_check_response(http_parser_message(p)), EPROTO);
}

TEST(client_context_missing_files) {
        SSL_CTX *ctx = NULL;

        ASSERT_ERROR(relay_client_context_new("/nonexistent/ca.crt", "/nonexistent/tls.crt", "/nonexistent/tls.key", &ctx),
                     ENOENT);
}

TEST(client_context_allows_write_retries_from_a_growing_buffer) {
        char dir[] = "/tmp/test-relay-client-XXXXXX";
        _cleanup_free_ char *ca = NULL, *crt = NULL, *key = NULL;
        EVP_PKEY *k = NULL;
        X509 *c = NULL;
        SSL_CTX *ctx = NULL;

        ASSERT_NOT_NULL(mkdtemp(dir));
        ASSERT_NOT_NULL(ca = strjoin(dir, "/ca.crt"));
        ASSERT_NOT_NULL(crt = strjoin(dir, "/tls.crt"));
        ASSERT_NOT_NULL(key = strjoin(dir, "/tls.key"));
        ASSERT_OK(x509_generate_key(&k));
        ASSERT_OK(x509_make_ca(k, "test", 1, &c));
        ASSERT_OK(x509_write_cert(ca, c));
        ASSERT_OK(x509_write_cert(crt, c));
        ASSERT_OK(x509_write_key(key, k));
        ASSERT_OK(relay_client_context_new(ca, crt, key, &ctx));
        /* The exec stdin path appends to its output buffer between an SSL_write() that wanted a retry
         * and the retry: both modes are needed or OpenSSL fails with "bad write retry". */
        ASSERT_TRUE((SSL_CTX_get_mode(ctx) & SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) != 0);
        ASSERT_TRUE((SSL_CTX_get_mode(ctx) & SSL_MODE_ENABLE_PARTIAL_WRITE) != 0);
        SSL_CTX_free(ctx);
        X509_free(c);
        EVP_PKEY_free(k);
        unlink(ca);
        unlink(crt);
        unlink(key);
        rmdir(dir);
}

DEFINE_TEST_MAIN();
