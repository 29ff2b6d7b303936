/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "http-message.h"
#include "proxy-credentials.h"
#include "proxy-inference.h"
#include "string-util.h"
#include "tests.h"

static InferenceRoute *route(const char *json) {
        InferenceRoute *r = NULL;
        return inference_route_parse(json, strlen(json), &r, NULL) >= 0 ? r : NULL;
}

static int route_error(const char *json, char **ret_error) {
        _cleanup_(inference_route_unrefp) InferenceRoute *r = NULL;
        return inference_route_parse(json, strlen(json), &r, ret_error);
}

TEST(route_openai_defaults) {
        _cleanup_(inference_route_unrefp) InferenceRoute *r =
                route("{\"base_url\":\"https://api.openai.com/v1/\",\"model\":\"gpt-4o\","
                      "\"credential\":{\"value\":\"sk-test\"}}");

        ASSERT_NOT_NULL(r);
        ASSERT_EQ(r->api, INFERENCE_API_OPENAI);
        ASSERT_TRUE(r->https);
        ASSERT_STREQ(r->host, "api.openai.com");
        ASSERT_EQ(r->port, 443);
        ASSERT_STREQ(r->authority, "api.openai.com");
        ASSERT_STREQ(r->prefix, "/v1");
        ASSERT_STREQ(r->credential_header, "Authorization");
        ASSERT_STREQ(r->credential_value, "Bearer sk-test");
}

TEST(route_anthropic_and_ports) {
        _cleanup_(inference_route_unrefp) InferenceRoute *a =
                route("{\"base_url\":\"http://127.0.0.1:8000\",\"api\":\"anthropic\",\"model\":\"claude\","
                      "\"credential\":{\"value\":\"sk-ant\"},\"provider\":\"anthropic\"}");
        _cleanup_(inference_route_unrefp) InferenceRoute *v6 =
                route("{\"base_url\":\"https://[::1]:8443/gw\",\"model\":\"m\"}");
        _cleanup_(inference_route_unrefp) InferenceRoute *h =
                route("{\"base_url\":\"http://h\",\"model\":\"m\",\"credential\":{\"header\":\"Authorization\","
                      "\"value\":\"Basic dTpw\"}}");

        ASSERT_NOT_NULL(a);
        ASSERT_EQ(a->api, INFERENCE_API_ANTHROPIC);
        ASSERT_FALSE(a->https);
        ASSERT_EQ(a->port, 8000);
        ASSERT_STREQ(a->prefix, "");
        ASSERT_STREQ(a->credential_header, "x-api-key");
        ASSERT_STREQ(a->credential_value, "sk-ant");
        ASSERT_NOT_NULL(v6);
        ASSERT_STREQ(v6->host, "::1");
        ASSERT_EQ(v6->port, 8443);
        ASSERT_STREQ(v6->authority, "[::1]:8443");
        ASSERT_NULL(v6->credential_header);
        ASSERT_NOT_NULL(h);
        ASSERT_EQ(h->port, 80);
        ASSERT_STREQ(h->credential_value, "Basic dTpw"); /* a value with a scheme is kept */
}

TEST(route_value_file) {
        char path[] = "/tmp/test-inference-XXXXXX";
        int fd = mkstemp(path);
        _cleanup_free_ char *json = NULL;
        InferenceRoute *r;

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, "sk-file\n", 8), 8);
        close(fd);
        json = asprintf_safe("{\"base_url\":\"http://h:1\",\"model\":\"m\",\"credential\":{\"value_file\":\"%s\"}}", path);
        r = route(json);
        unlink(path);
        ASSERT_NOT_NULL(r);
        ASSERT_STREQ(r->credential_value, "Bearer sk-file");
        inference_route_unref(r);
}

TEST(route_errors) {
        static const struct {
                const char *json, *why;
        } bad[] = {
                { "{\"model\":\"m\"}", "base_url" },
                { "{\"base_url\":\"ftp://h\",\"model\":\"m\"}", "base_url" },
                { "{\"base_url\":\"https://u:p@h\",\"model\":\"m\"}", "base_url" },
                { "{\"base_url\":\"https://h/v1?x=1\",\"model\":\"m\"}", "base_url" },
                { "{\"base_url\":\"https://h:99999\",\"model\":\"m\"}", "base_url" },
                { "{\"base_url\":\"https://h\"}", "model" },
                { "{\"base_url\":\"https://h\",\"model\":\"\"}", "model" },
                { "{\"base_url\":\"https://h\",\"model\":\"m\",\"api\":\"cohere\"}", "api" },
                { "{\"base_url\":\"https://h\",\"model\":\"m\",\"extra\":1}", "unknown key" },
                { "{\"base_url\":\"https://h\",\"model\":\"m\",\"credential\":{}}", "value" },
                { "{\"base_url\":\"https://h\",\"model\":\"m\",\"credential\":{\"value\":\"a\\r\\nb\"}}", "CR" },
                { "{\"base_url\":\"https://h\",\"model\":\"m\",\"credential\":{\"value\":\"k\",\"header\":\"a b\"}}",
                  "header" },
                { "[1]", "object" },
                { "{", "invalid JSON" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *err = NULL;
                ASSERT_ERROR(route_error(bad[i].json, &err), EINVAL);
                ASSERT_NOT_NULL(err);
                ASSERT_CONTAINS(err, bad[i].why);
        }
}

TEST(host_recognition) {
        ASSERT_TRUE(inference_is_host("inference.local"));
        ASSERT_TRUE(inference_is_host("Inference.LOCAL"));
        ASSERT_TRUE(inference_is_host("inference.local."));
        ASSERT_FALSE(inference_is_host("inference.local.evil.com"));
        ASSERT_FALSE(inference_is_host("xinference.local"));
        ASSERT_FALSE(inference_is_host(NULL));
}

TEST(calls_allowed_per_api) {
        ASSERT_NULL(inference_request_denied(INFERENCE_API_OPENAI, "POST", "/v1/chat/completions"));
        ASSERT_NULL(inference_request_denied(INFERENCE_API_OPENAI, "POST", "/v1/completions"));
        ASSERT_NULL(inference_request_denied(INFERENCE_API_OPENAI, "POST", "/v1/responses"));
        ASSERT_NULL(inference_request_denied(INFERENCE_API_OPENAI, "POST", "/v1/embeddings"));
        ASSERT_NULL(inference_request_denied(INFERENCE_API_OPENAI, "GET", "/v1/models"));
        ASSERT_NULL(inference_request_denied(INFERENCE_API_ANTHROPIC, "POST", "/v1/messages"));
        ASSERT_NULL(inference_request_denied(INFERENCE_API_ANTHROPIC, "GET", "/v1/models"));
        ASSERT_CONTAINS(inference_request_denied(INFERENCE_API_OPENAI, "GET", "/v1/chat/completions"), "method");
        ASSERT_CONTAINS(inference_request_denied(INFERENCE_API_OPENAI, "POST", "/v1/messages"), "openai");
        ASSERT_CONTAINS(inference_request_denied(INFERENCE_API_ANTHROPIC, "POST", "/v1/chat/completions"), "anthropic");
        ASSERT_NOT_NULL(inference_request_denied(INFERENCE_API_OPENAI, "POST", "/v1/files"));
        ASSERT_NOT_NULL(inference_request_denied(INFERENCE_API_OPENAI, "POST", "/v1/chat/completions/"));
        ASSERT_NOT_NULL(inference_request_denied(INFERENCE_API_OPENAI, "DELETE", "/v1/models"));
        ASSERT_NOT_NULL(inference_request_denied(INFERENCE_API_OPENAI, "POST", "/../v1/chat/completions"));
}

TEST(upstream_target) {
        static const struct {
                const char *base, *target, *want;
        } cases[] = {
                { "https://api.openai.com/v1", "/v1/chat/completions", "/v1/chat/completions" },
                { "https://h/openai/v1", "/v1/models?limit=2", "/openai/v1/models?limit=2" },
                { "http://127.0.0.1:8000", "/v1/messages", "/v1/messages" },
                { "https://gw/proxy/", "/v1/embeddings", "/proxy/v1/embeddings" },
                { "https://h/v1", "/v10/x", "/v1/v10/x" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *json = asprintf_safe("{\"base_url\":\"%s\",\"model\":\"m\"}", cases[i].base);
                _cleanup_(inference_route_unrefp) InferenceRoute *r = route(json);
                _cleanup_free_ char *t = NULL;

                ASSERT_NOT_NULL(r);
                ASSERT_OK(inference_upstream_target(r, cases[i].target, &t));
                ASSERT_STREQ(t, cases[i].want);
        }
}

TEST(body_rewrite) {
        _cleanup_free_ char *out = NULL, *added = NULL, *err = NULL, *err2 = NULL;
        const char *in = "{\"model\":\"gpt-3.5\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        size_t n;

        ASSERT_OK(inference_rewrite_body(in, strlen(in), "backend-model", &out, &n, NULL));
        ASSERT_EQ(n, strlen(out));
        ASSERT_CONTAINS(out, "\"model\":\"backend-model\"");
        ASSERT_NOT_CONTAINS(out, "gpt-3.5");
        ASSERT_CONTAINS(out, "\"stream\":true");
        ASSERT_OK(inference_rewrite_body("{}", 2, "m", &added, &n, NULL));
        ASSERT_STREQ(added, "{\"model\":\"m\"}");
        ASSERT_ERROR(inference_rewrite_body("[]", 2, "m", &out, &n, &err), EINVAL);
        ASSERT_CONTAINS(err, "JSON object");
        ASSERT_ERROR(inference_rewrite_body("{\"a\":", 5, "m", &out, &n, &err2), EINVAL);
        ASSERT_CONTAINS(err2, "not valid JSON");
}

static HttpMessage *parse_request(const char *text) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        size_t n;

        if (http_parser_new(HTTP_PARSER_REQUEST, NULL, &p) < 0 ||
            http_parser_feed(p, text, strlen(text), &n) != HTTP_PARSE_HEAD)
                return NULL;
        return http_parser_steal_message(p);
}

TEST(upstream_head_swaps_credentials) {
        _cleanup_(inference_route_unrefp) InferenceRoute *r =
                route("{\"base_url\":\"http://127.0.0.1:9/v1\",\"model\":\"m\",\"credential\":{\"value\":\"sk-real\"}}");
        _cleanup_(http_message_freep) HttpMessage *m =
                parse_request("POST /v1/chat/completions HTTP/1.1\r\nHost: inference.local\r\n"
                              "Authorization: Bearer sk-agent\r\nX-Api-Key: agent2\r\napi-key: agent3\r\n"
                              "Proxy-Authorization: x\r\nContent-Length: 12\r\nExpect: 100-continue\r\n"
                              "Content-Type: application/json\r\nConnection: keep-alive\r\n\r\n");
        _cleanup_free_ char *head = NULL;
        size_t size;

        ASSERT_NOT_NULL(r);
        ASSERT_NOT_NULL(m);
        ASSERT_OK(inference_format_upstream_head(r, m, "/v1/chat/completions", true, 42, &head, &size));
        ASSERT_EQ(size, strlen(head));
        ASSERT_TRUE(startswith(head, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"));
        ASSERT_CONTAINS(head, "Authorization: Bearer sk-real\r\n");
        ASSERT_CONTAINS(head, "Content-Length: 42\r\n");
        ASSERT_CONTAINS(head, "Content-Type: application/json\r\n");
        ASSERT_NOT_CONTAINS(head, "agent");
        ASSERT_NOT_CONTAINS(head, "Proxy-");
        ASSERT_NOT_CONTAINS(head, "Expect");
        ASSERT_NOT_CONTAINS(head, "inference.local");
        ASSERT_NOT_CONTAINS(head, "Content-Length: 12");
        ASSERT_TRUE(endswith(head, "\r\n\r\n"));
}

TEST(credentials_from_gateway_map) {
        _cleanup_(credential_store_freep) CredentialStore *s = NULL;
        _cleanup_json_ cJSON *ok = cJSON_Parse("{\"OPENAI_API_KEY\":\"sk-1\"}");
        _cleanup_json_ cJSON *bad = cJSON_Parse("{\"K\":\"a\\nb\"}");
        _cleanup_json_ cJSON *badkey = cJSON_Parse("{\"1K\":\"v\"}");
        _cleanup_free_ char *out = NULL, *key = NULL, *err = NULL, *err2 = NULL;
        CredentialStore *t = NULL;

        ASSERT_OK(credential_store_from_map(ok, &s, NULL));
        /* No host list from the gateway: any destination the policy allows. */
        ASSERT_OK(credential_substitute_header(s, "api.example.com", "Bearer openshell:resolve:env:OPENAI_API_KEY", &out,
                                               &key));
        ASSERT_STREQ(out, "Bearer sk-1");
        ASSERT_ERROR(credential_store_from_map(bad, &t, &err), EINVAL);
        ASSERT_CONTAINS(err, "credentials.K");
        ASSERT_ERROR(credential_store_from_map(badkey, &t, &err2), EINVAL);
        ASSERT_NULL(t);
}

DEFINE_TEST_MAIN();
