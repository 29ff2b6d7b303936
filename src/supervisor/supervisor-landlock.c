/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <linux/landlock.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "path-util.h"
#include "policy.h"
#include "string-util.h"
#include "supervisor-landlock.h"

#define LANDLOCK_READ (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* Everything ABI 1 knows. */
#define LANDLOCK_WRITE_V1                                                                                  \
        (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |  \
         LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |        \
         LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |     \
         LANDLOCK_ACCESS_FS_MAKE_SYM)
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

void landlock_paths_done(LandlockPaths *p) {
        p->read_only = strv_free(p->read_only);
        p->read_write = strv_free(p->read_write);
}

static int paths_from_array(const cJSON *fs, const char *key, char ***ret, const char **ret_error) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(fs, key), *item;

        if (!a)
                return 0;
        if (!cJSON_IsArray(a)) {
                *ret_error = "filesystem_policy.read_only/read_write must be lists of absolute paths";
                return -EINVAL;
        }
        cJSON_ArrayForEach(item, a) {
                if (!cJSON_IsString(item) || !path_is_normalized_absolute(item->valuestring)) {
                        *ret_error = "filesystem_policy.read_only/read_write entries must be normalized absolute paths";
                        return -EINVAL;
                }
                if (strv_extend(ret, item->valuestring) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int landlock_paths_from_policy(const cJSON *filesystem_policy, const cJSON *landlock, LandlockPaths *ret,
                               const char **ret_error) {
        _cleanup_(landlock_paths_done) LandlockPaths p = {};
        const cJSON *compat;
        int r;

        if (filesystem_policy && !cJSON_IsObject(filesystem_policy)) {
                *ret_error = "filesystem_policy must be a mapping";
                return -EINVAL;
        }
        if (filesystem_policy) {
                r = paths_from_array(filesystem_policy, "read_only", &p.read_only, ret_error);
                if (r < 0)
                        return r;
                r = paths_from_array(filesystem_policy, "read_write", &p.read_write, ret_error);
                if (r < 0)
                        return r;
        }
        compat = landlock && cJSON_IsObject(landlock) ? cJSON_GetObjectItemCaseSensitive(landlock, "compatibility") : NULL;
        if (compat) {
                if (!cJSON_IsString(compat) ||
                    !(streq(compat->valuestring, "best_effort") || streq(compat->valuestring, "hard_requirement"))) {
                        *ret_error = "landlock.compatibility must be best_effort or hard_requirement";
                        return -EINVAL;
                }
                p.hard_requirement = streq(compat->valuestring, "hard_requirement");
        }
        *ret = p;
        p = (LandlockPaths) {};
        return 0;
}

int landlock_abi_version(void) {
        long v = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

        if (v < 0)
                return IN_SET(errno, ENOSYS, EOPNOTSUPP) ? -EOPNOTSUPP : negative_errno();
        return (int) v;
}

static uint64_t landlock_handled(int abi) {
        uint64_t a = LANDLOCK_READ | LANDLOCK_WRITE_V1;

        if (abi >= 2)
                a |= LANDLOCK_ACCESS_FS_REFER;
        if (abi >= 3)
                a |= LANDLOCK_ACCESS_FS_TRUNCATE;
        return a;
}

static int landlock_add(int ruleset, const char *path, uint64_t access) {
        struct landlock_path_beneath_attr attr = { .allowed_access = access };
        _cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
        struct stat st;

        if (fd < 0) {
                log_debug_errno(errno, "Landlock: skipping '%s': %m", path);
                return 0;
        }
        /* Directory-only rights on a file are refused by the kernel. */
        if (fstat(fd, &st) >= 0 && !S_ISDIR(st.st_mode))
                attr.allowed_access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
                                       LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
        attr.parent_fd = fd;
        if (syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) < 0)
                return negative_errno();
        return 0;
}

int landlock_ruleset_create(const LandlockPaths *p) {
        struct landlock_ruleset_attr attr = {};
        _cleanup_close_ int fd = -EBADF;
        uint64_t handled;
        int abi, r;

        if (strv_length(p->read_only) == 0 && strv_length(p->read_write) == 0)
                return -EBADF;
        abi = landlock_abi_version();
        if (abi < 0)
                return abi;
        handled = landlock_handled(abi);
        attr.handled_access_fs = handled;
        fd = (int) syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
        if (fd < 0)
                return negative_errno();
        STRV_FOREACH(path, p->read_only) {
                r = landlock_add(fd, *path, LANDLOCK_READ);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(path, p->read_write) {
                r = landlock_add(fd, *path, handled);
                if (r < 0)
                        return r;
        }
        return TAKE_FD(fd);
}

int landlock_from_policy(const Policy *p, const char *path) {
        _cleanup_(landlock_paths_done) LandlockPaths paths = {};
        const char *e = NULL;
        int r, fd;

        if (!p) {
                log_info("Landlock: off (no policy).");
                return -EBADF;
        }
        r = landlock_paths_from_policy(p->filesystem_policy, p->landlock, &paths, &e);
        if (r < 0)
                return log_error_errno(r, "Invalid policy '%s': %s", path, strna(e));
        fd = landlock_ruleset_create(&paths);
        if (fd == -EBADF) {
                log_info("Landlock: off ('%s' has no filesystem_policy paths).", path);
                return -EBADF;
        }
        /* EPERM: a seccomp filter around us (an outer container) refuses the Landlock system calls. */
        if (IN_SET(fd, -EOPNOTSUPP, -EPERM) && !paths.hard_requirement) {
                log_warning("Landlock: off, not available here (%s): filesystem_policy of '%s' is not enforced (best_effort).",
                            fd == -EPERM ? "refused by a seccomp filter" : "the kernel has none", path);
                return -EBADF;
        }
        if (fd == -EPERM)
                return log_error_errno(fd, "Landlock is refused here (a seccomp filter denies its system calls) and "
                                       "'%s' requires it (landlock.compatibility: hard_requirement).", path);
        if (fd < 0)
                return log_error_errno(fd, "Failed to set up Landlock for '%s': %m", path);
        log_info("Landlock: %zu read-only and %zu read-write path(s) enforced on every child (ABI %d).",
                 strv_length(paths.read_only), strv_length(paths.read_write), landlock_abi_version());
        return fd;
}
