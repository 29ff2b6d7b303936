/* SPDX-License-Identifier: Apache-2.0 */
#include "parse-util.h"
#include "tests.h"

TEST(safe_atou) {
        unsigned u;
        uint16_t p;
        ASSERT_OK(safe_atou("42", &u));
        ASSERT_EQ(u, 42);
        ASSERT_ERROR(safe_atou("", &u), EINVAL);
        ASSERT_ERROR(safe_atou(" 4", &u), EINVAL);
        ASSERT_ERROR(safe_atou("4x", &u), EINVAL);
        ASSERT_ERROR(safe_atou("-1", &u), EINVAL);
        ASSERT_ERROR(safe_atou("99999999999", &u), ERANGE);
        ASSERT_ERROR(safe_atou16("65536", &p), ERANGE);
        ASSERT_OK(safe_atou16("65535", &p));
        ASSERT_EQ(p, 65535);
}

TEST(safe_atoi) {
        int i;
        ASSERT_OK(safe_atoi("-17", &i));
        ASSERT_EQ(i, -17);
        ASSERT_ERROR(safe_atoi("3000000000", &i), ERANGE);
        ASSERT_ERROR(safe_atoi("1.5", &i), EINVAL);
}

TEST(parse_boolean) {
        ASSERT_EQ(parse_boolean("yes"), 1);
        ASSERT_EQ(parse_boolean("ON"), 1);
        ASSERT_EQ(parse_boolean("0"), 0);
        ASSERT_EQ(parse_boolean("false"), 0);
        ASSERT_ERROR(parse_boolean("maybe"), EINVAL);
        ASSERT_ERROR(parse_boolean(NULL), EINVAL);
}

TEST(parse_size) {
        uint64_t v;
        ASSERT_OK(parse_size("512", &v));
        ASSERT_EQ(v, 512);
        ASSERT_OK(parse_size("4K", &v));
        ASSERT_EQ(v, 4096);
        ASSERT_OK(parse_size("2G", &v));
        ASSERT_EQ(v, 2ULL * 1024 * 1024 * 1024);
        ASSERT_ERROR(parse_size("2X", &v), EINVAL);
        ASSERT_ERROR(parse_size("M", &v), EINVAL);
        ASSERT_ERROR(parse_size("99999999999999999T", &v), ERANGE);
}

TEST(parse_sec) {
        uint64_t v;
        ASSERT_OK(parse_sec("30", &v));
        ASSERT_EQ(v, 30000000);
        ASSERT_OK(parse_sec("500ms", &v));
        ASSERT_EQ(v, 500000);
        ASSERT_OK(parse_sec("2min", &v));
        ASSERT_EQ(v, 120000000);
        ASSERT_ERROR(parse_sec("1 s", &v), EINVAL);
}

TEST(parse_ip_port) {
        uint16_t p;
        ASSERT_OK(parse_ip_port("3128", &p));
        ASSERT_EQ(p, 3128);
        ASSERT_ERROR(parse_ip_port("0", &p), ERANGE);
        ASSERT_ERROR(parse_ip_port("70000", &p), ERANGE);
}

DEFINE_TEST_MAIN();
