/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "host-resolvers.h"
#include "string-util.h"
#include "tests.h"

TEST(parse_skips_local) {
        _cleanup_strv_free_ char **l = NULL;
        const char *text = "# resolv.conf\n"
                           "nameserver 127.0.0.53\n"
                           "nameserver 169.254.169.254\n"
                           "nameserver ::1\n"
                           "nameserver fe80::1%eth0\n"
                           "nameserver 0.0.0.0\n"
                           "nameserver ::ffff:127.0.0.1\n"
                           "  nameserver 192.0.2.53   # comment\n"
                           "nameserver\t2001:db8::53\n"
                           "nameserver 192.0.2.53\n"
                           "nameservers 192.0.2.99\n"
                           "search example.com\n"
                           "nameserver not-an-ip\n";
        ASSERT_OK(host_resolvers_parse(text, &l));
        ASSERT_EQ(strv_length(l), 2);
        ASSERT_STREQ(l[0], "192.0.2.53");
        ASSERT_STREQ(l[1], "2001:db8::53");
}

TEST(parse_caps_at_three) {
        _cleanup_strv_free_ char **l = NULL;
        ASSERT_OK(host_resolvers_parse("nameserver 192.0.2.1\nnameserver 192.0.2.2\n"
                                       "nameserver 192.0.2.3\nnameserver 192.0.2.4\n",
                                       &l));
        ASSERT_EQ(strv_length(l), HOST_RESOLVERS_MAX);
        ASSERT_STREQ(l[2], "192.0.2.3");
}

TEST(parse_empty) {
        _cleanup_strv_free_ char **l = NULL;
        ASSERT_OK(host_resolvers_parse("nameserver 127.0.0.53\noptions edns0\n", &l));
        ASSERT_NOT_NULL(l);
        ASSERT_EQ(strv_length(l), 0);
}

TEST(read_falls_back) {
        char dir[] = "/tmp/test-host-resolvers-XXXXXX";
        _cleanup_strv_free_ char **l = NULL, **none = NULL;
        _cleanup_free_ char *missing = NULL, *second = NULL;

        ASSERT_NOT_NULL(mkdtemp(dir));
        missing = strjoin(dir, "/missing.conf");
        second = strjoin(dir, "/resolv.conf");
        ASSERT_OK(write_file_atomic(second, "nameserver 198.51.100.1\n", 24, 0644));
        const char *paths[] = { missing, second, NULL };
        ASSERT_OK(host_resolvers_read(paths, &l));
        ASSERT_EQ(strv_length(l), 1);
        ASSERT_STREQ(l[0], "198.51.100.1");

        const char *nothing[] = { missing, NULL };
        ASSERT_OK(host_resolvers_read(nothing, &none));
        ASSERT_EQ(strv_length(none), 0);
        unlink(second);
        rmdir(dir);
}

DEFINE_TEST_MAIN();
