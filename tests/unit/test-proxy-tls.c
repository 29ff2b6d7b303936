/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "proxy-tls.h"
#include "tests.h"

static X509 *ctx_cert(SSL_CTX *ctx) {
        return SSL_CTX_get0_certificate(ctx);
}

static int verify(X509 *ca, X509 *leaf) {
        X509_STORE *store = X509_STORE_new();
        X509_STORE_CTX *v = X509_STORE_CTX_new();
        int ok = -1;

        if (store && v && X509_STORE_add_cert(store, ca) && X509_STORE_CTX_init(v, store, leaf, NULL)) {
                X509_STORE_CTX_set_purpose(v, X509_PURPOSE_SSL_SERVER);
                ok = X509_verify_cert(v);
        }
        X509_STORE_CTX_free(v);
        X509_STORE_free(store);
        return ok;
}

TEST(leaf_certificates) {
        _cleanup_pkey_ EVP_PKEY *cakey = NULL;
        _cleanup_x509_ X509 *ca = NULL;
        _cleanup_(leaf_cache_freep) LeafCache *c = NULL;
        SSL_CTX *a, *a2, *ip;

        ASSERT_OK(x509_generate_key(&cakey));
        ASSERT_OK(x509_make_ca(cakey, "test CA", 10, &ca));
        ASSERT_OK(leaf_cache_new(ca, cakey, 4, &c));
        ASSERT_OK(leaf_cache_get(c, "api.github.com", &a));
        ASSERT_EQ(verify(ca, ctx_cert(a)), 1);
        ASSERT_EQ(X509_check_host(ctx_cert(a), "api.github.com", 0, 0, NULL), 1);
        ASSERT_EQ(X509_check_host(ctx_cert(a), "github.com", 0, 0, NULL), 0);
        /* Same host (any case): the cached context. */
        ASSERT_OK(leaf_cache_get(c, "API.GitHub.com", &a2));
        ASSERT_TRUE(a == a2);
        ASSERT_EQ(leaf_cache_size(c), 1);
        ASSERT_OK(leaf_cache_get(c, "10.1.2.3", &ip));
        ASSERT_EQ(X509_check_ip_asc(ctx_cert(ip), "10.1.2.3", 0), 1);
        ASSERT_ERROR(leaf_cache_get(c, "", &a), EINVAL);
        ASSERT_ERROR(leaf_cache_get(c, "bad,name", &a), EINVAL);
}

/* Found by fuzz-proxy-request: a DNS name longer than a CN may be (64) got no certificate, so TLS inspection
 * of such a host failed. The name goes into the SAN; the CN is a fixed text. */
TEST(leaf_long_host) {
        static const char host[] = "a123456789012345678901234567890123456789.b123456789012345678901234567890.example.com";
        _cleanup_pkey_ EVP_PKEY *cakey = NULL;
        _cleanup_x509_ X509 *ca = NULL;
        _cleanup_(leaf_cache_freep) LeafCache *c = NULL;
        SSL_CTX *a;

        ASSERT_TRUE(strlen(host) > 64);
        ASSERT_OK(x509_generate_key(&cakey));
        ASSERT_OK(x509_make_ca(cakey, "test CA", 10, &ca));
        ASSERT_OK(leaf_cache_new(ca, cakey, 4, &c));
        ASSERT_OK(leaf_cache_get(c, host, &a));
        ASSERT_EQ(verify(ca, ctx_cert(a)), 1);
        ASSERT_TRUE(leaf_sni_allowed(ctx_cert(a), host));
        ASSERT_FALSE(leaf_sni_allowed(ctx_cert(a), "example.com"));
        /* a leading dot is a subdomain wildcard to X509_check_host(), never an SNI */
        ASSERT_FALSE(leaf_sni_allowed(ctx_cert(a), ".com"));
        ASSERT_FALSE(leaf_sni_allowed(ctx_cert(a), ".example.com"));
        ASSERT_TRUE(leaf_sni_allowed(ctx_cert(a), NULL));
}

TEST(bounded_lru) {
        _cleanup_pkey_ EVP_PKEY *cakey = NULL;
        _cleanup_x509_ X509 *ca = NULL;
        _cleanup_(leaf_cache_freep) LeafCache *c = NULL;
        SSL_CTX *a, *b, *x;

        ASSERT_OK(x509_generate_key(&cakey));
        ASSERT_OK(x509_make_ca(cakey, "test CA", 10, &ca));
        ASSERT_OK(leaf_cache_new(ca, cakey, 2, &c));
        ASSERT_OK(leaf_cache_get(c, "a.example", &a));
        ASSERT_OK(leaf_cache_get(c, "b.example", &b));
        ASSERT_OK(leaf_cache_get(c, "a.example", &x)); /* a is now the most recent */
        ASSERT_TRUE(x == a);
        ASSERT_OK(leaf_cache_get(c, "c.example", &x)); /* evicts b */
        ASSERT_EQ(leaf_cache_size(c), 2);
        ASSERT_OK(leaf_cache_get(c, "a.example", &x));
        ASSERT_TRUE(x == a);
        ASSERT_ERROR(leaf_cache_new(ca, cakey, 0, &c), EINVAL);
}

TEST(upstream_context) {
        SSL_CTX *ctx = NULL;

        ASSERT_OK(proxy_upstream_tls_context_new("/etc/ssl/certs/ca-certificates.crt", NULL, &ctx));
        ASSERT_EQ(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
        SSL_CTX_free(ctx);
        /* A missing system bundle is tolerated (the extra CA may be all there is); a bad extra CA is not. */
        ASSERT_OK(proxy_upstream_tls_context_new("/nonexistent", NULL, &ctx));
        SSL_CTX_free(ctx);
        ASSERT_ERROR(proxy_upstream_tls_context_new(NULL, "/nonexistent/extra.pem", &ctx), EINVAL);
}

DEFINE_TEST_MAIN();
