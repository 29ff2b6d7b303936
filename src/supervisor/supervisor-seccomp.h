/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Opt-in seccomp from the policy's process.seccomp section (docs/policy.md, docs/supervisor.md):
 *
 *   process:
 *     seccomp:
 *       profile: baseline      # baseline (default) | none
 *       deny: [personality]    # more system calls refused with EPERM
 *
 * The supervisor compiles the filter once at start with libseccomp (which knows the architecture's
 * system call numbers and writes the argument checks) into a classic BPF program held in memory; every
 * child installs it right before exec, after Landlock, with two system calls and no allocation. Exec'd
 * programs and their children inherit it; the supervisor itself stays unfiltered. */

#include <linux/filter.h>
#include <stddef.h>

#include "macro.h"
#include "policy.h"

typedef struct SyscallFilter {
        struct sock_filter *insns;
        size_t n_insns;
        size_t n_rules; /* system calls with a rule, for the log */
} SyscallFilter;

void syscall_filter_done(SyscallFilter *f);

/* Compiles s into *ret. -EBADF when s is NULL or not enabled (nothing to filter); -EINVAL for a system
 * call name libseccomp does not know (the policy parser rejects those first); other negative errnos from
 * libseccomp. */
int syscall_filter_build(const PolicySeccomp *s, SyscallFilter *ret);

/* In the child, after fork and before exec: sets no_new_privs and installs the filter. Async-signal-safe.
 * Returns 0 or a negative errno. */
int syscall_filter_install(const SyscallFilter *f);

/* Builds the policy's filter and logs one line either way ("seccomp: off ..." or what is enforced).
 * p may be NULL (no policy). Returns 0 with ret->insns NULL when there is nothing to filter, or a
 * negative errno (logged): seccomp is never skipped silently when the policy asks for it. */
int syscall_filter_from_policy(const Policy *p, const char *path, SyscallFilter *ret);
