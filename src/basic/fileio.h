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

/* Removes the temporaries write_file_atomic() leaves behind when the process dies between creating and
 * renaming one (regular files named "*.tmp.XXXXXX"). Only for a directory the caller writes alone, before
 * it writes there. A missing directory is fine. Returns the number removed, or negative errno. */
int remove_stale_temporaries(const char *dir);

typedef struct AtomicFile {
        const char *path;
        const void *data;
        size_t size;
        mode_t mode;
} AtomicFile;
#define WRITE_FILES_ATOMIC_MAX 8U

/* Writes up to WRITE_FILES_ATOMIC_MAX files as one change: every temporary is written and synced first,
 * and only when all of them are, they are renamed over their files in order. An error before the renames
 * (ENOSPC, EDQUOT, ...) changes nothing and leaves no temporary; a crash between the renames leaves the
 * first ones done, so order them by importance (the record that counts first). */
int write_files_atomic(const AtomicFile *files, size_t n);

/* Creates a directory and its parents with mode; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode);

/* Removes a file; a missing file is not an error. */
int unlink_if_exists(const char *path);
