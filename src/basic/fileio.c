/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "fileio.h"
#include "string-util.h"

int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated;
        struct stat st;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max_size)
                return -EFBIG;

        /* The buffer is sized by fstat(), not by max_size (a 200-byte record must not cost a 1 MiB
         * allocation), with one byte more to notice a file that grew meanwhile; it grows while the file does
         * (and for files that report no size, like /proc's), never past max_size + 1. */
        allocated = (size_t) st.st_size + 1;
        for (;;) {
                char *p = realloc(buf, allocated + 1); /* + the terminating NUL */

                if (!p)
                        return -ENOMEM;
                buf = p;
                n = loop_read(fd, buf + size, allocated - size);
                if (n < 0)
                        return (int) n;
                size += (size_t) n;
                if (size > max_size)
                        return -EFBIG;
                if (size < allocated)
                        break; /* EOF */
                allocated = allocated > (max_size + 1) / 2 ? max_size + 1 : allocated * 2;
        }
        buf[size] = 0;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int fsync_directory_of(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int dfd = -EBADF;

        if (!copy)
                return -ENOMEM;
        dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

/* The first half of an atomic write: the data in a synced temporary next to path (*ret_tmp). */
static int write_temporary(const AtomicFile *f, char **ret_tmp) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        tmp = asprintf_safe("%s.tmp.XXXXXX", f->path);
        if (!tmp)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = fchmod(fd, f->mode) < 0 ? -errno : 0;
        if (r >= 0)
                r = loop_write(fd, f->data, f->size);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        *ret_tmp = TAKE_PTR(tmp);
        return 0;
}

int write_files_atomic(const AtomicFile *files, size_t n) {
        char *tmp[WRITE_FILES_ATOMIC_MAX] = {};
        size_t done = 0;
        int r = 0;

        if (n == 0 || n > WRITE_FILES_ATOMIC_MAX)
                return -EINVAL;
        /* Every temporary first: running out of space (or anything else) here changes nothing. */
        for (; done < n; done++) {
                r = write_temporary(&files[done], &tmp[done]);
                if (r < 0)
                        break;
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (rename(tmp[i], files[i].path) < 0) {
                        r = -errno;
                        break;
                }
                tmp[i] = mfree(tmp[i]);
                /* The rename is durable only once the directory is synced; a failure there is not fatal. */
                (void) fsync_directory_of(files[i].path);
        }
        for (size_t i = 0; i < done; i++)
                if (tmp[i]) {
                        (void) unlink(tmp[i]);
                        free(tmp[i]);
                }
        return r;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        AtomicFile f = { .path = path, .data = data, .size = size, .mode = mode };

        return write_files_atomic(&f, 1);
}

/* "NAME.tmp.XXXXXX", the template write_file_atomic() hands to mkostemp(). */
static bool is_atomic_temporary(const char *name) {
        size_t n = strlen(name);

        return n > STRLEN(".tmp.XXXXXX") && memcmp(name + n - STRLEN(".tmp.XXXXXX"), ".tmp.", STRLEN(".tmp.")) == 0;
}

int remove_stale_temporaries(const char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        int n = 0;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        for (struct dirent *de; (de = readdir(d));) {
                struct stat st;

                if (!is_atomic_temporary(de->d_name) ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
                        return -errno;
                n++;
        }
        return n;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int unlink_if_exists(const char *path) {
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}
