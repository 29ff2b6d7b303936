/* SPDX-License-Identifier: Apache-2.0 */
/* relay-conn on a plaintext socketpair driven by a real sd-event loop: frames arrive whole and in order,
 * a peer that breaks the protocol ends the connection with -EBADMSG/-EMSGSIZE (never a crash), EOF
 * between frames is a clean end, and a peer that stops reading makes the sender congested. */
#include <sys/socket.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "relay-conn.h"
#include "string-util.h"
#include "tests.h"

typedef struct End {
        TlsConn *tls;
        RelayConn *rc;
        sd_event *event;
        unsigned n_frames;
        RelayFrameType last_type;
        char data[256];
        size_t data_len;
        bool closed;
        int error;
        bool drained;
        unsigned defer_first; /* return RELAY_CONN_FRAME_LATER for this many calls */
        unsigned n_calls;
} End;

static int end_frame(RelayConn *rc, const RelayFrame *f, void *userdata) {
        End *e = userdata;

        e->n_calls++;
        if (e->defer_first > 0) {
                e->defer_first--;
                relay_conn_pause(rc, true);
                return RELAY_CONN_FRAME_LATER;
        }
        e->n_frames++;
        e->last_type = f->type;
        if (f->type == RELAY_FRAME_STDOUT && e->data_len + f->size < sizeof(e->data)) {
                memcpy(e->data + e->data_len, f->payload, f->size);
                e->data_len += f->size;
        }
        if (f->type == RELAY_FRAME_EXIT)
                (void) sd_event_exit(e->event, 0);
        return 0;
}

static void end_drained(RelayConn *rc, void *userdata) {
        End *e = userdata;
        e->drained = true;
}

static void end_closed(RelayConn *rc, int error, void *userdata) {
        End *e = userdata;

        e->closed = true;
        e->error = error;
        (void) sd_event_exit(e->event, 0);
}

static const RelayConnCallbacks end_callbacks = { .frame = end_frame, .drained = end_drained, .closed = end_closed };

static void end_io(TlsConn *t, void *userdata) {
        End *e = userdata;
        if (e->rc && !e->closed)
                relay_conn_io(e->rc);
}
/* A RelayConn sits on a TlsConn that is ready (handshake done). */
static void end_ready(TlsConn *t, void *userdata) {
        End *e = userdata;

        if (relay_conn_new(e->event, t, NULL, 0, &end_callbacks, e, &e->rc) < 0)
                e->closed = true;
}
static void end_failed(TlsConn *t, int error, void *userdata) {
        End *e = userdata;
        e->closed = true;
        e->error = error;
}
static const TlsConnCallbacks tls_callbacks = { .ready = end_ready, .io = end_io, .failed = end_failed };

static int end_setup(sd_event *event, int fd, End *e) {
        int r;

        *e = (End) { .event = event };
        r = tls_conn_new(event, fd, NULL, false, NULL, 0, &tls_callbacks, e, &e->tls);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < 100 && !e->rc && !e->closed; i++) {
                r = sd_event_run(event, 0);
                if (r < 0)
                        return r;
        }
        return e->rc ? 0 : -ENOTCONN;
}

static void end_done(End *e) {
        e->rc = relay_conn_free(e->rc);
        e->tls = tls_conn_free(e->tls);
}

static int event_run_bounded(sd_event *event) {
        /* A bound on iterations, not on time: a hang fails the test instead of hanging the suite. */
        for (unsigned i = 0; i < 100000; i++) {
                int r = sd_event_run(event, 1000 * 1000);
                if (r < 0)
                        return r;
                if (sd_event_get_state(event) == SD_EVENT_FINISHED)
                        return 0;
        }
        return -ETIMEDOUT;
}

TEST(frames_in_order) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        int sv[2];
        End a, b;

        ASSERT_OK(sd_event_new(&event));
        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
        ASSERT_OK(end_setup(event, sv[0], &a));
        ASSERT_OK(end_setup(event, sv[1], &b));
        ASSERT_OK(relay_conn_send(a.rc, RELAY_FRAME_STDOUT, 1, "hel", 3));
        ASSERT_OK(relay_conn_send(a.rc, RELAY_FRAME_STDOUT, 1, "lo", 2));
        ASSERT_OK(relay_conn_send_u32(a.rc, RELAY_FRAME_EXIT, 1, 0));
        ASSERT_OK(event_run_bounded(event));
        ASSERT_EQ(b.n_frames, 3);
        ASSERT_EQ(b.last_type, RELAY_FRAME_EXIT);
        ASSERT_EQ(b.data_len, 5);
        ASSERT_TRUE(memcmp(b.data, "hello", 5) == 0);
        ASSERT_FALSE(b.closed);
        end_done(&a);
        end_done(&b);
}

static void malformed(const void *bytes, size_t n, int expected_error) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        int sv[2];
        End b;

        ASSERT_OK(sd_event_new(&event));
        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
        ASSERT_OK(end_setup(event, sv[1], &b));
        ASSERT_EQ(write(sv[0], bytes, n), (ssize_t) n);
        ASSERT_OK(event_run_bounded(event));
        ASSERT_TRUE(b.closed);
        ASSERT_EQ(b.error, expected_error);
        ASSERT_EQ(b.n_frames, 0);
        end_done(&b);
        safe_close(sv[0]);
}

TEST(malformed_peer_is_closed) {
        uint8_t h[RELAY_FRAME_HEADER_SIZE];

        relay_frame_header(h, RELAY_FRAME_STDOUT, 1, 0);
        h[0] = 0x7f;
        malformed(h, sizeof(h), -EBADMSG);
        relay_frame_header(h, RELAY_FRAME_STDOUT, 1, RELAY_FRAME_PAYLOAD_MAX + 1);
        malformed(h, sizeof(h), -EMSGSIZE);
        relay_frame_header(h, RELAY_FRAME_EXIT, 1, 2);
        malformed(h, sizeof(h), -EBADMSG);
}

TEST(eof_between_frames_is_clean_and_inside_a_frame_is_not) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        uint8_t h[RELAY_FRAME_HEADER_SIZE];
        int sv[2];
        End b;

        ASSERT_OK(sd_event_new(&event));
        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
        ASSERT_OK(end_setup(event, sv[1], &b));
        safe_close(sv[0]);
        ASSERT_OK(event_run_bounded(event));
        ASSERT_TRUE(b.closed);
        ASSERT_EQ(b.error, 0);
        end_done(&b);

        sd_event_unref(event);
        ASSERT_OK(sd_event_new(&event));
        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
        ASSERT_OK(end_setup(event, sv[1], &b));
        relay_frame_header(h, RELAY_FRAME_STDOUT, 1, 100);
        ASSERT_EQ(write(sv[0], h, sizeof(h)), (ssize_t) sizeof(h));
        safe_close(sv[0]);
        ASSERT_OK(event_run_bounded(event));
        ASSERT_TRUE(b.closed);
        ASSERT_EQ(b.error, -EBADMSG);
        end_done(&b);
}

TEST(congestion_and_output_cap) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_free_ char *chunk = calloc(1, RELAY_FRAME_PAYLOAD_MAX);
        int sv[2], r = 0;
        End a;

        ASSERT_NOT_NULL(chunk);
        ASSERT_OK(sd_event_new(&event));
        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
        ASSERT_OK(end_setup(event, sv[0], &a));
        /* Nobody reads sv[1]: the queue passes the high-water mark, then hits the cap. */
        for (unsigned i = 0; i < 1000 && r >= 0; i++)
                r = relay_conn_send(a.rc, RELAY_FRAME_STDOUT, 1, chunk, RELAY_FRAME_PAYLOAD_MAX);
        ASSERT_EQ(r, -ENOBUFS);
        ASSERT_TRUE(relay_conn_congested(a.rc));
        end_done(&a);
        safe_close(sv[1]);
}

/* A frame left for later is delivered again, whole and in order, once the connection is unpaused. */
TEST(frame_later) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        int sv[2];
        End a, b;

        ASSERT_OK(sd_event_new(&event));
        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
        ASSERT_OK(end_setup(event, sv[0], &a));
        ASSERT_OK(end_setup(event, sv[1], &b));
        b.defer_first = 1;
        ASSERT_OK(relay_conn_send(a.rc, RELAY_FRAME_STDOUT, 1, "ab", 2));
        ASSERT_OK(relay_conn_send(a.rc, RELAY_FRAME_STDOUT, 1, "cd", 2));
        ASSERT_OK(relay_conn_send_u32(a.rc, RELAY_FRAME_EXIT, 1, 0));
        for (unsigned i = 0; i < 100; i++)
                ASSERT_OK(sd_event_run(event, 0));
        ASSERT_EQ(b.n_calls, 1);
        ASSERT_EQ(b.n_frames, 0);
        relay_conn_pause(b.rc, false);
        ASSERT_OK(event_run_bounded(event));
        ASSERT_EQ(b.n_frames, 3);
        ASSERT_EQ(b.data_len, 4);
        ASSERT_TRUE(memcmp(b.data, "abcd", 4) == 0);
        end_done(&a);
        end_done(&b);
}

DEFINE_TEST_MAIN();
