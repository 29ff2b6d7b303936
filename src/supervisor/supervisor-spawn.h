/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Starting a child: the workload (inheriting the supervisor's stdio) or an exec channel's process (pipes,
 * or a pseudo-terminal whose slave becomes the controlling terminal of a new session). The executable is
 * looked up in the child's own PATH before forking, so "not found" is reported without a fork; a failed
 * exec in the child is reported back through a CLOEXEC pipe. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "supervisor-seccomp.h"

typedef struct SpawnOptions {
        char *const *argv;
        char *const *env;     /* the complete environment (supervisor-env.h) */
        const char *workdir;  /* NULL: the supervisor's */
        bool inherit_stdio;   /* the workload */
        bool tty;             /* a new pty; else three pipes (unless inherit_stdio) */
        uint16_t rows, cols;  /* initial window size for a tty (0: leave the default) */
        int landlock_fd;      /* a Landlock ruleset to enforce in the child, or -EBADF */
        const SyscallFilter *syscall_filter; /* a seccomp filter installed after Landlock, or NULL */
} SpawnOptions;

typedef struct SpawnedProcess {
        pid_t pid;
        int stdin_fd;  /* write end; for a tty the pty master */
        int stdout_fd; /* read end; for a tty a dup of the master */
        int stderr_fd; /* read end; -EBADF for a tty */
} SpawnedProcess;

/* Resolves name against path (a PATH value) like execvp(): a name with '/' is used as it is. Returns 0
 * and a new string, -ENOENT, or -EACCES (found, not executable). */
int spawn_find_executable(const char *name, const char *path, char **ret);

/* Returns 0, or -ENOENT/-EACCES/-ENOEXEC... when the program cannot be started, -ENOTTY when no
 * pseudo-terminal can be had (no /dev/pts); no child is left running in those cases. The fds in *ret are CLOEXEC and non-blocking. */
int spawn_process(const SpawnOptions *o, SpawnedProcess *ret);

void spawned_process_close(SpawnedProcess *p);

/* The conventional exit code for a wait status: the code, or 128 + the signal. */
int spawn_exit_code(int wait_status) _const_;
