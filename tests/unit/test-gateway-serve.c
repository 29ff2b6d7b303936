/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "fd-util.h"
#include "gateway-serve.h"
#include "tests.h"

/* Places listening sockets (or, with plain_file, a non-socket) at fd 3.. and sets LISTEN_* like systemd. */
static int fake_activation(unsigned n, const char *names, bool plain_file) {
        char buf[32];

        for (unsigned i = 0; i < n; i++) {
                ListenAddress a;
                int fd;

                if (plain_file && i == n - 1)
                        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                else {
                        if (listen_address_parse("127.0.0.1:1", &a) < 0)
                                return -EINVAL;
                        a.in.sin_port = 0;
                        fd = listen_address_bind(&a, 4);
                }
                if (fd < 0)
                        return fd;
                if (fd == SD_LISTEN_FDS_START + (int) i)
                        continue;
                if (dup2(fd, SD_LISTEN_FDS_START + (int) i) < 0)
                        return -errno;
                close(fd);
        }
        snprintf(buf, sizeof(buf), "%d", (int) getpid());
        setenv("LISTEN_PID", buf, 1);
        snprintf(buf, sizeof(buf), "%u", n);
        setenv("LISTEN_FDS", buf, 1);
        setenv("LISTEN_FDNAMES", names, 1);
        return 0;
}

TEST(not_activated) {
        ActivatedFd fds[4];
        size_t n = 99;
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_PID");
        ASSERT_EQ(gateway_collect_activated(fds, 4, &n), 0);
        ASSERT_EQ(n, 0);
}

TEST(names_decide_roles) {
        ActivatedFd fds[4];
        size_t n = 0;

        ASSERT_OK(fake_activation(3, "api:callback:api", false));
        ASSERT_EQ(gateway_collect_activated(fds, 4, &n), 3);
        ASSERT_EQ(n, 3);
        ASSERT_EQ(fds[0].role, LISTEN_ROLE_API);
        ASSERT_EQ(fds[1].role, LISTEN_ROLE_CALLBACK);
        ASSERT_EQ(fds[2].role, LISTEN_ROLE_API);
        ASSERT_EQ(fds[0].fd, SD_LISTEN_FDS_START);
        /* LISTEN_* is gone, so nothing we spawn inherits it. */
        ASSERT_NULL(getenv("LISTEN_FDS"));
        ASSERT_NULL(getenv("LISTEN_PID"));
        ASSERT_NULL(getenv("LISTEN_FDNAMES"));
        for (size_t i = 0; i < n; i++)
                close(fds[i].fd);
}

TEST(unknown_name_fails_closed) {
        ActivatedFd fds[4];
        size_t n = 0;
        ASSERT_OK(fake_activation(2, "api:admin", false));
        ASSERT_ERROR(gateway_collect_activated(fds, 4, &n), EBADR);
        /* unnamed fds ("unknown" in systemd's terms) are refused too */
        ASSERT_OK(fake_activation(1, "", false));
        unsetenv("LISTEN_FDNAMES");
        ASSERT_ERROR(gateway_collect_activated(fds, 4, &n), EBADR);
}

TEST(non_socket_fails) {
        ActivatedFd fds[4];
        size_t n = 0;
        ASSERT_OK(fake_activation(2, "api:api", true));
        ASSERT_ERROR(gateway_collect_activated(fds, 4, &n), ENOTSOCK);
}

DEFINE_TEST_MAIN();
