/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd-util.h"
#include "proxy-tunnel.h"
#include "tests.h"

typedef struct State {
        int done;
        int error;
        uint64_t a_to_b, b_to_a;
} State;

static void done_cb(Tunnel *t, int error, void *userdata) {
        State *s = userdata;

        s->done++;
        s->error = error;
        s->a_to_b = tunnel_bytes_a_to_b(t);
        s->b_to_a = tunnel_bytes_b_to_a(t);
        tunnel_free(t);
}

static int tcp_pair(int ret[2]) {
        /* splice() needs real sockets on at least one side; TCP over loopback behaves like production. */
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sin);
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c, a;

        if (l < 0 || bind(l, (struct sockaddr *) &sin, len) < 0 || listen(l, 1) < 0 ||
            getsockname(l, (struct sockaddr *) &sin, &len) < 0)
                return -errno;
        c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0 || connect(c, (struct sockaddr *) &sin, len) < 0)
                return -errno;
        a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        close(l);
        if (a < 0)
                return -errno;
        ret[0] = c;
        ret[1] = a;
        return 0;
}

/* Runs the loop until the tunnel reports; the 30 s bound only guards against a hang. */
static int run_until_done(sd_event *e, State *s) {
        while (!s->done) {
                int r = sd_event_run(e, 30 * USEC_PER_SEC);
                if (r <= 0)
                        return r < 0 ? r : -ETIMEDOUT;
        }
        return 0;
}

TEST(relay_both_directions_and_half_close) {
        sd_event *e = NULL;
        Tunnel *t = NULL;
        State s = {};
        int client[2], server[2]; /* client[0] is the "agent", server[1] the "upstream" */
        char buf[64];
        static char big[300000];

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(tcp_pair(client));
        ASSERT_OK(tcp_pair(server));
        ASSERT_OK(fd_nonblock(client[1], true));
        ASSERT_OK(fd_nonblock(server[0], true));
        /* The tunnel joins the proxy-side ends: client[1] (a) and server[0] (b). */
        ASSERT_OK(tunnel_new(e, client[1], server[0], 65536, 30 * USEC_PER_SEC, done_cb, &s, &t));

        ASSERT_OK(fd_nonblock(client[0], true));
        memset(big, 'x', sizeof(big));
        /* Write more than the pipe holds while nobody reads: back-pressure, not unbounded buffering. */
        size_t sent = 0;
        while (sent < sizeof(big)) {
                ssize_t n = write(client[0], big + sent, sizeof(big) - sent);
                if (n > 0)
                        sent += (size_t) n;
                (void) sd_event_run(e, 0);
                if (n < 0) {
                        /* Drain the upstream side a bit so the sender can continue. */
                        char sink[65536];
                        while (read(server[1], sink, sizeof(sink)) > 0)
                                ;
                }
        }
        ASSERT_OK(shutdown(client[0], SHUT_WR));
        ASSERT_OK(fd_nonblock(server[1], false));
        /* Drain everything that is left until EOF reaches the upstream. */
        for (;;) {
                char sink[65536];
                ssize_t n;
                (void) sd_event_run(e, 100 * USEC_PER_MSEC);
                n = recv(server[1], sink, sizeof(sink), MSG_DONTWAIT);
                if (n == 0)
                        break;
        }
        /* The other direction still works after the half-close. */
        ASSERT_EQ(write(server[1], "pong", 4), 4);
        ASSERT_OK(close(server[1]));
        ASSERT_OK(run_until_done(e, &s));
        ASSERT_EQ(s.error, 0);
        ASSERT_EQ(s.a_to_b, sizeof(big));
        ASSERT_EQ(s.b_to_a, 4);
        ASSERT_OK(fd_nonblock(client[0], false));
        ASSERT_EQ(read(client[0], buf, sizeof(buf)), 4);
        ASSERT_TRUE(memcmp(buf, "pong", 4) == 0);
        ASSERT_EQ(read(client[0], buf, sizeof(buf)), 0);
        close(client[0]);
        sd_event_unref(e);
}

TEST(idle_timeout) {
        sd_event *e = NULL;
        Tunnel *t = NULL;
        State s = {};
        int client[2], server[2];

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(tcp_pair(client));
        ASSERT_OK(tcp_pair(server));
        ASSERT_OK(tunnel_new(e, client[1], server[0], 65536, 10 * USEC_PER_MSEC, done_cb, &s, &t));
        ASSERT_OK(run_until_done(e, &s));
        ASSERT_EQ(s.error, -ETIMEDOUT);
        close(client[0]);
        close(server[1]);
        sd_event_unref(e);
}

TEST(reset_ends_the_tunnel) {
        sd_event *e = NULL;
        Tunnel *t = NULL;
        State s = {};
        int client[2], server[2];
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(tcp_pair(client));
        ASSERT_OK(tcp_pair(server));
        ASSERT_OK(tunnel_new(e, client[1], server[0], 65536, 30 * USEC_PER_SEC, done_cb, &s, &t));
        ASSERT_OK(setsockopt(server[1], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
        close(server[1]); /* RST */
        ASSERT_EQ(write(client[0], "x", 1), 1);
        ASSERT_OK(run_until_done(e, &s));
        ASSERT_TRUE(s.error < 0 || s.error == 0);
        ASSERT_EQ(s.done, 1);
        close(client[0]);
        sd_event_unref(e);
}

DEFINE_TEST_MAIN();
