/* SPDX-License-Identifier: Apache-2.0 */
#include <sys/socket.h>
#include <unistd.h>

#include "proxy-buffer.h"
#include "tests.h"

TEST(append_consume_cap) {
        Buffer b;

        ASSERT_OK(buffer_init(&b, 8));
        ASSERT_TRUE(buffer_is_empty(&b));
        ASSERT_OK(buffer_append(&b, "abcde", 5));
        ASSERT_EQ(buffer_room(&b), 3);
        ASSERT_ERROR(buffer_append(&b, "wxyz", 4), ENOBUFS);
        ASSERT_EQ(buffer_length(&b), 5); /* all or nothing */
        buffer_consume(&b, 3);
        ASSERT_EQ(buffer_room(&b), 6);
        /* Compaction makes the consumed front usable again. */
        ASSERT_OK(buffer_append(&b, "123456", 6));
        ASSERT_EQ(buffer_length(&b), 8);
        ASSERT_TRUE(memcmp(buffer_peek(&b), "de123456", 8) == 0);
        buffer_consume(&b, 100);
        ASSERT_TRUE(buffer_is_empty(&b));
        ASSERT_NULL(b.data); /* memory returned when empty */
        buffer_done(&b);
        ASSERT_ERROR(buffer_init(&b, 0), EINVAL);
}

TEST(fd_io) {
        int sv[2];
        Buffer in, out;

        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
        ASSERT_OK(buffer_init(&out, 16));
        ASSERT_OK(buffer_init(&in, 4));
        ASSERT_OK(buffer_append(&out, "hello world", 11));
        ASSERT_EQ(buffer_write_fd(&out, sv[0]), 11);
        ASSERT_TRUE(buffer_is_empty(&out));
        ASSERT_EQ(buffer_read_fd(&in, sv[1]), 4); /* never more than the cap */
        ASSERT_ERROR(buffer_read_fd(&in, sv[1]), ENOBUFS);
        buffer_consume(&in, 4);
        ASSERT_EQ(buffer_read_fd(&in, sv[1]), 4);
        ASSERT_TRUE(memcmp(buffer_peek(&in), "o wo", 4) == 0);
        buffer_consume(&in, 4);
        ASSERT_EQ(buffer_read_fd(&in, sv[1]), 3);
        ASSERT_ERROR(buffer_read_fd(&in, sv[1]), EAGAIN);
        close(sv[0]);
        buffer_consume(&in, 3);
        ASSERT_EQ(buffer_read_fd(&in, sv[1]), 0); /* EOF */
        close(sv[1]);
        buffer_done(&in);
        buffer_done(&out);
}

DEFINE_TEST_MAIN();
