/* SPDX-License-Identifier: Apache-2.0 */
#include "alloc-util.h"
#include "string-util.h"
#include "supervisor-env.h"
#include "tests.h"

TEST(base_is_kept_private_is_dropped) {
        char *base[] = { (char *) "HTTP_PROXY=http://10.213.0.2:3128", (char *) "SSL_CERT_FILE=/etc/openshell-tls/ca/ca-bundle.crt",
                         (char *) "NOTIFY_SOCKET=/run/notify", (char *) "OPENSHELL_TLS_KEY=/k", (char *) "LISTEN_FDS=1",
                         (char *) "HOME=/root", (char *) "garbage-without-equals", NULL };
        _cleanup_strv_free_ char **env = NULL;

        ASSERT_OK(supervisor_env_build(base, NULL, false, &env));
        ASSERT_STREQ(supervisor_env_get(env, "HTTP_PROXY"), "http://10.213.0.2:3128");
        ASSERT_STREQ(supervisor_env_get(env, "SSL_CERT_FILE"), "/etc/openshell-tls/ca/ca-bundle.crt");
        ASSERT_STREQ(supervisor_env_get(env, "HOME"), "/root");
        ASSERT_NULL(supervisor_env_get(env, "NOTIFY_SOCKET"));
        ASSERT_NULL(supervisor_env_get(env, "OPENSHELL_TLS_KEY"));
        ASSERT_NULL(supervisor_env_get(env, "LISTEN_FDS"));
        ASSERT_FALSE(strv_contains(env, "garbage-without-equals"));
        ASSERT_STREQ(supervisor_env_get(env, "PATH"), SUPERVISOR_DEFAULT_PATH);
        ASSERT_NULL(supervisor_env_get(env, "TERM"));
}

TEST(overrides_cannot_unpin_the_proxy) {
        char *base[] = { (char *) "HTTP_PROXY=http://10.213.0.2:3128", (char *) "https_proxy=http://10.213.0.2:3128",
                         (char *) "PATH=/bin", (char *) "FOO=1", NULL };
        char *over[] = { (char *) "HTTP_PROXY=", (char *) "https_proxy=http://evil:1", (char *) "FOO=2",
                         (char *) "NEW=x=y", (char *) "BAD KEY=1", (char *) "NOTIFY_SOCKET=/x", (char *) "NO_PROXY=*", NULL };
        _cleanup_strv_free_ char **env = NULL;

        ASSERT_OK(supervisor_env_build(base, over, true, &env));
        ASSERT_STREQ(supervisor_env_get(env, "HTTP_PROXY"), "http://10.213.0.2:3128");
        ASSERT_STREQ(supervisor_env_get(env, "https_proxy"), "http://10.213.0.2:3128");
        ASSERT_STREQ(supervisor_env_get(env, "FOO"), "2");
        ASSERT_STREQ(supervisor_env_get(env, "NEW"), "x=y");
        ASSERT_STREQ(supervisor_env_get(env, "PATH"), "/bin");
        ASSERT_STREQ(supervisor_env_get(env, "TERM"), "xterm-256color");
        ASSERT_NULL(supervisor_env_get(env, "NOTIFY_SOCKET"));
        ASSERT_FALSE(strv_contains(env, "BAD KEY=1"));
        /* Not set by the container: a request may set it. */
        ASSERT_STREQ(supervisor_env_get(env, "NO_PROXY"), "*");
        /* No duplicates. */
        size_t n = 0;
        STRV_FOREACH(e, env)
                if (startswith(*e, "FOO="))
                        n++;
        ASSERT_EQ(n, 1);
}

TEST(empty) {
        _cleanup_strv_free_ char **env = NULL;

        ASSERT_OK(supervisor_env_build(NULL, NULL, false, &env));
        ASSERT_EQ(strv_length(env), 1);
        ASSERT_NULL(supervisor_env_get(NULL, "X"));
}

DEFINE_TEST_MAIN();
