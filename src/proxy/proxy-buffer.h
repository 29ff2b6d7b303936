/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A capped byte buffer for one direction of a connection: bytes are appended at the end and consumed
 * from the front; the capacity never grows, which is what bounds a slow peer's memory. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct Buffer {
        char *data;
        size_t capacity;
        size_t start, end;
} Buffer;

int buffer_init(Buffer *b, size_t capacity);
void buffer_done(Buffer *b);

static inline size_t buffer_length(const Buffer *b) {
        return b->end - b->start;
}
static inline const char *buffer_peek(const Buffer *b) {
        return b->data + b->start;
}
static inline bool buffer_is_empty(const Buffer *b) {
        return b->end == b->start;
}
/* Free space, counting what compaction would reclaim. */
static inline size_t buffer_room(const Buffer *b) {
        return b->capacity - buffer_length(b);
}

void buffer_consume(Buffer *b, size_t n);
/* Appends all of data or nothing: -ENOBUFS when it does not fit. */
int buffer_append(Buffer *b, const void *data, size_t n);
/* The contiguous free space at the end (compacting first); -ENOBUFS when full. Then buffer_commit(n) after
 * writing n bytes there. */
int buffer_reserve(Buffer *b, char **ret, size_t *ret_size);
void buffer_commit(Buffer *b, size_t n);
/* One read(2) into the free space: bytes read, 0 at EOF, -EAGAIN, -ENOBUFS when full, or -errno. */
ssize_t buffer_read_fd(Buffer *b, int fd);
/* One write(2) from the front: bytes written, -EAGAIN or -errno. */
ssize_t buffer_write_fd(Buffer *b, int fd);
