/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "alloc-util.h"
#include "relay-conn.h"

/* Input: room for the largest frame plus one read's worth. */
#define RELAY_CONN_INPUT_SIZE (RELAY_FRAME_HEADER_SIZE + RELAY_FRAME_PAYLOAD_MAX + 16U * 1024U)

struct RelayConn {
        TlsConn *tls;
        RelayConnCallbacks callbacks;
        void *userdata;
        sd_event_source *defer; /* continues from the top of the loop: unpause, queued output, errors */

        uint8_t *in;
        size_t in_len;
        RelayBuffer out;

        bool paused;
        bool finishing;
        bool congested;
        bool closed;
};

static int relay_conn_defer_cb(sd_event_source *s, void *userdata) {
        relay_conn_io(userdata);
        return 0;
}

static void relay_conn_kick(RelayConn *rc) {
        (void) sd_event_source_set_enabled(rc->defer, SD_EVENT_ONESHOT);
}

int relay_conn_new(sd_event *event, TlsConn *tls, const void *initial, size_t initial_size,
                   const RelayConnCallbacks *callbacks, void *userdata, RelayConn **ret) {
        _cleanup_(relay_conn_freep) RelayConn *rc = NULL;
        int r;

        if (initial_size > RELAY_CONN_INPUT_SIZE)
                return -EMSGSIZE;
        rc = new0(RelayConn, 1);
        if (!rc)
                return -ENOMEM;
        rc->tls = tls;
        rc->callbacks = *callbacks;
        rc->userdata = userdata;
        rc->in = malloc(RELAY_CONN_INPUT_SIZE);
        if (!rc->in)
                return -ENOMEM;
        if (initial_size > 0)
                memcpy(rc->in, initial, initial_size);
        rc->in_len = initial_size;
        r = sd_event_add_defer(event, &rc->defer, relay_conn_defer_cb, rc);
        if (r < 0)
                return r;
        relay_conn_kick(rc);
        *ret = TAKE_PTR(rc);
        return 0;
}

RelayConn *relay_conn_free(RelayConn *rc) {
        if (!rc)
                return NULL;
        sd_event_source_disable_unref(rc->defer);
        free(rc->in);
        relay_buffer_done(&rc->out);
        return mfree(rc);
}

void *relay_conn_userdata(const RelayConn *rc) {
        return rc->userdata;
}

static void relay_conn_close(RelayConn *rc, int error) {
        if (rc->closed)
                return;
        rc->closed = true;
        (void) sd_event_source_set_enabled(rc->defer, SD_EVENT_OFF);
        if (error >= 0)
                tls_conn_shutdown(rc->tls);
        rc->callbacks.closed(rc, error, rc->userdata); /* may free rc */
}

static int relay_conn_flush(RelayConn *rc) {
        while (relay_buffer_pending(&rc->out) > 0) {
                ssize_t n = tls_conn_write(rc->tls, relay_buffer_head(&rc->out), relay_buffer_pending(&rc->out));
                if (n == -EAGAIN)
                        break;
                if (n < 0)
                        return (int) n;
                relay_buffer_consume(&rc->out, (size_t) n);
        }
        return 0;
}

/* Hands complete frames to the owner until the buffer runs dry or the owner pauses us. */
static int relay_conn_dispatch(RelayConn *rc) {
        size_t off = 0;
        int r = 0;

        while (!rc->paused) {
                RelayFrame f;
                size_t n;

                r = relay_frame_parse(rc->in + off, rc->in_len - off, &f, &n);
                if (r <= 0)
                        break;
                r = rc->callbacks.frame(rc, &f, rc->userdata);
                if (r < 0)
                        break;
                if (r == RELAY_CONN_FRAME_LATER) {
                        r = 0;
                        rc->paused = true; /* in case the callback did not say so */
                        break;
                }
                off += n;
        }
        memmove(rc->in, rc->in + off, rc->in_len - off);
        rc->in_len -= off;
        return r < 0 ? r : 0;
}

static int relay_conn_read(RelayConn *rc) {
        int r;

        for (;;) {
                ssize_t n;

                r = relay_conn_dispatch(rc);
                if (r < 0 || rc->paused)
                        return r;
                n = tls_conn_read(rc->tls, rc->in + rc->in_len, RELAY_CONN_INPUT_SIZE - rc->in_len);
                if (n == -EAGAIN)
                        return 0;
                if (n == 0)
                        return rc->in_len > 0 ? -EBADMSG : 1; /* EOF: clean only between frames */
                if (n < 0)
                        return (int) n;
                rc->in_len += (size_t) n;
        }
}

void relay_conn_io(RelayConn *rc) {
        int r;

        if (rc->closed)
                return;
        r = relay_conn_flush(rc);
        if (r < 0) {
                relay_conn_close(rc, r);
                return;
        }
        if (rc->congested && relay_buffer_pending(&rc->out) < RELAY_CONN_LOW_WATER) {
                rc->congested = false;
                if (rc->callbacks.drained)
                        rc->callbacks.drained(rc, rc->userdata);
        }
        if (rc->finishing && relay_buffer_pending(&rc->out) == 0) {
                relay_conn_close(rc, 0);
                return;
        }
        if (!rc->finishing) {
                r = relay_conn_read(rc);
                if (r != 0) {
                        relay_conn_close(rc, r > 0 ? 0 : r);
                        return;
                }
        }
        r = tls_conn_set_interest(rc->tls, !rc->paused && !rc->finishing, relay_buffer_pending(&rc->out) > 0);
        if (r < 0) {
                relay_conn_close(rc, r);
                return;
        }
        /* Frames queued while dispatching: flush them from the top of the loop. */
        if (relay_buffer_pending(&rc->out) > 0)
                relay_conn_kick(rc);
}

int relay_conn_send(RelayConn *rc, RelayFrameType type, uint32_t channel, const void *payload, size_t size) {
        int r;

        if (rc->closed || rc->finishing)
                return -ENOTCONN;
        if (relay_buffer_pending(&rc->out) + RELAY_FRAME_HEADER_SIZE + size > RELAY_CONN_OUTPUT_MAX)
                return -ENOBUFS;
        r = relay_buffer_put_frame(&rc->out, type, channel, payload, size);
        if (r < 0)
                return r;
        if (relay_buffer_pending(&rc->out) > RELAY_CONN_HIGH_WATER)
                rc->congested = true;
        relay_conn_kick(rc);
        return 0;
}

int relay_conn_send_raw(RelayConn *rc, const void *data, size_t size) {
        int r;

        if (rc->closed || rc->finishing)
                return -ENOTCONN;
        r = relay_buffer_append(&rc->out, data, size);
        if (r < 0)
                return r;
        relay_conn_kick(rc);
        return 0;
}

int relay_conn_send_u32(RelayConn *rc, RelayFrameType type, uint32_t channel, uint32_t value) {
        uint8_t p[4] = { value >> 24, value >> 16, value >> 8, value };

        return relay_conn_send(rc, type, channel, p, sizeof(p));
}

bool relay_conn_congested(const RelayConn *rc) {
        return rc->congested;
}

void relay_conn_pause(RelayConn *rc, bool paused) {
        if (rc->paused == paused)
                return;
        rc->paused = paused;
        /* Unpausing: frames may already sit in our buffer or in OpenSSL's, where epoll cannot see them. */
        relay_conn_kick(rc);
}

void relay_conn_finish(RelayConn *rc) {
        rc->finishing = true;
        relay_conn_kick(rc);
}
