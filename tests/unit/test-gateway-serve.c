/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "gateway-serve.h"
#include "string-util.h"
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

TEST(unix_fd_takes_its_name) {
        char tmpl[] = "/tmp/test-gateway-serve-XXXXXX";
        _cleanup_free_ char *path = NULL, *cmd = NULL;
        ActivatedFd fds[4];
        ListenAddress a;
        char pid[16];
        size_t n = 0;
        int fd;

        ASSERT_NOT_NULL(mkdtemp(tmpl));
        path = strjoin(tmpl, "/callback/gateway.sock");
        ASSERT_OK(listen_address_parse(path, &a));
        fd = listen_address_bind(&a, 4);
        ASSERT_OK(fd);
        ASSERT_OK(dup2(fd, SD_LISTEN_FDS_START));
        close(fd);
        snprintf(pid, sizeof(pid), "%d", (int) getpid());
        setenv("LISTEN_PID", pid, 1);
        setenv("LISTEN_FDS", "1", 1);
        setenv("LISTEN_FDNAMES", "callback", 1);
        ASSERT_EQ(gateway_collect_activated(fds, 4, &n), 1);
        ASSERT_EQ(fds[0].role, LISTEN_ROLE_CALLBACK);
        ASSERT_EQ(fds[0].fd, SD_LISTEN_FDS_START);
        close(fds[0].fd);
        cmd = strjoin("rm -rf ", tmpl);
        (void) system(cmd);
}

static int target(const char *conf, bool user, char **ret_url, char **ret_socket) {
        GatewayConfig c;
        ListenSet s;
        int r;

        setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
        r = gateway_config_init(&c, user);
        if (r >= 0)
                r = gateway_config_load_text(&c, "test.conf", conf, strlen(conf));
        if (r >= 0)
                r = gateway_config_listen_set(&c, &s);
        if (r >= 0)
                r = gateway_callback_target(&c, &s, user, ret_url, ret_socket);
        gateway_config_done(&c);
        unsetenv("XDG_RUNTIME_DIR");
        return r;
}

TEST(callback_target_unix) {
        _cleanup_free_ char *url = NULL, *sock = NULL;

        /* the user default: the socket, with the name the server certificate carries */
        ASSERT_OK(target("", true, &url, &sock));
        ASSERT_STREQ(url, "https://host.openshell.internal");
        ASSERT_STREQ(sock, "/run/user/4242/openshell/callback/gateway.sock");
        url = mfree(url);
        sock = mfree(sock);
        /* a system gateway configured with the socket; plaintext with DisableTLS= */
        ASSERT_OK(target("[Gateway]\nDisableTLS=yes\nCallbackAddress=\nCallbackAddress=/run/openshell/callback/gateway.sock\n",
                         false, &url, &sock));
        ASSERT_STREQ(url, "http://host.openshell.internal");
        ASSERT_STREQ(sock, GATEWAY_CALLBACK_SOCKET_SYSTEM);
        url = mfree(url);
        sock = mfree(sock);
        /* CallbackEndpoint= replaces the URL, the socket stays */
        ASSERT_OK(target("[Gateway]\nCallbackEndpoint=https://gw.example.internal\n", true, &url, &sock));
        ASSERT_STREQ(url, "https://gw.example.internal");
        ASSERT_STREQ(sock, "/run/user/4242/openshell/callback/gateway.sock");
}

TEST(callback_target_first_listener_decides) {
        _cleanup_free_ char *url = NULL, *sock = NULL;

        /* TCP first: no socket, even with a socket listener after it */
        ASSERT_OK(target("[Gateway]\nCallbackAddress=\nCallbackAddress=10.214.0.1:17671\nCallbackAddress=/run/os/cb/gw.sock\n",
                         false, &url, &sock));
        ASSERT_STREQ(url, "https://10.214.0.1:17671");
        ASSERT_NULL(sock);
        url = mfree(url);
        /* unspecified addresses are skipped; the socket after one decides */
        ASSERT_OK(target("[Gateway]\nCallbackAddress=\nCallbackAddress=0.0.0.0:17671\nCallbackAddress=/run/os/cb/gw.sock\n",
                         false, &url, &sock));
        ASSERT_STREQ(url, "https://host.openshell.internal");
        ASSERT_STREQ(sock, "/run/os/cb/gw.sock");
}

TEST(callback_target_tcp_unchanged) {
        _cleanup_free_ char *url = NULL, *sock = NULL;

        ASSERT_OK(target("", false, &url, &sock));
        ASSERT_STREQ(url, "https://10.214.0.1:17671");
        ASSERT_NULL(sock);
        url = mfree(url);
        ASSERT_OK(target("[Gateway]\nCallbackAddress=\nCallbackAddress=127.0.0.2:17699\n", false, &url, &sock));
        ASSERT_STREQ(url, "https://host.containers.internal:17699");
        url = mfree(url);
        ASSERT_OK(target("[Gateway]\nCallbackAddress=\nCallbackAddress=192.168.1.5:17671\n", true, &url, &sock));
        ASSERT_STREQ(url, "https://host.containers.internal:17671");
        ASSERT_NULL(sock);
        url = mfree(url);
        /* no callback listener: nothing to write into specs */
        ASSERT_OK(target("[Gateway]\nCallbackAddress=\n", true, &url, &sock));
        ASSERT_NULL(url);
        ASSERT_NULL(sock);
}

DEFINE_TEST_MAIN();
