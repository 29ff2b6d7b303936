/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "fileio.h"
#include "gateway-listen.h"
#include "path-util.h"
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

TEST(parse_unix) {
        ListenAddress a, b;
        char max[LISTEN_UNIX_PATH_MAX + 1];

        ASSERT_OK(listen_address_parse("/run/user/1000/openshell/callback/gateway.sock", &a));
        ASSERT_TRUE(listen_address_is_unix(&a));
        ASSERT_EQ(a.sa.sa_family, AF_UNIX);
        ASSERT_STREQ(fmt(&a), "/run/user/1000/openshell/callback/gateway.sock");
        ASSERT_EQ(listen_address_port(&a), 0);
        ASSERT_FALSE(listen_address_is_unspecified(&a));
        ASSERT_EQ(a.len, offsetof(struct sockaddr_un, sun_path) + strlen(a.un.sun_path) + 1);
        /* the longest path that fits sun_path with its NUL */
        memset(max, 'a', sizeof(max) - 1);
        max[0] = '/';
        max[10] = '/';
        max[sizeof(max) - 1] = 0;
        ASSERT_EQ(strlen(max), 107);
        ASSERT_OK(listen_address_parse(max, &b));
        ASSERT_STREQ(fmt(&b), max);
        /* TCP parsing is unaffected */
        ASSERT_OK(listen_address_parse("127.0.0.1:1", &b));
        ASSERT_FALSE(listen_address_is_unix(&b));
}

TEST(parse_unix_invalid) {
        ListenAddress a;
        char too_long[LISTEN_UNIX_PATH_MAX + 2];
        const char *bad[] = {
                "/", "/gateway.sock", "/run//gw.sock", "/run/./gw.sock", "/run/../gw.sock", "/run/gw.sock/",
                "/run/g w.sock", "/run/gw%t.sock", "/run/gw\n.sock", "/run/gw:1", "/run/gw.sock\nListenStream=x",
                "run/gw.sock", "./gw.sock", "gw.sock", "~/gw.sock", "/run/gw\"x",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (listen_address_parse(bad[i], &a) != -EINVAL)
                        TEST_FAIL_AT("'%s' was accepted", bad[i]);
        /* 108 bytes: no room for the NUL in sun_path */
        memset(too_long, 'a', sizeof(too_long) - 1);
        too_long[0] = '/';
        too_long[10] = '/';
        too_long[sizeof(too_long) - 1] = 0;
        ASSERT_EQ(strlen(too_long), 108);
        ASSERT_ERROR(listen_address_parse(too_long, &a), EINVAL);
        ASSERT_FALSE(listen_unix_path_is_valid(too_long));
        ASSERT_TRUE(listen_unix_path_is_valid("/run/openshell/callback/gateway.sock"));
}

TEST(unix_equal_and_covers) {
        ListenSet s = {};
        ListenAddress u1, u2, any4, any6;

        ASSERT_OK(listen_address_parse("/run/a/gw.sock", &u1));
        ASSERT_OK(listen_address_parse("/run/b/gw.sock", &u2));
        ASSERT_OK(listen_address_parse("0.0.0.0:17671", &any4));
        ASSERT_OK(listen_address_parse("[::]:17671", &any6));
        ASSERT_TRUE(listen_address_equal(&u1, &u1));
        ASSERT_FALSE(listen_address_equal(&u1, &u2));
        ASSERT_FALSE(listen_address_equal(&u1, &any4));
        /* a path is covered by nothing and covers nothing, even an unspecified address on "port 0" */
        ASSERT_FALSE(listen_address_covers(&any4, &u1));
        ASSERT_FALSE(listen_address_covers(&any6, &u1));
        ASSERT_FALSE(listen_address_covers(&u1, &any4));
        ASSERT_FALSE(listen_address_covers(&u1, &u1));

        ASSERT_OK(add(&s, "[::]:17670", LISTEN_ROLE_API));
        ASSERT_OK(add(&s, "/run/a/gw.sock", LISTEN_ROLE_CALLBACK));
        ASSERT_OK(add(&s, "/run/a/gw.sock", LISTEN_ROLE_CALLBACK)); /* duplicate collapses */
        ASSERT_OK(add(&s, "/run/b/gw.sock", LISTEN_ROLE_API));
        ASSERT_EQ(s.n, 3);
        /* the same path in both roles is a conflict */
        ASSERT_ERROR(add(&s, "/run/a/gw.sock", LISTEN_ROLE_API), EADDRINUSE);
        ASSERT_ERROR(add(&s, "/run/b/gw.sock", LISTEN_ROLE_CALLBACK), EADDRINUSE);
        /* an unspecified address added later leaves the paths alone */
        ASSERT_OK(add(&s, "0.0.0.0:17671", LISTEN_ROLE_API));
        ASSERT_EQ(s.n, 4);
        ASSERT_EQ(listen_set_count_role(&s, LISTEN_ROLE_CALLBACK), 1);
}

static char *tmpdir(void) {
        char t[] = "/tmp/test-gateway-listen-XXXXXX";
        return mkdtemp(t) ? strdup(t) : NULL;
}

static void rm_rf(const char *d) {
        _cleanup_free_ char *cmd = strjoin("rm -rf ", d);
        if (cmd)
                (void) system(cmd);
}

static int unix_at(const char *dir, const char *rel, ListenAddress *ret) {
        _cleanup_free_ char *p = path_join(dir, rel);
        return p ? listen_address_parse(p, ret) : -ENOMEM;
}

static int try_connect(const ListenAddress *a) {
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        return connect(fd, &a->sa, a->len) < 0 ? -errno : 0;
}

TEST(bind_unix) {
        _cleanup_free_ char *d = tmpdir(), *dir = NULL;
        _cleanup_close_ int fd = -EBADF, fd2 = -EBADF;
        ListenAddress a, got = {};
        socklen_t len = sizeof(got.un);
        struct stat st;

        ASSERT_NOT_NULL(d);
        /* missing parents are created 0700 */
        ASSERT_OK(unix_at(d, "run/openshell/callback/gateway.sock", &a));
        fd = listen_address_bind(&a, 16);
        ASSERT_OK(fd);
        ASSERT_OK(stat(a.un.sun_path, &st));
        ASSERT_TRUE(S_ISSOCK(st.st_mode));
        ASSERT_EQ(st.st_mode & 07777, LISTEN_UNIX_SOCKET_MODE);
        dir = path_join(d, "run/openshell/callback");
        ASSERT_OK(stat(dir, &st));
        ASSERT_EQ(st.st_mode & 07777, LISTEN_UNIX_DIRECTORY_MODE);
        ASSERT_OK(getsockname(fd, &got.sa, &len));
        ASSERT_TRUE(listen_address_is_unix(&got));
        ASSERT_STREQ(got.un.sun_path, a.un.sun_path);
        ASSERT_OK(try_connect(&a));
        /* a live socket is never taken over */
        ASSERT_ERROR(listen_address_bind(&a, 16), EADDRINUSE);
        ASSERT_OK(try_connect(&a));

        /* once its owner is gone the socket is stale and is replaced */
        fd = safe_close(fd);
        ASSERT_ERROR(try_connect(&a), ECONNREFUSED);
        fd2 = listen_address_bind(&a, 16);
        ASSERT_OK(fd2);
        ASSERT_OK(try_connect(&a));
        rm_rf(d);
}

TEST(bind_unix_refuses_non_sockets) {
        _cleanup_free_ char *d = tmpdir(), *content = NULL;
        ListenAddress a, sub;
        size_t n;

        ASSERT_NOT_NULL(d);
        ASSERT_OK(unix_at(d, "gateway.sock", &a));
        ASSERT_OK(write_file_atomic(a.un.sun_path, "keep", 4, 0644));
        ASSERT_ERROR(listen_address_bind(&a, 16), EEXIST);
        /* the regular file is untouched */
        ASSERT_OK(read_full_file(a.un.sun_path, 64, &content, &n));
        ASSERT_STREQ(content, "keep");
        /* nor a directory */
        ASSERT_OK(unix_at(d, "dir.sock", &a));
        ASSERT_OK(mkdir(a.un.sun_path, 0700));
        ASSERT_ERROR(listen_address_bind(&a, 16), EEXIST);
        /* a parent that is a file cannot become a directory */
        ASSERT_OK(unix_at(d, "gateway.sock/sub.sock", &sub));
        ASSERT_ERROR(listen_address_bind(&sub, 16), ENOTDIR);
        rm_rf(d);
}

DEFINE_TEST_MAIN();
