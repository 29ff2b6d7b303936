/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Opt-in Landlock (https://docs.kernel.org/userspace-api/landlock.html) from the policy's
 * filesystem_policy section:
 *
 *   filesystem_policy:
 *     read_only: [/usr, /etc]
 *     read_write: [/workspace, /tmp]
 *
 * The supervisor builds the ruleset once and every child enforces it right before exec (the supervisor
 * itself stays unrestricted so that it can keep serving). Everything not listed is denied to the
 * children. Without the section (or with both lists empty) nothing is restricted. On a kernel without
 * Landlock the policy is skipped with a warning (OpenShell's "best_effort" compatibility); with
 * landlock: {compatibility: hard_requirement} that is an error instead. */

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "macro.h"
#include "policy.h"

typedef struct LandlockPaths {
        char **read_only;
        char **read_write;
        bool hard_requirement;
} LandlockPaths;

void landlock_paths_done(LandlockPaths *p);

/* Reads the two sections (either may be NULL). -EINVAL with *ret_error for a malformed section. An empty
 * result (no paths) means "no Landlock". */
int landlock_paths_from_policy(const cJSON *filesystem_policy, const cJSON *landlock, LandlockPaths *ret,
                               const char **ret_error);

/* The kernel's Landlock ABI version, or a negative errno (-EOPNOTSUPP: disabled/absent). */
int landlock_abi_version(void);

/* Creates the ruleset; returns a CLOEXEC fd, -EBADF when there is nothing to enforce, or a negative
 * errno (-EOPNOTSUPP without kernel support). Paths that do not exist are skipped (logged at debug). */
int landlock_ruleset_create(const LandlockPaths *p);

/* Builds the ruleset of a loaded policy (path for messages) and logs one line either way ("Landlock:
 * off ..." or what is enforced). p may be NULL (no policy). Returns an fd, -EBADF when nothing is
 * restricted (no policy, no paths, or Landlock unavailable under best_effort), or a negative errno
 * (logged) for an invalid section or a hard requirement the kernel cannot meet. */
int landlock_from_policy(const Policy *p, const char *path);
