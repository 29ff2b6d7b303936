/* SPDX-License-Identifier: Apache-2.0 */
#include "alloc-util.h"
#include "tests.h"
#include "unit-escape.h"

TEST(utf8) {
        ASSERT_TRUE(utf8_is_valid(""));
        ASSERT_TRUE(utf8_is_valid("plain ascii"));
        ASSERT_TRUE(utf8_is_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
        ASSERT_FALSE(utf8_is_valid("\xc3"));             /* truncated */
        ASSERT_FALSE(utf8_is_valid("\xc0\xaf"));         /* overlong '/' */
        ASSERT_FALSE(utf8_is_valid("\xed\xa0\x80"));     /* surrogate */
        ASSERT_FALSE(utf8_is_valid("\xf4\x90\x80\x80")); /* > U+10FFFF */
        ASSERT_FALSE(utf8_is_valid("\xff"));
}

TEST(value_is_safe) {
        ASSERT_TRUE(unit_value_is_safe("a value with spaces, \"quotes\" and \\ and %", 100));
        ASSERT_FALSE(unit_value_is_safe("line\nInjected=1", 100));
        ASSERT_FALSE(unit_value_is_safe("cr\r", 100));
        ASSERT_FALSE(unit_value_is_safe("tab\t", 100));
        ASSERT_FALSE(unit_value_is_safe("del\x7f", 100));
        ASSERT_FALSE(unit_value_is_safe("esc\x1b[0m", 100));
        ASSERT_FALSE(unit_value_is_safe("bad\xc3", 100));
        ASSERT_FALSE(unit_value_is_safe("12345", 4));
        ASSERT_TRUE(unit_value_is_safe("1234", 4));
        ASSERT_FALSE(unit_value_is_safe(NULL, 4));
}

TEST(escape_specifiers) {
        _cleanup_free_ char *a = NULL;
        char *b = NULL;
        ASSERT_OK(unit_escape_specifiers("100% of %n", &a));
        ASSERT_STREQ(a, "100%% of %%n");
        ASSERT_ERROR(unit_escape_specifiers("x\ny", &b), EINVAL);
        ASSERT_NULL(b);
}

TEST(quote_word) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "", "\"\"" },
                { "plain", "\"plain\"" },
                { "a b", "\"a b\"" },
                { "say \"hi\"", "\"say \\\"hi\\\"\"" },
                { "back\\slash", "\"back\\\\slash\"" },
                { "50%", "\"50%%\"" },
                { "%n%i", "\"%%n%%i\"" },
                { "$HOME ${X}", "\"$$HOME $${X}\"" },
                { "it's", "\"it's\"" },
                { "a;b", "\"a;b\"" },
                { "Environment=X", "\"Environment=X\"" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *q = NULL;
                ASSERT_OK(unit_quote_word(cases[i].in, &q));
                ASSERT_STREQ(q, cases[i].out);
        }
}

TEST(quote_word_rejects) {
        char *q = NULL;
        ASSERT_ERROR(unit_quote_word("a\nExecStartPre=/bin/evil", &q), EINVAL);
        ASSERT_ERROR(unit_quote_word("nul-free but \x01", &q), EINVAL);
        ASSERT_ERROR(unit_quote_word("\xff\xfe", &q), EINVAL);
        ASSERT_NULL(q);
}

TEST(quote_word_long) {
        _cleanup_free_ char *big = malloc(UNIT_VALUE_MAX + 2), *ok = NULL;
        char *q = NULL;
        ASSERT_NOT_NULL(big);
        memset(big, '%', UNIT_VALUE_MAX + 1);
        big[UNIT_VALUE_MAX + 1] = 0;
        ASSERT_ERROR(unit_quote_word(big, &q), EINVAL);
        big[UNIT_VALUE_MAX] = 0;
        ASSERT_OK(unit_quote_word(big, &ok));
        ASSERT_EQ(strlen(ok), 2 * UNIT_VALUE_MAX + 2);
}

TEST(escape_word) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        ASSERT_OK(unit_escape_word("HTTP_PROXY=http://10.213.0.2:3128", &a));
        ASSERT_STREQ(a, "HTTP_PROXY=http://10.213.0.2:3128");
        ASSERT_OK(unit_escape_word("two words", &b));
        ASSERT_STREQ(b, "\"two words\"");
        ASSERT_OK(unit_escape_word("", &c));
        ASSERT_STREQ(c, "\"\"");
        ASSERT_OK(unit_escape_word("100%", &d));
        ASSERT_STREQ(d, "\"100%%\"");
}

DEFINE_TEST_MAIN();
