/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The relay protocol (docs/supervisor.md): the framing that the CLI, the gateway and the agent supervisor
 * speak after an HTTP/1.1 upgrade to "openshell-relay/1" (RFC 9110 7.8, answered with 101).
 *
 * A stream of frames, multiplexed by channel:
 *
 *   +--------+----------+----------------+----------------+------------------+
 *   | type u8| flags u8 | channel u32 BE | length u32 BE  | payload (length) |
 *   +--------+----------+----------------+----------------+------------------+
 *
 * flags must be 0; length is at most RELAY_FRAME_PAYLOAD_MAX. Channel 0 carries the session's PING/PONG;
 * every other channel is one exec or file transfer, opened with OPEN (a JSON document, RelayOpen) by the
 * side that wants it and ended by EXIT (the process's status) or CLOSE (the requester went away).
 * Fixed-size payloads: RESIZE (rows u16, cols u16), SIGNAL (signo u32), EXIT (code u32: the exit status,
 * or 128 + signal number), EOF and CLOSE (empty). STDIN/STDOUT/STDERR carry bytes; ERROR carries a
 * human-readable UTF-8 message and is followed by EXIT. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define RELAY_PROTOCOL "openshell-relay/1"
#define RELAY_FRAME_HEADER_SIZE 10U
/* The largest payload a peer may send; bigger frames end the session (-EMSGSIZE). */
#define RELAY_FRAME_PAYLOAD_MAX (64U * 1024U)
/* OPEN: at most this many argv or env entries, and this many bytes of JSON (it is one frame). */
#define RELAY_OPEN_STRV_MAX 1024U
#define RELAY_CHANNEL_CONTROL 0U

typedef enum RelayFrameType {
        RELAY_FRAME_PING,
        RELAY_FRAME_PONG,
        RELAY_FRAME_OPEN,
        RELAY_FRAME_STDIN,
        RELAY_FRAME_STDOUT,
        RELAY_FRAME_STDERR,
        RELAY_FRAME_RESIZE,
        RELAY_FRAME_SIGNAL,
        RELAY_FRAME_EOF,
        RELAY_FRAME_EXIT,
        RELAY_FRAME_ERROR,
        RELAY_FRAME_CLOSE,
        _RELAY_FRAME_TYPE_MAX,
        _RELAY_FRAME_TYPE_INVALID = -EINVAL,
} RelayFrameType;

DECLARE_STRING_TABLE_LOOKUP(relay_frame_type, RelayFrameType);

typedef struct RelayFrame {
        RelayFrameType type;
        uint32_t channel;
        const uint8_t *payload; /* points into the parsed buffer */
        uint32_t size;
} RelayFrame;

/* Parses the frame at the start of buf. Returns 1 and fills *ret (payload points into buf) and
 * *ret_consumed; 0 when more bytes are needed; -EMSGSIZE for a length over RELAY_FRAME_PAYLOAD_MAX;
 * -EBADMSG for an unknown type, non-zero flags, a control frame on a data channel (or the reverse), or a
 * payload of the wrong size for its type. Never reads past size. */
int relay_frame_parse(const void *buf, size_t size, RelayFrame *ret, size_t *ret_consumed);

/* Writes a frame header for (type, channel, length) into out (RELAY_FRAME_HEADER_SIZE bytes). */
void relay_frame_header(uint8_t out[static RELAY_FRAME_HEADER_SIZE], RelayFrameType type, uint32_t channel,
                        uint32_t length);

/* Fixed payload accessors for RESIZE, SIGNAL and EXIT (only valid on frames relay_frame_parse() accepted). */
void relay_frame_get_resize(const RelayFrame *f, uint16_t *ret_rows, uint16_t *ret_cols);
uint32_t relay_frame_get_u32(const RelayFrame *f);

/* A byte queue with a cap, used for every outgoing direction. */
typedef struct RelayBuffer {
        uint8_t *data;
        size_t start; /* first unsent byte */
        size_t end;   /* one past the last byte */
        size_t allocated;
} RelayBuffer;

void relay_buffer_done(RelayBuffer *b);
static inline size_t relay_buffer_pending(const RelayBuffer *b) {
        return b->end - b->start;
}
static inline const uint8_t *relay_buffer_head(const RelayBuffer *b) {
        return b->data + b->start;
}
int relay_buffer_append(RelayBuffer *b, const void *data, size_t size);
void relay_buffer_consume(RelayBuffer *b, size_t size);
/* Appends a whole frame; -EMSGSIZE if size exceeds RELAY_FRAME_PAYLOAD_MAX. */
int relay_buffer_put_frame(RelayBuffer *b, RelayFrameType type, uint32_t channel, const void *payload,
                           size_t size);
int relay_buffer_put_u32(RelayBuffer *b, RelayFrameType type, uint32_t channel, uint32_t value);
int relay_buffer_put_resize(RelayBuffer *b, uint32_t channel, uint16_t rows, uint16_t cols);

/* What an OPEN asks for. */
typedef enum RelayOpenKind {
        RELAY_OPEN_EXEC,     /* run argv; STDIN in, STDOUT/STDERR out, EXIT */
        RELAY_OPEN_UPLOAD,   /* a tar stream arrives as STDIN and is unpacked into path */
        RELAY_OPEN_DOWNLOAD, /* path is packed into a tar stream sent as STDOUT */
        _RELAY_OPEN_KIND_MAX,
        _RELAY_OPEN_KIND_INVALID = -EINVAL,
} RelayOpenKind;

DECLARE_STRING_TABLE_LOOKUP(relay_open_kind, RelayOpenKind);

typedef struct RelayOpen {
        RelayOpenKind kind;
        char **argv;    /* EXEC: non-empty */
        char **env;     /* "KEY=VALUE" added to the supervisor's base environment */
        char *workdir;  /* absolute, or NULL */
        char *path;     /* UPLOAD/DOWNLOAD: absolute */
        bool tty;
        uint16_t rows, cols;
} RelayOpen;

void relay_open_done(RelayOpen *o);

/* Serializes to the JSON payload of an OPEN frame. -EMSGSIZE when it exceeds RELAY_FRAME_PAYLOAD_MAX. */
int relay_open_to_json(const RelayOpen *o, char **ret, size_t *ret_size);
/* Parses and validates an OPEN payload. -EINVAL with *ret_error (static text) saying what is wrong. */
int relay_open_from_json(const void *payload, size_t size, RelayOpen *ret, const char **ret_error);

/* True if s is "KEY=VALUE" with a non-empty KEY of [A-Za-z_][A-Za-z0-9_]*. */
bool relay_env_entry_is_valid(const char *s) _pure_;
