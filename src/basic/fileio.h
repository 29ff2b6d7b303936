/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

/* Reads a whole regular file of at most max_size bytes into a NUL-terminated buffer.
 * Returns 0, -EFBIG when larger, or negative errno. */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);

/* Writes data to path atomically: a temporary file in the same directory, fsync, rename, fsync of the
 * directory. The file gets 'mode'. Returns 0 or negative errno; never leaves the temporary behind. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);

/* Creates a directory and its parents with mode; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode);

/* Removes a file; a missing file is not an error. */
int unlink_if_exists(const char *path);
