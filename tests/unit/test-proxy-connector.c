/* SPDX-License-Identifier: Apache-2.0 */
/* The connector's AF_UNIX target: a real listening socket in a temporary directory, a socket file nobody
 * listens on, a missing path, a full backlog and bad paths. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "path-util.h"
#include "proxy-connector.h"
#include "proxy-settings.h"
#include "string-util.h"
#include "tests.h"

typedef struct Result {
        int calls;
        int fd_or_error;
        char detail[300];
} Result;

static void done_cb(Connector *c, int fd_or_error, const char *detail, void *userdata) {
        Result *res = userdata;

        res->calls++;
        res->fd_or_error = fd_or_error;
        snprintf(res->detail, sizeof(res->detail), "%s", strempty(detail));
        connector_free(c); /* what every owner does: the callback may free the connector */
}

/* Runs the loop until the connector reports; the 30 s bound only guards against a hang. */
static int run_until_called(sd_event *e, const Result *res) {
        while (res->calls == 0) {
                int r = sd_event_run(e, 30 * USEC_PER_SEC);
                if (r <= 0)
                        return r < 0 ? r : -ETIMEDOUT;
        }
        return 0;
}

static int unix_listen(const char *path, int backlog) {
        struct sockaddr_storage ss;
        socklen_t len;
        int fd, r;

        r = proxy_parse_unix_address(path, &ss, &len);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, backlog) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static char *temp_dir(void) {
        char t[] = "/tmp/test-proxy-connector-XXXXXX";

        return mkdtemp(t) ? strdup(t) : NULL;
}

static void cleanup_dir(char *dir, const char *sock) {
        _cleanup_free_ char *p = path_join(dir, sock);

        if (p)
                (void) unlink(p);
        (void) rmdir(dir);
        free(dir);
}

TEST(connects_to_a_listening_socket) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int l = -EBADF, a = -EBADF, fd = -EBADF;
        char *dir = temp_dir(), buf[8] = {};
        Connector *c = NULL;
        Result res = {};

        ASSERT_NOT_NULL(dir);
        ASSERT_NOT_NULL(path = path_join(dir, "gateway.sock"));
        ASSERT_TRUE((l = unix_listen(path, 16)) >= 0);
        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(connector_start_unix(e, path, done_cb, &res, &c));
        ASSERT_NOT_NULL(c);
        ASSERT_EQ(res.calls, 0); /* never from within the call: the owner must hold the connector first */
        ASSERT_OK(run_until_called(e, &res));
        ASSERT_EQ(res.calls, 1);
        ASSERT_TRUE(res.fd_or_error >= 0);
        fd = res.fd_or_error;
        /* A usable, non-blocking, close-on-exec stream to the listener. */
        ASSERT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
        ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        ASSERT_TRUE((a = accept4(l, NULL, NULL, SOCK_CLOEXEC)) >= 0);
        ASSERT_EQ(write(fd, "ping", 4), 4);
        ASSERT_EQ(read(a, buf, sizeof(buf)), 4);
        ASSERT_STREQ(buf, "ping");
        cleanup_dir(dir, "gateway.sock");
}

TEST(refused_when_nobody_listens) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_free_ char *path = NULL;
        char *dir = temp_dir();
        Connector *c = NULL;
        Result res = {};
        int l;

        ASSERT_NOT_NULL(dir);
        ASSERT_NOT_NULL(path = path_join(dir, "gateway.sock"));
        /* The socket file stays behind when its listener closes (a stopped gateway). */
        ASSERT_TRUE((l = unix_listen(path, 16)) >= 0);
        close(l);
        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(connector_start_unix(e, path, done_cb, &res, &c));
        ASSERT_OK(run_until_called(e, &res));
        ASSERT_EQ(res.fd_or_error, -ECONNREFUSED);
        ASSERT_CONTAINS(res.detail, path); /* the message names the socket */
        ASSERT_CONTAINS(res.detail, "refused");
        cleanup_dir(dir, "gateway.sock");
}

TEST(missing_socket) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_free_ char *path = NULL;
        char *dir = temp_dir();
        Connector *c = NULL;
        Result res = {};

        ASSERT_NOT_NULL(dir);
        ASSERT_NOT_NULL(path = path_join(dir, "nothing-here.sock"));
        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(connector_start_unix(e, path, done_cb, &res, &c));
        ASSERT_OK(run_until_called(e, &res));
        ASSERT_EQ(res.fd_or_error, -ENOENT);
        ASSERT_CONTAINS(res.detail, "unix:");
        cleanup_dir(dir, "nothing-here.sock");
}

TEST(full_backlog_fails_at_once) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int l = -EBADF;
        int pending[64];
        size_t n = 0;
        struct sockaddr_storage ss;
        socklen_t len;
        char *dir = temp_dir();
        Connector *c = NULL;
        Result res = {};
        bool full = false;

        ASSERT_NOT_NULL(dir);
        ASSERT_NOT_NULL(path = path_join(dir, "gateway.sock"));
        ASSERT_TRUE((l = unix_listen(path, 0)) >= 0);
        ASSERT_OK(proxy_parse_unix_address(path, &ss, &len));
        /* Fill the backlog with connections nobody accepts, until a non-blocking connect() says EAGAIN. */
        for (; n < ELEMENTSOF(pending) && !full; n++) {
                pending[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                ASSERT_TRUE(pending[n] >= 0);
                full = connect(pending[n], (struct sockaddr *) &ss, len) < 0 && errno == EAGAIN;
        }
        ASSERT_TRUE(full);
        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(connector_start_unix(e, path, done_cb, &res, &c));
        ASSERT_OK(run_until_called(e, &res));
        ASSERT_EQ(res.fd_or_error, -EAGAIN); /* a retryable failure, never a blocked loop */
        for (size_t i = 0; i < n; i++)
                close(pending[i]);
        cleanup_dir(dir, "gateway.sock");
}

TEST(bad_paths) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        char long_path[120];
        Connector *c = NULL;
        Result res = {};

        memset(long_path, 'a', sizeof(long_path) - 1);
        long_path[0] = '/';
        long_path[sizeof(long_path) - 1] = 0;
        ASSERT_OK(sd_event_new(&e));
        ASSERT_ERROR(connector_start_unix(e, "relative/gateway.sock", done_cb, &res, &c), EINVAL);
        ASSERT_ERROR(connector_start_unix(e, "/run/../gateway.sock", done_cb, &res, &c), EINVAL);
        ASSERT_ERROR(connector_start_unix(e, "/run/gw\n.sock", done_cb, &res, &c), EINVAL);
        ASSERT_ERROR(connector_start_unix(e, long_path, done_cb, &res, &c), ENAMETOOLONG);
        ASSERT_NULL(c);
        ASSERT_EQ(res.calls, 0);
}

TEST(freed_before_it_ran) {
        /* An owner that gives up (its timeout) before the loop ran: no callback, nothing leaks. */
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        Connector *c = NULL;
        Result res = {};

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(connector_start_unix(e, "/nonexistent/gateway.sock", done_cb, &res, &c));
        connector_free(c);
        ASSERT_OK(sd_event_run(e, 0));
        ASSERT_EQ(res.calls, 0);
}

TEST(address_strings) {
        struct sockaddr_storage ss;
        socklen_t len;
        char buf[160];

        ASSERT_OK(proxy_parse_unix_address("/run/openshell/gateway/gateway.sock", &ss, &len));
        ASSERT_EQ(ss.ss_family, AF_UNIX);
        ASSERT_EQ(len, offsetof(struct sockaddr_un, sun_path) + strlen("/run/openshell/gateway/gateway.sock") + 1);
        ASSERT_STREQ(sockaddr_to_string((struct sockaddr *) &ss, buf, sizeof(buf)),
                     "unix:/run/openshell/gateway/gateway.sock");
}

DEFINE_TEST_MAIN();
