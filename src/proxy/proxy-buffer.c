/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy-buffer.h"

int buffer_init(Buffer *b, size_t capacity) {
        *b = (Buffer){ .capacity = capacity };
        /* Allocated lazily on first use: an idle connection costs no buffer memory. */
        return capacity > 0 ? 0 : -EINVAL;
}

void buffer_done(Buffer *b) {
        free(b->data);
        *b = (Buffer){ .capacity = b->capacity };
}

static int buffer_make_room(Buffer *b) {
        if (!b->data) {
                b->data = malloc(b->capacity);
                if (!b->data)
                        return -ENOMEM;
        }
        if (b->start > 0 && b->end == b->capacity) {
                memmove(b->data, b->data + b->start, b->end - b->start);
                b->end -= b->start;
                b->start = 0;
        }
        return 0;
}

void buffer_consume(Buffer *b, size_t n) {
        b->start += n < buffer_length(b) ? n : buffer_length(b);
        if (b->start == b->end) {
                b->start = b->end = 0;
                /* Give the memory back between bursts. */
                free(b->data);
                b->data = NULL;
        }
}

int buffer_append(Buffer *b, const void *data, size_t n) {
        int r;

        if (n == 0)
                return 0;
        if (n > buffer_room(b))
                return -ENOBUFS;
        r = buffer_make_room(b);
        if (r < 0)
                return r;
        if (b->capacity - b->end < n) {
                memmove(b->data, b->data + b->start, b->end - b->start);
                b->end -= b->start;
                b->start = 0;
        }
        memcpy(b->data + b->end, data, n);
        b->end += n;
        return 0;
}

int buffer_reserve(Buffer *b, char **ret, size_t *ret_size) {
        int r;

        if (buffer_room(b) == 0)
                return -ENOBUFS;
        r = buffer_make_room(b);
        if (r < 0)
                return r;
        if (b->start > 0 && b->capacity - b->end < buffer_room(b) / 2) {
                memmove(b->data, b->data + b->start, b->end - b->start);
                b->end -= b->start;
                b->start = 0;
        }
        *ret = b->data + b->end;
        *ret_size = b->capacity - b->end;
        return 0;
}

void buffer_commit(Buffer *b, size_t n) {
        b->end += n;
        if (b->start == b->end) {
                free(b->data);
                b->data = NULL;
                b->start = b->end = 0;
        }
}

ssize_t buffer_read_fd(Buffer *b, int fd) {
        char *p;
        size_t size;
        ssize_t n;
        int r;

        r = buffer_reserve(b, &p, &size);
        if (r < 0)
                return r;
        n = read(fd, p, size);
        if (n < 0) {
                int e = errno;
                buffer_commit(b, 0); /* may free, which may clobber errno */
                return -e;
        }
        buffer_commit(b, (size_t) n);
        return n;
}

ssize_t buffer_write_fd(Buffer *b, int fd) {
        ssize_t n;

        if (buffer_is_empty(b))
                return 0;
        n = send(fd, buffer_peek(b), buffer_length(b), MSG_NOSIGNAL);
        if (n < 0)
                return -errno;
        buffer_consume(b, (size_t) n);
        return n;
}
