/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A small self-registering test harness, in the spirit of systemd's TEST() and ell's unit/.
 *
 *   TEST(parse_port) { ASSERT_OK(parse_ip_port("80", &p)); ASSERT_EQ(p, 80); }
 *
 * Each TEST registers itself before main(); the DEFINE_TEST_MAIN() main runs them in order (or only those
 * named on the command line), prints one TAP line per test and a closing "N passed, N failed" line, and
 * exits 0, 1 on a failure, or 77 when every test skipped. A failing ASSERT_* returns from the test body. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct TestCase {
        const char *name;
        void (*func)(void);
        struct TestCase *next;
} TestCase;

extern TestCase *test_list_head;
extern TestCase *test_list_tail;
extern int test_failed;  /* set by a failing assertion in the running test */
extern int test_skipped; /* set by TEST_SKIP() */

void test_register(TestCase *t);
int test_run_all(int argc, char **argv);

#define TEST(n)                                                                                            \
        static void test_##n(void);                                                                        \
        static TestCase test_case_##n = { .name = #n, .func = test_##n };                                  \
        __attribute__((constructor)) static void test_register_##n(void) {                                 \
                test_register(&test_case_##n);                                                             \
        }                                                                                                  \
        static void test_##n(void)

#define DEFINE_TEST_MAIN()                                                                                 \
        int main(int argc, char **argv) {                                                                  \
                return test_run_all(argc, argv);                                                           \
        }

#define TEST_FAIL_AT(...)                                                                                  \
        do {                                                                                               \
                fprintf(stderr, "# %s:%d: ", __FILE__, __LINE__);                                          \
                fprintf(stderr, __VA_ARGS__);                                                              \
                fputc('\n', stderr);                                                                       \
                test_failed = 1;                                                                           \
                return;                                                                                    \
        } while (0)

#define TEST_SKIP(...)                                                                                     \
        do {                                                                                               \
                fprintf(stderr, "# skip: ");                                                               \
                fprintf(stderr, __VA_ARGS__);                                                              \
                fputc('\n', stderr);                                                                       \
                test_skipped = 1;                                                                          \
                return;                                                                                    \
        } while (0)

#define ASSERT_TRUE(expr)                                                                                  \
        do {                                                                                               \
                if (!(expr))                                                                               \
                        TEST_FAIL_AT("expected true: %s", #expr);                                          \
        } while (0)
#define ASSERT_FALSE(expr)                                                                                 \
        do {                                                                                               \
                if ((expr))                                                                                \
                        TEST_FAIL_AT("expected false: %s", #expr);                                         \
        } while (0)

/* r >= 0 */
#define ASSERT_OK(expr)                                                                                    \
        do {                                                                                               \
                long long _r_ = (long long) (expr);                                                        \
                if (_r_ < 0)                                                                               \
                        TEST_FAIL_AT("%s failed: %lld (%s)", #expr, _r_, strerror((int) -_r_));            \
        } while (0)

/* expr returns exactly -err (err given positive, e.g. EINVAL) */
#define ASSERT_ERROR(expr, err)                                                                            \
        do {                                                                                               \
                long long _r_ = (long long) (expr);                                                        \
                if (_r_ != -(long long) (err))                                                             \
                        TEST_FAIL_AT("%s returned %lld, expected -%s", #expr, _r_, #err);                  \
        } while (0)

#define ASSERT_EQ(a, b)                                                                                    \
        do {                                                                                               \
                long long _a_ = (long long) (a), _b_ = (long long) (b);                                    \
                if (_a_ != _b_)                                                                            \
                        TEST_FAIL_AT("%s == %s: %lld != %lld", #a, #b, _a_, _b_);                          \
        } while (0)
#define ASSERT_NE(a, b)                                                                                    \
        do {                                                                                               \
                long long _a_ = (long long) (a), _b_ = (long long) (b);                                    \
                if (_a_ == _b_)                                                                            \
                        TEST_FAIL_AT("%s != %s: both %lld", #a, #b, _a_);                                  \
        } while (0)
#define ASSERT_LE(a, b)                                                                                    \
        do {                                                                                               \
                long long _a_ = (long long) (a), _b_ = (long long) (b);                                    \
                if (!(_a_ <= _b_))                                                                         \
                        TEST_FAIL_AT("%s <= %s: %lld > %lld", #a, #b, _a_, _b_);                           \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                                 \
        do {                                                                                               \
                const char *_a_ = (a), *_b_ = (b);                                                         \
                if (!_a_ || !_b_ || strcmp(_a_, _b_) != 0)                                                 \
                        TEST_FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, _a_ ?: "(null)", _b_ ?: "(null)"); \
        } while (0)

/* haystack contains needle */
#define ASSERT_CONTAINS(haystack, needle)                                                                  \
        do {                                                                                               \
                const char *_h_ = (haystack), *_n_ = (needle);                                             \
                if (!_h_ || !strstr(_h_, _n_))                                                             \
                        TEST_FAIL_AT("%s does not contain \"%s\":\n%s", #haystack, _n_, _h_ ?: "(null)");  \
        } while (0)
#define ASSERT_NOT_CONTAINS(haystack, needle)                                                              \
        do {                                                                                               \
                const char *_h_ = (haystack), *_n_ = (needle);                                             \
                if (_h_ && strstr(_h_, _n_))                                                               \
                        TEST_FAIL_AT("%s contains \"%s\":\n%s", #haystack, _n_, _h_);                      \
        } while (0)

#define ASSERT_NULL(p) ASSERT_TRUE((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)
