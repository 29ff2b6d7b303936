/* SPDX-License-Identifier: Apache-2.0 */
#include "alloc-util.h"
#include "proxy-gateway.h"
#include "string-util.h"
#include "tests.h"

TEST(request_heads) {
        _cleanup_free_ char *get = NULL, *watch = NULL, *creds = NULL, *inf = NULL;

        ASSERT_OK(gateway_request_format("10.214.0.1:17671", "demo", GATEWAY_POLICY, 0, &get));
        ASSERT_TRUE(startswith(get, "GET /v1/sandboxes/demo/policy HTTP/1.1\r\nHost: 10.214.0.1:17671\r\n"));
        ASSERT_TRUE(endswith(get, "\r\n\r\n"));
        ASSERT_OK(gateway_request_format("h:1", "demo", GATEWAY_POLICY, 7, &watch));
        ASSERT_TRUE(startswith(watch, "GET /v1/sandboxes/demo/policy?watch=7&timeout=30s HTTP/1.1\r\n"));
        ASSERT_OK(gateway_request_format("h:1", "demo", GATEWAY_CREDENTIALS, 7, &creds));
        ASSERT_TRUE(startswith(creds, "GET /v1/sandboxes/demo/credentials HTTP/1.1\r\n"));
        ASSERT_OK(gateway_request_format("h:1", "demo", GATEWAY_INFERENCE, 0, &inf));
        ASSERT_TRUE(startswith(inf, "GET /v1/sandboxes/demo/inference HTTP/1.1\r\n"));
        ASSERT_ERROR(gateway_request_format("h:1", "demo", _GATEWAY_RESOURCE_MAX, 0, &inf), EINVAL);
        ASSERT_ERROR(gateway_request_format("h:1", NULL, GATEWAY_POLICY, 0, &inf), EINVAL);
}

TEST(backoff_grows_and_caps) {
        usec_t b = 0;

        b = gateway_backoff_next(b);
        ASSERT_EQ(b, PROXY_GATEWAY_BACKOFF_MIN_USEC);
        b = gateway_backoff_next(b);
        ASSERT_EQ(b, 2 * PROXY_GATEWAY_BACKOFF_MIN_USEC);
        for (int i = 0; i < 20; i++)
                b = gateway_backoff_next(b);
        ASSERT_EQ(b, PROXY_GATEWAY_BACKOFF_MAX_USEC);
}

TEST(policy_revision) {
        _cleanup_json_ cJSON *ok = cJSON_Parse("{\"name\":\"d\",\"revision\":3,\"changed\":true,\"policy\":{\"version\":1}}");
        _cleanup_json_ cJSON *zero = cJSON_Parse("{\"revision\":0,\"policy\":{}}");
        _cleanup_json_ cJSON *nopol = cJSON_Parse("{\"revision\":3}");
        _cleanup_json_ cJSON *str = cJSON_Parse("{\"revision\":\"3\",\"policy\":{}}");
        uint64_t r = 0;

        ASSERT_OK(gateway_policy_revision(ok, &r));
        ASSERT_EQ(r, 3U);
        ASSERT_ERROR(gateway_policy_revision(zero, &r), EINVAL);
        ASSERT_ERROR(gateway_policy_revision(nopol, &r), EINVAL);
        ASSERT_ERROR(gateway_policy_revision(str, &r), EINVAL);
}

TEST(options_are_checked) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        static const struct {
                GatewayClientOptions o;
                const char *why;
        } bad[] = {
                { { .url = "ftp://x", .sandbox = "d" }, "https://HOST[:PORT]" },
                { { .url = "https://h:1/path", .sandbox = "d" }, "https://HOST[:PORT]" },
                { { .url = "http://h", .socket_path = "run/gateway.sock", .sandbox = "d" }, "--gateway-socket must be an absolute" },
                { { .url = "http://h", .socket_path = "/run/../gateway.sock", .sandbox = "d" }, "normalized" },
                { { .url = "http://h", .socket_path = "/run/gw/012345678901234567890123456789012345678901234567890123456789"
                                                      "012345678901234567890123456789012345678901234567890123456789.sock",
                    .sandbox = "d" },
                  "at most 107 bytes" },
                { { .url = "https://h:1", .sandbox = NULL }, "--sandbox" },
                { { .url = "https://h:1", .sandbox = "a b/../x" }, "sandbox name" },
                { { .url = "https://h:1", .sandbox = "d" }, "needs --gateway-ca" },
                { { .url = "https://h:1", .sandbox = "d", .ca = "/a" }, "go together" },
                { { .url = "http://h:1", .sandbox = "d", .ca = "/a", .cert = "/b", .key = "/c" }, "https://" },
                { { .url = "https://h:1", .sandbox = "d", .ca = "/nonexistent", .cert = "/b", .key = "/c" },
                  "client certificate" },
        };

        ASSERT_OK(sd_event_new(&e));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(gateway_client_freep) GatewayClient *g = NULL;
                _cleanup_free_ char *err = NULL;
                GatewayClientOptions o = bad[i].o;

                o.limits = (HttpLimits){ .max_header_bytes = 4096, .max_headers = 20 };
                ASSERT_TRUE(gateway_client_new(e, NULL, &o, NULL, NULL, &g, &err) < 0);
                ASSERT_NOT_NULL(err);
                ASSERT_CONTAINS(err, bad[i].why);
        }
}

TEST(plain_http_gateway_is_accepted) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(gateway_client_freep) GatewayClient *g = NULL;
        GatewayClientOptions o = { .url = "http://127.0.0.1:9", .sandbox = "demo",
                                   .limits = { .max_header_bytes = 4096, .max_headers = 20 } };

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(gateway_client_new(e, NULL, &o, NULL, NULL, &g, NULL));
        ASSERT_NOT_NULL(g);
}

TEST(portless_url_and_socket_are_accepted) {
        /* What the gateway writes into specs for a unix callback listener: the URL names the TLS host (and
         * the scheme's default port), the socket is where to connect. */
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(gateway_client_freep) GatewayClient *g = NULL, *h = NULL;
        GatewayClientOptions o = { .url = "http://host.openshell.internal", .sandbox = "demo",
                                   .socket_path = "/run/openshell/gateway/gateway.sock",
                                   .limits = { .max_header_bytes = 4096, .max_headers = 20 } };

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(gateway_client_new(e, NULL, &o, NULL, NULL, &g, NULL));
        ASSERT_NOT_NULL(g);
        o.url = "http://host.openshell.internal/";
        o.socket_path = NULL;
        ASSERT_OK(gateway_client_new(e, NULL, &o, NULL, NULL, &h, NULL));
}

DEFINE_TEST_MAIN();
