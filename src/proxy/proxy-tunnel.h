/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A bidirectional byte relay between two connected stream sockets that moves data with splice(2) through
 * one pipe per direction, so payload never enters user space. Half-closes are propagated (EOF on one side
 * becomes shutdown(SHUT_WR) on the other once the pipe drained); the tunnel ends when both directions
 * ended, on an error, or after idle_timeout without traffic. */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "time-util.h"

typedef struct Tunnel Tunnel;

/* Called once when the tunnel ends; error is 0 (both sides closed), -ETIMEDOUT (idle) or a negative errno.
 * The callback may free the tunnel. */
typedef void (*tunnel_done_t)(Tunnel *t, int error, void *userdata);

/* Takes ownership of fd_a and fd_b (also on failure). pipe_size bounds the bytes buffered per direction. */
int tunnel_new(sd_event *event, int fd_a, int fd_b, size_t pipe_size, usec_t idle_timeout, tunnel_done_t cb,
               void *userdata, Tunnel **ret);
Tunnel *tunnel_free(Tunnel *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Tunnel *, tunnel_free);

/* Bytes moved a → b and b → a so far. */
uint64_t tunnel_bytes_a_to_b(const Tunnel *t);
uint64_t tunnel_bytes_b_to_a(const Tunnel *t);
