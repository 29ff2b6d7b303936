/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd-util.h"
#include "gateway-listen.h"
#include "string-util.h"
#include "tests.h"

static const char *fmt(const ListenAddress *a) {
        static char buf[LISTEN_ADDRESS_STRING_MAX];
        return listen_address_format(a, buf, sizeof(buf));
}

TEST(parse_valid) {
        ListenAddress a;
        ASSERT_OK(listen_address_parse("127.0.0.1:17670", &a));
        ASSERT_EQ(a.sa.sa_family, AF_INET);
        ASSERT_EQ(listen_address_port(&a), 17670);
        ASSERT_STREQ(fmt(&a), "127.0.0.1:17670");
        ASSERT_OK(listen_address_parse("[::1]:443", &a));
        ASSERT_EQ(a.sa.sa_family, AF_INET6);
        ASSERT_STREQ(fmt(&a), "[::1]:443");
        ASSERT_OK(listen_address_parse("[fd00:0::1]:1", &a));
        ASSERT_STREQ(fmt(&a), "[fd00::1]:1");
        ASSERT_OK(listen_address_parse("0.0.0.0:80", &a));
        ASSERT_TRUE(listen_address_is_unspecified(&a));
        ASSERT_OK(listen_address_parse("[::]:80", &a));
        ASSERT_TRUE(listen_address_is_unspecified(&a));
}

TEST(parse_invalid) {
        ListenAddress a;
        const char *bad[] = {
                "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1",
                "localhost:80", "::1:80", "[::1]80", "[::1]", "[127.0.0.1]:80", "1.2.3.4:80x",
                "256.1.1.1:80", "[::1]:80 ", " 1.2.3.4:80", "1.2.3.4:+80x", "[]:80",
                "[fe80::1%eth0]:80",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (listen_address_parse(bad[i], &a) != -EINVAL)
                        TEST_FAIL_AT("'%s' was accepted", bad[i]);
}

static int add(ListenSet *s, const char *addr, ListenRole role) {
        ListenAddress a;
        int r = listen_address_parse(addr, &a);
        return r < 0 ? r : listen_set_add(s, &a, role);
}

TEST(dedup) {
        ListenSet s = {};
        ASSERT_OK(add(&s, "127.0.0.1:17670", LISTEN_ROLE_API));
        ASSERT_OK(add(&s, "127.0.0.1:17670", LISTEN_ROLE_API));
        ASSERT_OK(add(&s, "127.0.0.2:17670", LISTEN_ROLE_API));
        ASSERT_OK(add(&s, "127.0.0.1:17671", LISTEN_ROLE_API));
        ASSERT_EQ(s.n, 3);
}

TEST(unspecified_covers_port) {
        ListenSet s = {};
        ASSERT_OK(add(&s, "127.0.0.1:17670", LISTEN_ROLE_API));
        ASSERT_OK(add(&s, "10.0.0.1:17670", LISTEN_ROLE_API));
        ASSERT_OK(add(&s, "[::1]:17670", LISTEN_ROLE_API));
        ASSERT_OK(add(&s, "127.0.0.1:9", LISTEN_ROLE_API));
        ASSERT_OK(add(&s, "0.0.0.0:17670", LISTEN_ROLE_API));
        /* 0.0.0.0 replaced both IPv4 addresses on 17670 but not ::1 or the other port. */
        ASSERT_EQ(s.n, 3);
        ASSERT_OK(add(&s, "192.168.1.1:17670", LISTEN_ROLE_API));
        ASSERT_EQ(s.n, 3);
        /* "::" is dual-stack: it covers everything on the port, 0.0.0.0 included. */
        ASSERT_OK(add(&s, "[::]:17670", LISTEN_ROLE_API));
        ASSERT_EQ(s.n, 2);
        ASSERT_OK(add(&s, "0.0.0.0:17670", LISTEN_ROLE_API));
        ASSERT_EQ(s.n, 2);
        ASSERT_TRUE(listen_address_is_unspecified(&s.items[1].address));
        ASSERT_EQ(listen_address_port(&s.items[0].address), 9);
}

TEST(order_independent) {
        ListenSet s = {};
        ASSERT_OK(add(&s, "0.0.0.0:1000", LISTEN_ROLE_API));
        ASSERT_OK(add(&s, "127.0.0.1:1000", LISTEN_ROLE_API));
        ASSERT_EQ(s.n, 1);
}

TEST(role_conflicts) {
        ListenSet s = {};
        ASSERT_OK(add(&s, "127.0.0.1:17670", LISTEN_ROLE_API));
        ASSERT_ERROR(add(&s, "127.0.0.1:17670", LISTEN_ROLE_CALLBACK), EADDRINUSE);
        ASSERT_ERROR(add(&s, "0.0.0.0:17670", LISTEN_ROLE_CALLBACK), EADDRINUSE);
        ASSERT_OK(add(&s, "10.214.0.1:17671", LISTEN_ROLE_CALLBACK));
        ASSERT_ERROR(add(&s, "[::]:17671", LISTEN_ROLE_API), EADDRINUSE);
        ASSERT_EQ(s.n, 2);
        ASSERT_EQ(listen_set_count_role(&s, LISTEN_ROLE_API), 1);
        ASSERT_EQ(listen_set_count_role(&s, LISTEN_ROLE_CALLBACK), 1);
}

TEST(set_is_bounded) {
        ListenSet s = {};
        char buf[32];
        for (unsigned i = 0; i < LISTEN_SET_MAX; i++) {
                snprintf(buf, sizeof(buf), "127.0.0.1:%u", 20000 + i);
                ASSERT_OK(add(&s, buf, LISTEN_ROLE_API));
        }
        ASSERT_ERROR(add(&s, "127.0.0.1:30000", LISTEN_ROLE_API), E2BIG);
}

TEST(role_names) {
        ASSERT_STREQ(listen_role_to_string(LISTEN_ROLE_API), "api");
        ASSERT_EQ(listen_role_from_string("callback"), LISTEN_ROLE_CALLBACK);
        ASSERT_EQ(listen_role_from_string("admin"), _LISTEN_ROLE_INVALID);
}

TEST(bind_loopback) {
        ListenAddress a, got = {};
        socklen_t len = sizeof(got.in6);
        _cleanup_close_ int fd = -EBADF, fd2 = -EBADF;

        /* Port 0 is not accepted by the parser; bind a kernel-chosen port through the struct. */
        ASSERT_OK(listen_address_parse("127.0.0.1:1", &a));
        a.in.sin_port = 0;
        fd = listen_address_bind(&a, 16);
        ASSERT_OK(fd);
        ASSERT_OK(getsockname(fd, &got.sa, &len));
        ASSERT_NE(ntohs(got.in.sin_port), 0);
        /* The same address again fails with EADDRINUSE (listening socket). */
        a.in.sin_port = got.in.sin_port;
        ASSERT_ERROR(listen_address_bind(&a, 16), EADDRINUSE);
        /* FreeBind: an address this host does not have can still be bound. */
        ASSERT_OK(listen_address_parse("192.0.2.77:1", &a));
        a.in.sin_port = 0;
        fd2 = listen_address_bind(&a, 16);
        ASSERT_OK(fd2);
}

DEFINE_TEST_MAIN();
