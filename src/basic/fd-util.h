/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "macro.h"

/* Closes fd if valid, preserving errno; always returns -EBADF. */
int safe_close(int fd);
static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

int fd_nonblock(int fd, bool nonblock);
int fd_cloexec(int fd, bool cloexec);

/* Writes all of buf, retrying on EINTR; blocking fds only. Returns 0 or negative errno. */
int loop_write(int fd, const void *buf, size_t n);
/* Reads up to n bytes, retrying on EINTR until EOF or n bytes; returns bytes read or negative errno. */
ssize_t loop_read(int fd, void *buf, size_t n);

/* Raises the soft RLIMIT_NOFILE to the hard limit, for a daemon that holds a socket per client (and never
 * uses select(), which breaks above FD_SETSIZE). *ret_limit gets the soft limit in force afterwards.
 * Returns 0 or negative errno (the limit is then unchanged). */
int rlimit_nofile_raise(uint64_t *ret_limit);
