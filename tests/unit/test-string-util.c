/* SPDX-License-Identifier: Apache-2.0 */
#include "alloc-util.h"
#include "string-util.h"
#include "tests.h"

TEST(startswith_endswith) {
        ASSERT_STREQ(startswith("openshell-proxy", "openshell-"), "proxy");
        ASSERT_NULL(startswith("open", "openshell"));
        ASSERT_STREQ(startswith_no_case("HTTP/1.1", "http/"), "1.1");
        ASSERT_STREQ(endswith("spec.json", ".json"), ".json");
        ASSERT_NULL(endswith("json", "spec.json"));
        ASSERT_NOT_NULL(endswith_no_case("API.EXAMPLE.COM", ".example.com"));
}

TEST(strjoin) {
        _cleanup_free_ char *s = strjoin("a", "/", "b", "", "c");
        ASSERT_STREQ(s, "a/bc");
}

TEST(strstrip_and_lower) {
        char buf[] = "  \tHeLLo World \r\n";
        ASSERT_STREQ(ascii_strlower(strstrip(buf)), "hello world");
        char empty[] = "   ";
        ASSERT_STREQ(strstrip(empty), "");
}

TEST(string_has_cc) {
        ASSERT_FALSE(string_has_cc("plain value", NULL));
        ASSERT_TRUE(string_has_cc("line\nbreak", NULL));
        ASSERT_TRUE(string_has_cc("cr\r", NULL));
        ASSERT_TRUE(string_has_cc("del\x7f", NULL));
        ASSERT_FALSE(string_has_cc("tab\tok", "\t"));
}

TEST(lower_alnum_dash) {
        ASSERT_TRUE(ascii_is_lower_alnum_dash("demo-1"));
        ASSERT_FALSE(ascii_is_lower_alnum_dash("Demo"));
        ASSERT_FALSE(ascii_is_lower_alnum_dash("a_b"));
}

TEST(strv) {
        _cleanup_strv_free_ char **l = NULL;
        ASSERT_OK(strv_extend(&l, "zeta"));
        ASSERT_OK(strv_extend(&l, "alpha"));
        ASSERT_OK(strv_extend(&l, "mid"));
        ASSERT_EQ(strv_length(l), 3);
        strv_sort(l);
        ASSERT_STREQ(l[0], "alpha");
        ASSERT_STREQ(l[2], "zeta");
        ASSERT_TRUE(strv_contains(l, "mid"));
        ASSERT_FALSE(strv_contains(l, "nope"));
}

/* Found by fuzz-gateway-api under UBSan: listing an empty store sorted a NULL list with qsort(NULL, 0, ...). */
TEST(strv_sort_empty) {
        ASSERT_NULL(strv_sort(NULL));
}

DEFINE_TEST_MAIN();
