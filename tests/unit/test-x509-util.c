/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "string-util.h"
#include "tests.h"
#include "x509-util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(X509_STORE *, X509_STORE_free, X509_STORE_freep);
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(X509_STORE_CTX *, X509_STORE_CTX_free, X509_STORE_CTX_freep);

static int verify_chain(X509 *ca, X509 *leaf, int purpose) {
        _cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();

        if (!store || !ctx || !X509_STORE_add_cert(store, ca) || !X509_STORE_CTX_init(ctx, store, leaf, NULL))
                return -1;
        if (purpose > 0)
                X509_STORE_CTX_set_purpose(ctx, purpose);
        return X509_verify_cert(ctx);
}

static char *make_tmpdir(void) {
        char t[] = "/tmp/test-x509-XXXXXX";
        return mkdtemp(t) ? strdup(t) : NULL;
}

TEST(ca_and_server_chain) {
        _cleanup_pkey_ EVP_PKEY *cakey = NULL, *key = NULL;
        _cleanup_x509_ X509 *ca = NULL, *leaf = NULL;
        char *dns[] = { (char *) "host.openshell.internal", (char *) "localhost", NULL };
        char *ips[] = { (char *) "127.0.0.1", (char *) "::1", NULL };
        X509CertOptions o = { .common_name = "gateway", .dns_names = dns, .ip_addresses = ips,
                              .usage = X509_USAGE_SERVER, .validity_days = 30 };
        AUTHORITY_KEYID *aki;

        ASSERT_OK(x509_generate_key(&cakey));
        ASSERT_OK(x509_make_ca(cakey, "openshell test CA", 3650, &ca));
        ASSERT_TRUE(x509_cert_is_ca(ca));
        ASSERT_OK(x509_generate_key(&key));
        ASSERT_OK(x509_make_cert(&o, key, ca, cakey, &leaf));
        ASSERT_FALSE(x509_cert_is_ca(leaf));
        ASSERT_EQ(verify_chain(ca, leaf, X509_PURPOSE_SSL_SERVER), 1);
        /* A server-only certificate is not a client certificate. */
        ASSERT_NE(verify_chain(ca, leaf, X509_PURPOSE_SSL_CLIENT), 1);
        ASSERT_EQ(X509_check_host(leaf, "host.openshell.internal", 0, 0, NULL), 1);
        ASSERT_EQ(X509_check_host(leaf, "LOCALHOST", 0, 0, NULL), 1);
        ASSERT_EQ(X509_check_host(leaf, "example.com", 0, 0, NULL), 0);
        ASSERT_EQ(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
        ASSERT_EQ(X509_check_ip_asc(leaf, "::1", 0), 1);
        ASSERT_EQ(X509_check_ip_asc(leaf, "10.0.0.1", 0), 0);
        ASSERT_OK(x509_cert_matches_key(leaf, key));
        ASSERT_ERROR(x509_cert_matches_key(leaf, cakey), EINVAL);
        ASSERT_OK(x509_cert_check_time(leaf, time(NULL)));
        ASSERT_ERROR(x509_cert_check_time(leaf, time(NULL) + 31 * 86400), ESTALE);
        aki = X509_get_ext_d2i(leaf, NID_authority_key_identifier, NULL, NULL);
        ASSERT_NOT_NULL(aki);
        AUTHORITY_KEYID_free(aki);
}

TEST(client_and_both_usage) {
        _cleanup_pkey_ EVP_PKEY *cakey = NULL, *key = NULL;
        _cleanup_x509_ X509 *ca = NULL, *c = NULL, *b = NULL;
        X509CertOptions o = { .common_name = "sandbox-demo", .usage = X509_USAGE_CLIENT, .validity_days = 1 };

        ASSERT_OK(x509_generate_key(&cakey));
        ASSERT_OK(x509_make_ca(cakey, "ca", 10, &ca));
        ASSERT_OK(x509_generate_key(&key));
        ASSERT_OK(x509_make_cert(&o, key, ca, cakey, &c));
        ASSERT_EQ(verify_chain(ca, c, X509_PURPOSE_SSL_CLIENT), 1);
        ASSERT_NE(verify_chain(ca, c, X509_PURPOSE_SSL_SERVER), 1);
        o.usage = X509_USAGE_BOTH;
        ASSERT_OK(x509_make_cert(&o, key, ca, cakey, &b));
        ASSERT_EQ(verify_chain(ca, b, X509_PURPOSE_SSL_CLIENT), 1);
        ASSERT_EQ(verify_chain(ca, b, X509_PURPOSE_SSL_SERVER), 1);
        ASSERT_EQ(x509_usage_from_string("both"), X509_USAGE_BOTH);
        ASSERT_EQ(x509_usage_from_string("peer"), -EINVAL);
}

TEST(foreign_ca_does_not_verify) {
        _cleanup_pkey_ EVP_PKEY *k1 = NULL, *k2 = NULL, *key = NULL;
        _cleanup_x509_ X509 *ca1 = NULL, *ca2 = NULL, *leaf = NULL;
        X509CertOptions o = { .common_name = "x", .usage = X509_USAGE_SERVER, .validity_days = 1 };

        ASSERT_OK(x509_generate_key(&k1));
        ASSERT_OK(x509_generate_key(&k2));
        ASSERT_OK(x509_generate_key(&key));
        ASSERT_OK(x509_make_ca(k1, "ca1", 10, &ca1));
        ASSERT_OK(x509_make_ca(k2, "ca2", 10, &ca2));
        ASSERT_OK(x509_make_cert(&o, key, ca1, k1, &leaf));
        ASSERT_NE(verify_chain(ca2, leaf, 0), 1);
        /* Signing with a key that does not belong to the CA certificate is refused. */
        ASSERT_ERROR(x509_make_cert(&o, key, ca1, k2, &leaf), EINVAL);
}

TEST(bad_options) {
        _cleanup_pkey_ EVP_PKEY *k = NULL;
        _cleanup_x509_ X509 *ca = NULL, *leaf = NULL;
        char *bad_ip[] = { (char *) "300.1.1.1", NULL };
        char *bad_dns[] = { (char *) "a,DNS:evil", NULL };
        X509CertOptions o = { .common_name = "x", .usage = X509_USAGE_SERVER, .validity_days = 1 };

        ASSERT_OK(x509_generate_key(&k));
        ASSERT_ERROR(x509_make_ca(k, "ca", 0, &ca), EINVAL);
        ASSERT_ERROR(x509_make_ca(k, "", 10, &ca), EINVAL);
        ASSERT_ERROR(x509_make_ca(k, "a\nb", 10, &ca), EINVAL);
        ASSERT_OK(x509_make_ca(k, "ca", 10, &ca));
        o.ip_addresses = bad_ip;
        ASSERT_ERROR(x509_make_cert(&o, k, ca, k, &leaf), EINVAL);
        o.ip_addresses = NULL;
        o.dns_names = bad_dns;
        ASSERT_ERROR(x509_make_cert(&o, k, ca, k, &leaf), EINVAL);
        o.dns_names = NULL;
        o.usage = _X509_USAGE_INVALID;
        ASSERT_ERROR(x509_make_cert(&o, k, ca, k, &leaf), EINVAL);
}

TEST(pem_roundtrip_and_modes) {
        _cleanup_free_ char *dir = make_tmpdir(), *kp = NULL, *cp = NULL, *f1 = NULL, *f2 = NULL;
        _cleanup_pkey_ EVP_PKEY *k = NULL, *k2 = NULL;
        _cleanup_x509_ X509 *ca = NULL, *ca2 = NULL;
        struct stat st;

        ASSERT_NOT_NULL(dir);
        kp = strjoin(dir, "/ca.key");
        cp = strjoin(dir, "/ca.crt");
        ASSERT_OK(x509_generate_key(&k));
        ASSERT_OK(x509_make_ca(k, "ca", 10, &ca));
        ASSERT_OK(x509_write_key(kp, k));
        ASSERT_OK(x509_write_cert(cp, ca));
        ASSERT_OK(stat(kp, &st));
        ASSERT_EQ(st.st_mode & 07777, 0600);
        ASSERT_OK(stat(cp, &st));
        ASSERT_EQ(st.st_mode & 07777, 0644);
        ASSERT_OK(x509_load_key(kp, &k2));
        ASSERT_OK(x509_load_cert(cp, &ca2));
        ASSERT_OK(x509_cert_matches_key(ca2, k2));
        ASSERT_OK(x509_fingerprint_sha256(ca, &f1));
        ASSERT_OK(x509_fingerprint_sha256(ca2, &f2));
        ASSERT_STREQ(f1, f2);
        ASSERT_EQ(strlen(f1), 32 * 3 - 1);
        unlink(kp);
        unlink(cp);
        rmdir(dir);
}

/* An encrypted key is refused, even with an empty passphrase that would decrypt it, and at once: its KDF
 * (whose cost the file sets) never runs. */
TEST(encrypted_key_refused) {
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        _cleanup_free_ char *pem = NULL;
        EVP_PKEY *k = NULL;
        BIO *b = BIO_new(BIO_s_mem());
        char *data;
        long n;

        ASSERT_NOT_NULL(b);
        ASSERT_OK(x509_generate_key(&key));
        ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(b, key, EVP_aes_256_cbc(), "", 0, NULL, NULL), 1);
        n = BIO_get_mem_data(b, &data);
        ASSERT_TRUE(n > 0);
        ASSERT_NOT_NULL(pem = strndup_safe(data, (size_t) n));
        BIO_free(b);
        ASSERT_CONTAINS(pem, "ENCRYPTED PRIVATE KEY");
        ASSERT_ERROR(x509_key_from_pem(pem, strlen(pem), &k), EINVAL);
        ASSERT_NULL(k);
}

TEST(bad_pem) {
        _cleanup_free_ char *dir = make_tmpdir(), *p = NULL;
        X509 *x = NULL;
        EVP_PKEY *k = NULL;
        const char *junk = "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n";

        ASSERT_ERROR(x509_cert_from_pem("hello", 5, &x), EINVAL);
        ASSERT_ERROR(x509_cert_from_pem(junk, strlen(junk), &x), EINVAL);
        ASSERT_ERROR(x509_key_from_pem("", 0, &k), EINVAL);
        ASSERT_ERROR(x509_key_from_pem(junk, strlen(junk), &k), EINVAL);
        ASSERT_NULL(x);
        ASSERT_NULL(k);
        ASSERT_NOT_NULL(dir);
        p = strjoin(dir, "/missing.pem");
        ASSERT_ERROR(x509_load_cert(p, &x), ENOENT);
        ASSERT_OK(write_file_atomic(p, "garbage\n", 8, 0600));
        ASSERT_ERROR(x509_load_key(p, &k), EINVAL);
        unlink(p);
        rmdir(dir);
}

DEFINE_TEST_MAIN();
