/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A relay-protocol (relay-proto.h) connection on sd-event, on top of a TlsConn that its owner keeps: the
 * owner forwards the TlsConn's io() callback to relay_conn_io(). Incoming bytes are cut into frames and
 * handed to callbacks.frame(); outgoing frames are queued and flushed as the socket allows.
 *
 * Flow control is per connection: relay_conn_congested() says the output queue is past
 * RELAY_CONN_HIGH_WATER, and producers stop (stop reading a child's pipe, stop reading the other
 * connection) until callbacks.drained() says it fell below RELAY_CONN_LOW_WATER. relay_conn_pause() stops
 * reading from the peer. The output queue is capped at RELAY_CONN_OUTPUT_MAX: a producer that ignores
 * congestion gets -ENOBUFS rather than unbounded memory.
 *
 * callbacks.closed() runs exactly once when the connection ends (peer EOF, an error, a malformed frame, a
 * frame callback that returned < 0, or relay_conn_finish() after its output drained); the owner frees the
 * RelayConn (and its TlsConn) there: it is the last thing the RelayConn does. It is never called from
 * within relay_conn_send() or frame(). */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "relay-proto.h"
#include "tls-conn.h"

#define RELAY_CONN_HIGH_WATER (256U * 1024U)
#define RELAY_CONN_LOW_WATER (64U * 1024U)
#define RELAY_CONN_OUTPUT_MAX (4U * 1024U * 1024U)
#define RELAY_CONN_FRAME_LATER 1

typedef struct RelayConn RelayConn;

typedef struct RelayConnCallbacks {
        /* The payload is valid during the call only. Return 0 when the frame was handled, < 0 to end the
         * connection, or RELAY_CONN_FRAME_LATER after relay_conn_pause(rc, true) to get the same frame again
         * once unpaused (the frame's destination is congested: nothing is buffered beyond the caps). */
        int (*frame)(RelayConn *rc, const RelayFrame *f, void *userdata);
        void (*drained)(RelayConn *rc, void *userdata);
        /* error: 0 for a clean end, else negative errno (-EBADMSG/-EMSGSIZE: the peer broke the protocol). */
        void (*closed)(RelayConn *rc, int error, void *userdata);
} RelayConnCallbacks;

/* tls stays owned by the caller and must be ready (its handshake done). initial/initial_size are bytes that were read past the HTTP upgrade. */
int relay_conn_new(sd_event *event, TlsConn *tls, const void *initial, size_t initial_size,
                   const RelayConnCallbacks *callbacks, void *userdata, RelayConn **ret);
RelayConn *relay_conn_free(RelayConn *rc);
DEFINE_TRIVIAL_CLEANUP_FUNC(RelayConn *, relay_conn_free);

void relay_conn_io(RelayConn *rc);

int relay_conn_send(RelayConn *rc, RelayFrameType type, uint32_t channel, const void *payload, size_t size);
/* Queues bytes that are not a frame: the HTTP 101 answer that precedes the relay. */
int relay_conn_send_raw(RelayConn *rc, const void *data, size_t size);
int relay_conn_send_u32(RelayConn *rc, RelayFrameType type, uint32_t channel, uint32_t value);
bool relay_conn_congested(const RelayConn *rc) _pure_;
void relay_conn_pause(RelayConn *rc, bool paused);
/* Ends the connection once everything queued has been sent. */
void relay_conn_finish(RelayConn *rc);
void *relay_conn_userdata(const RelayConn *rc) _pure_;
