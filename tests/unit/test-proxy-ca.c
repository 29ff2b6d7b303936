/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "path-util.h"
#include "proxy-ca.h"
#include "string-util.h"
#include "tests.h"

static char *make_tmpdir(void) {
        char t[] = "/tmp/test-proxy-ca-XXXXXX";
        return mkdtemp(t) ? strdup(t) : NULL;
}

static void rm_rf(const char *dir) {
        _cleanup_free_ char *cmd = asprintf_safe("rm -rf '%s'", dir);
        if (cmd && system(cmd) != 0)
                fprintf(stderr, "# cleanup of %s failed\n", dir);
}

static mode_t mode_of(const char *dir, const char *rel) {
        _cleanup_free_ char *p = path_join(dir, rel);
        struct stat st;
        return p && stat(p, &st) >= 0 ? st.st_mode & 07777 : 0;
}

TEST(create_then_reuse) {
        _cleanup_free_ char *dir = make_tmpdir(), *tls = NULL, *bundle = NULL, *roots = NULL, *ready = NULL,
                            *rp = NULL, *bp = NULL;
        _cleanup_(proxy_ca_done) ProxyCA a = {}, b = {};
        size_t n;

        ASSERT_NOT_NULL(dir);
        tls = path_join(dir, "tls");
        roots = path_join(dir, "roots.pem");
        ASSERT_OK(write_file_atomic(roots, "# fake system roots\n", 20, 0644));
        ASSERT_OK(proxy_ca_ensure(tls, roots, &a));
        ASSERT_TRUE(a.created);
        ASSERT_EQ(mode_of(tls, "private/ca.key"), 0600);
        ASSERT_EQ(mode_of(tls, "private"), 0700);
        ASSERT_EQ(mode_of(tls, "ca"), 0755);
        ASSERT_EQ(mode_of(tls, "ca/ca.crt"), 0644);
        bp = path_join(tls, "ca/ca-bundle.crt");
        ASSERT_OK(read_full_file(bp, 1 << 20, &bundle, &n));
        ASSERT_TRUE(startswith(bundle, "# fake system roots\n-----BEGIN CERTIFICATE-----") != NULL);
        rp = path_join(tls, "ca/.ready");
        ASSERT_OK(read_full_file(rp, 4096, &ready, &n));
        ASSERT_TRUE(startswith(ready, a.fingerprint) != NULL);

        ASSERT_OK(proxy_ca_ensure(tls, roots, &b));
        ASSERT_FALSE(b.created);
        ASSERT_STREQ(a.fingerprint, b.fingerprint);
        rm_rf(dir);
}

TEST(missing_certificate_is_reissued_from_the_key) {
        _cleanup_free_ char *dir = make_tmpdir(), *crt = NULL;
        _cleanup_(proxy_ca_done) ProxyCA a = {}, b = {};

        ASSERT_NOT_NULL(dir);
        ASSERT_OK(proxy_ca_ensure(dir, NULL, &a));
        crt = path_join(dir, "ca/ca.crt");
        ASSERT_OK(unlink(crt));
        ASSERT_OK(proxy_ca_ensure(dir, NULL, &b));
        ASSERT_FALSE(b.created);
        ASSERT_OK(x509_cert_matches_key(b.cert, a.key));
        rm_rf(dir);
}

TEST(corrupt_key_is_an_error_not_replaced) {
        _cleanup_free_ char *dir = make_tmpdir(), *key = NULL, *content = NULL;
        _cleanup_(proxy_ca_done) ProxyCA a = {}, b = {};
        size_t n;

        ASSERT_NOT_NULL(dir);
        ASSERT_OK(proxy_ca_ensure(dir, "/nonexistent/bundle", &a));
        key = path_join(dir, "private/ca.key");
        ASSERT_OK(write_file_atomic(key, "garbage\n", 8, 0600));
        ASSERT_ERROR(proxy_ca_ensure(dir, NULL, &b), EINVAL);
        ASSERT_OK(read_full_file(key, 4096, &content, &n));
        ASSERT_STREQ(content, "garbage\n");
        rm_rf(dir);
}

DEFINE_TEST_MAIN();
