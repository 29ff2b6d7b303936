/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "gateway-pki.h"
#include "string-util.h"
#include "tests.h"
#include "x509-util.h"

static char *tmpdir(void) {
        char t[] = "/tmp/test-gateway-pki-XXXXXX";
        return mkdtemp(t) ? strdup(t) : NULL;
}

static void rm_rf(const char *d) {
        _cleanup_free_ char *cmd = strjoin("rm -rf ", d);
        if (cmd)
                (void) system(cmd);
}

static int file_mode(const char *dir, const char *name) {
        _cleanup_free_ char *p = strjoin(dir, "/", name);
        struct stat st;
        if (!p || stat(p, &st) < 0)
                return -1;
        return st.st_mode & 07777;
}

static X509 *load(const char *dir, const char *name) {
        _cleanup_free_ char *p = strjoin(dir, "/", name);
        X509 *x = NULL;
        if (!p || x509_load_cert(p, &x) < 0)
                return NULL;
        return x;
}

static char *fingerprint(const char *dir, const char *name) {
        _cleanup_x509_ X509 *x = load(dir, name);
        char *f = NULL;
        if (!x || x509_fingerprint_sha256(x, &f) < 0)
                return NULL;
        return f;
}

TEST(generate_and_idempotent) {
        _cleanup_free_ char *d = tmpdir(), *ca1 = NULL, *srv1 = NULL, *ca2 = NULL, *srv2 = NULL, *cli2 = NULL,
                           *cli1 = NULL;
        _cleanup_x509_ X509 *srv = NULL, *cli = NULL;
        char *extra[] = { (char *) "gw.example", (char *) "10.214.0.1", NULL };
        PkiReport rep;

        ASSERT_NOT_NULL(d);
        ASSERT_OK(pki_ensure(d, extra, &rep));
        ASSERT_TRUE(rep.ca_created && rep.server_issued && rep.client_issued);
        ASSERT_EQ(file_mode(d, "ca.key"), 0600);
        ASSERT_EQ(file_mode(d, "server.key"), 0600);
        ASSERT_EQ(file_mode(d, "client.key"), 0600);
        ASSERT_EQ(file_mode(d, ""), 0700);

        srv = load(d, "server.crt");
        ASSERT_NOT_NULL(srv);
        ASSERT_EQ(X509_check_host(srv, "host.openshell.internal", 0, 0, NULL), 1);
        ASSERT_EQ(X509_check_host(srv, "host.containers.internal", 0, 0, NULL), 1);
        ASSERT_EQ(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
        ASSERT_EQ(X509_check_host(srv, "gw.example", 0, 0, NULL), 1);
        ASSERT_EQ(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
        ASSERT_EQ(X509_check_ip_asc(srv, "10.214.0.1", 0), 1);
        ASSERT_NE(X509_check_host(srv, "evil.example", 0, 0, NULL), 1);
        cli = load(d, "client.crt");
        ASSERT_NOT_NULL(cli);
        ASSERT_EQ(X509_check_purpose(cli, X509_PURPOSE_SSL_CLIENT, 0), 1);
        ASSERT_NE(X509_check_purpose(srv, X509_PURPOSE_SSL_CLIENT, 0), 1);

        ca1 = fingerprint(d, "ca.crt");
        srv1 = fingerprint(d, "server.crt");
        cli1 = fingerprint(d, "client.crt");

        /* Second run keeps everything. */
        ASSERT_OK(pki_ensure(d, extra, &rep));
        ASSERT_FALSE(rep.ca_created || rep.server_issued || rep.client_issued);
        srv2 = fingerprint(d, "server.crt");
        ASSERT_STREQ(srv1, srv2);

        /* A new SAN reissues only the server certificate. */
        char *more[] = { (char *) "gw.example", (char *) "10.214.0.1", (char *) "other.example", NULL };
        ASSERT_OK(pki_ensure(d, more, &rep));
        ASSERT_FALSE(rep.ca_created);
        ASSERT_TRUE(rep.server_issued);
        ASSERT_FALSE(rep.client_issued);
        ca2 = fingerprint(d, "ca.crt");
        ASSERT_STREQ(ca1, ca2);
        cli2 = fingerprint(d, "client.crt");
        ASSERT_STREQ(cli1, cli2);
        rm_rf(d);
}

TEST(damaged_leaf_reissued_damaged_ca_refused) {
        _cleanup_free_ char *d = tmpdir(), *p = NULL, *k = NULL;
        PkiReport rep;

        ASSERT_OK(pki_ensure(d, NULL, NULL));
        p = strjoin(d, "/client.key");
        ASSERT_OK(write_file_atomic(p, "garbage", 7, 0600));
        ASSERT_OK(pki_ensure(d, NULL, &rep));
        ASSERT_TRUE(rep.client_issued);
        ASSERT_FALSE(rep.server_issued);

        k = strjoin(d, "/ca.key");
        ASSERT_OK(unlink(k));
        ASSERT_ERROR(pki_ensure(d, NULL, &rep), EINVAL);
        rm_rf(d);
}

TEST(bad_sans) {
        _cleanup_free_ char *d = tmpdir();
        char *bad[] = { (char *) "a b", NULL };
        char *bad2[] = { (char *) "", NULL };
        ASSERT_ERROR(pki_ensure(d, bad, NULL), EINVAL);
        ASSERT_ERROR(pki_ensure(d, bad2, NULL), EINVAL);
        rm_rf(d);
}

TEST(sandbox_cert) {
        _cleanup_free_ char *d = tmpdir(), *out = NULL, *fp_proxy = NULL, *fp_agent = NULL;
        _cleanup_x509_ X509 *x = NULL, *a = NULL, *ca = NULL;
        char cn[256];

        ASSERT_OK(pki_ensure(d, NULL, NULL));
        out = strjoin(d, "/sbx/demo");
        ASSERT_OK(pki_issue_sandbox_cert(d, "demo", out));
        ASSERT_EQ(file_mode(out, "tls.key"), 0600);
        x = load(out, "tls.crt");
        ASSERT_NOT_NULL(x);
        ASSERT_OK(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)));
        ASSERT_STREQ(cn, "sandbox:demo");
        ASSERT_EQ(X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0), 1);
        ASSERT_EQ(file_mode(out, "ca.crt"), 0644);

        /* The supervisor's own leaf: another key, CN=agent:NAME, the same CA, usage and validity. */
        ASSERT_EQ(file_mode(out, "agent.key"), 0600);
        a = load(out, "agent.crt");
        ASSERT_NOT_NULL(a);
        ASSERT_OK(X509_NAME_get_text_by_NID(X509_get_subject_name(a), NID_commonName, cn, sizeof(cn)));
        ASSERT_STREQ(cn, "agent:demo");
        ASSERT_EQ(X509_check_purpose(a, X509_PURPOSE_SSL_CLIENT, 0), 1);
        ASSERT_NE(X509_check_purpose(a, X509_PURPOSE_SSL_SERVER, 0), 1);
        ca = load(d, "ca.crt");
        ASSERT_NOT_NULL(ca);
        ASSERT_EQ(X509_check_issued(ca, a), X509_V_OK);
        ASSERT_EQ(X509_verify(a, X509_get0_pubkey(ca)), 1);
        {
                int days = -1, secs = 0;
                ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(a), X509_get0_notAfter(a)), 1);
                ASSERT_EQ(days, PKI_LEAF_VALIDITY_DAYS);
        }
        ASSERT_FALSE(EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(x)) == 1);
        fp_proxy = fingerprint(out, "tls.crt");
        fp_agent = fingerprint(out, "agent.crt");
        ASSERT_NOT_NULL(fp_proxy);
        ASSERT_NOT_NULL(fp_agent);
        ASSERT_FALSE(streq(fp_proxy, fp_agent));

        ASSERT_ERROR(pki_issue_sandbox_cert(d, "Demo", out), EINVAL);
        ASSERT_ERROR(pki_issue_sandbox_cert(d, "-x", out), EINVAL);
        ASSERT_ERROR(pki_issue_sandbox_cert(d, "a/b", out), EINVAL);
        ASSERT_ERROR(pki_issue_sandbox_cert("/nonexistent", "demo", out), ENOENT);
        rm_rf(d);
}

TEST(names) {
        ASSERT_TRUE(sandbox_name_is_valid("a"));
        ASSERT_TRUE(sandbox_name_is_valid("demo-1"));
        ASSERT_FALSE(sandbox_name_is_valid(""));
        ASSERT_FALSE(sandbox_name_is_valid("demo-"));
        ASSERT_FALSE(sandbox_name_is_valid("dé"));
        ASSERT_FALSE(sandbox_name_is_valid("a_b"));
        ASSERT_FALSE(sandbox_name_is_valid("0123456789012345678901234567890123456789012345678901234567890123"));
}

DEFINE_TEST_MAIN();
