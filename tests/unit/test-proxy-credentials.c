/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/evp.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "proxy-credentials.h"
#include "tests.h"

static const char store_json[] =
        "{\"credentials\": {"
        " \"GH\": {\"value\": \"ghp_secret\", \"hosts\": [\"api.github.com\", \"*.githubusercontent.com\"]},"
        " \"PY\": {\"value\": \"pa ss/&=\", \"hosts\": [\"pypi.org\"]}}}";

static CredentialStore *load(void) {
        CredentialStore *s = NULL;
        return credential_store_parse(store_json, strlen(store_json), &s, NULL) >= 0 ? s : NULL;
}

TEST(header_substitution) {
        _cleanup_(credential_store_freep) CredentialStore *s = load();
        _cleanup_free_ char *out = NULL, *key = NULL, *none = NULL;

        ASSERT_NOT_NULL(s);
        ASSERT_OK(credential_substitute_header(s, "api.github.com", "Bearer openshell:resolve:env:GH", &out, &key));
        ASSERT_STREQ(out, "Bearer ghp_secret");
        ASSERT_OK(credential_substitute_header(s, "api.github.com", "no placeholder here", &none, &key));
        ASSERT_NULL(none);
}

TEST(basic_auth_is_decoded_and_reencoded) {
        _cleanup_(credential_store_freep) CredentialStore *s = load();
        _cleanup_free_ char *out = NULL, *key = NULL;
        unsigned char in[128], dec[128];
        char hdr[160];
        const char *plain = "user:openshell:resolve:env:GH";
        int n;

        ASSERT_NOT_NULL(s);
        EVP_EncodeBlock(in, (const unsigned char *) plain, (int) strlen(plain));
        snprintf(hdr, sizeof(hdr), "Basic %s", in);
        ASSERT_OK(credential_substitute_header(s, "raw.githubusercontent.com", hdr, &out, &key));
        ASSERT_NOT_NULL(out);
        n = EVP_DecodeBlock(dec, (const unsigned char *) out + 6, (int) strlen(out + 6));
        ASSERT_TRUE(n >= (int) strlen("user:ghp_secret"));
        ASSERT_TRUE(memcmp(dec, "user:ghp_secret", strlen("user:ghp_secret")) == 0);
}

TEST(url_substitution_is_percent_encoded) {
        _cleanup_(credential_store_freep) CredentialStore *s = load();
        _cleanup_free_ char *a = NULL, *b = NULL, *key = NULL;

        ASSERT_NOT_NULL(s);
        ASSERT_OK(credential_substitute(s, "pypi.org", "/x?token=openshell:resolve:env:PY&y=1", CREDENTIAL_CONTEXT_URL,
                                        &a, &key));
        ASSERT_STREQ(a, "/x?token=pa%20ss%2F%26%3D&y=1");
        ASSERT_OK(credential_substitute(s, "pypi.org", "/keys/openshell%3Aresolve%3Aenv%3APY/x", CREDENTIAL_CONTEXT_URL,
                                        &b, &key));
        ASSERT_STREQ(b, "/keys/pa%20ss%2F%26%3D/x");
}

TEST(fail_closed) {
        _cleanup_(credential_store_freep) CredentialStore *s = load();
        _cleanup_free_ char *out = NULL, *k1 = NULL, *k2 = NULL, *k3 = NULL;

        ASSERT_NOT_NULL(s);
        ASSERT_ERROR(credential_substitute_header(s, "api.github.com", "openshell:resolve:env:NOPE", &out, &k1), ENOKEY);
        ASSERT_STREQ(k1, "NOPE");
        ASSERT_ERROR(credential_substitute_header(s, "evil.example", "token openshell:resolve:env:GH", &out, &k2), EACCES);
        ASSERT_STREQ(k2, "GH");
        ASSERT_NULL(out);
        /* No store at all: every placeholder is unknown. */
        ASSERT_ERROR(credential_substitute(NULL, "api.github.com", "openshell:resolve:env:GH", CREDENTIAL_CONTEXT_HEADER,
                                           &out, &k3), ENOKEY);
}

TEST(request) {
        _cleanup_(credential_store_freep) CredentialStore *s = load();
        _cleanup_free_ char *target = strdup("/simple?t=openshell:resolve:env:PY"), *key = NULL;
        HttpHeader h[2] = { { strdup("Authorization"), strdup("Bearer openshell:resolve:env:PY") },
                            { strdup("Accept"), strdup("*/*") } };
        HttpMessage m = { .headers = h, .n_headers = 2 };

        ASSERT_NOT_NULL(s);
        ASSERT_OK(credential_substitute_request(s, "pypi.org", &m, &target, &key));
        ASSERT_STREQ(h[0].value, "Bearer pa ss/&=");
        ASSERT_STREQ(h[1].value, "*/*");
        ASSERT_STREQ(target, "/simple?t=pa%20ss%2F%26%3D");
        for (size_t i = 0; i < 2; i++) {
                free(h[i].name);
                free(h[i].value);
        }
}

TEST(load_errors) {
        static const struct {
                const char *json, *expect;
        } bad[] = {
                { "[]", "expected {\"credentials\"" },
                { "{\"credentials\": {\"1X\": {\"value\": \"v\", \"hosts\": [\"h\"]}}}", "credential names" },
                { "{\"credentials\": {\"X\": {\"value\": \"a\\r\\nb\", \"hosts\": [\"h\"]}}}", "CR, LF or NUL" },
                { "{\"credentials\": {\"X\": {\"value\": \"\", \"hosts\": [\"h\"]}}}", "empty" },
                { "{\"credentials\": {\"X\": {\"value\": \"v\"}}}", "\"hosts\" must be" },
                { "{\"credentials\": {\"X\": {\"value\": \"v\", \"value_file\": \"/x\", \"hosts\": [\"h\"]}}}", "exactly one" },
                { "{\"credentials\": {\"X\": {\"value_file\": \"/nonexistent/secret\", \"hosts\": [\"h\"]}}}", "cannot read" },
                { "{", "invalid JSON" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CredentialStore *s = NULL;
                _cleanup_free_ char *err = NULL;

                if (credential_store_parse(bad[i].json, strlen(bad[i].json), &s, &err) >= 0 || s)
                        TEST_FAIL_AT("case %zu accepted", i);
                if (!err || !strstr(err, bad[i].expect))
                        TEST_FAIL_AT("case %zu: \"%s\" lacks \"%s\"", i, err ? err : "(null)", bad[i].expect);
        }
}

TEST(value_file) {
        char path[] = "/tmp/test-cred-XXXXXX", json[256];
        _cleanup_(credential_store_freep) CredentialStore *s = NULL;
        _cleanup_free_ char *out = NULL, *key = NULL;
        int fd = mkstemp(path);

        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_OK(write_file_atomic(path, "from-file\n", 10, 0600));
        snprintf(json, sizeof(json), "{\"credentials\": {\"F\": {\"value_file\": \"%s\", \"hosts\": [\"h\"]}}}", path);
        ASSERT_OK(credential_store_parse(json, strlen(json), &s, NULL));
        ASSERT_OK(credential_substitute_header(s, "h", "openshell:resolve:env:F", &out, &key));
        ASSERT_STREQ(out, "from-file");
        unlink(path);
}

DEFINE_TEST_MAIN();
