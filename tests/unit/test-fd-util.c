/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <sys/resource.h>

#include "fd-util.h"
#include "tests.h"

TEST(rlimit_nofile_raise) {
        struct rlimit saved, low, now;
        uint64_t limit = 0;

        ASSERT_OK(getrlimit(RLIMIT_NOFILE, &saved));
        if (saved.rlim_max < 64)
                return; /* nothing to raise towards */
        /* A low soft limit, as a unit or a login shell would hand us, goes up to the hard limit. */
        low = (struct rlimit){ .rlim_cur = 32, .rlim_max = saved.rlim_max };
        ASSERT_OK(setrlimit(RLIMIT_NOFILE, &low));
        ASSERT_OK(rlimit_nofile_raise(&limit));
        ASSERT_OK(getrlimit(RLIMIT_NOFILE, &now));
        ASSERT_EQ(now.rlim_cur, saved.rlim_max);
        ASSERT_EQ(limit, (uint64_t) saved.rlim_max);
        /* Already at the hard limit: nothing to do, and a NULL out-parameter is fine. */
        ASSERT_OK(rlimit_nofile_raise(NULL));
        ASSERT_OK(getrlimit(RLIMIT_NOFILE, &now));
        ASSERT_EQ(now.rlim_cur, saved.rlim_max);
        ASSERT_OK(setrlimit(RLIMIT_NOFILE, &saved));
}

TEST(safe_close_keeps_errno) {
        errno = EAGAIN;
        ASSERT_EQ(safe_close(-1), -EBADF);
        ASSERT_EQ(safe_close(-EBADF), -EBADF);
        ASSERT_EQ(errno, EAGAIN);
}

DEFINE_TEST_MAIN();
