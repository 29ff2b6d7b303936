/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "path-util.h"
#include "string-util.h"
#include "supervisor-env.h"
#include "supervisor-spawn.h"

int spawn_find_executable(const char *name, const char *path, char **ret) {
        int r = -ENOENT;

        if (isempty(name))
                return -ENOENT;
        if (strchr(name, '/')) {
                if (access(name, X_OK) < 0)
                        return negative_errno();
                *ret = strdup(name);
                return *ret ? 0 : -ENOMEM;
        }
        for (const char *p = path ?: SUPERVISOR_DEFAULT_PATH; ; ) {
                size_t n = strcspn(p, ":");
                _cleanup_free_ char *dir = strndup_safe(p, n), *full = NULL;

                if (!dir)
                        return -ENOMEM;
                full = path_join(isempty(dir) ? "." : dir, name);
                if (!full)
                        return -ENOMEM;
                if (access(full, X_OK) >= 0) {
                        *ret = TAKE_PTR(full);
                        return 0;
                }
                if (errno == EACCES)
                        r = -EACCES;
                if (p[n] == 0)
                        break;
                p += n + 1;
        }
        return r;
}

void spawned_process_close(SpawnedProcess *p) {
        p->stdin_fd = safe_close(p->stdin_fd);
        p->stdout_fd = safe_close(p->stdout_fd);
        p->stderr_fd = safe_close(p->stderr_fd);
}

int spawn_exit_code(int wait_status) {
        if (WIFEXITED(wait_status))
                return WEXITSTATUS(wait_status);
        if (WIFSIGNALED(wait_status))
                return 128 + WTERMSIG(wait_status);
        return 255;
}

/* In the child: never returns. Reports errno through err_fd on failure. */
_noreturn_ static void spawn_child(const SpawnOptions *o, const char *exe, int stdio[3], int pty_slave, int err_fd) {
        sigset_t ss;
        int e;

        sigemptyset(&ss);
        (void) sigprocmask(SIG_SETMASK, &ss, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);

        if (!o->inherit_stdio && setsid() < 0)
                goto fail;
        if (pty_slave >= 0) {
                if (ioctl(pty_slave, TIOCSCTTY, 0) < 0)
                        goto fail;
                stdio[0] = stdio[1] = stdio[2] = pty_slave;
        }
        if (!o->inherit_stdio)
                for (int i = 0; i < 3; i++)
                        if (dup2(stdio[i], i) < 0) /* dup2 clears CLOEXEC on the copy */
                                goto fail;
        if (o->workdir && chdir(o->workdir) < 0)
                goto fail;
        if (o->landlock_fd >= 0 && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                                    syscall(__NR_landlock_restrict_self, o->landlock_fd, 0) < 0))
                goto fail;
        /* Last: from here on only execve() and the error report below run under the filter. */
        if (o->syscall_filter && o->syscall_filter->insns) {
                int r = syscall_filter_install(o->syscall_filter);
                if (r < 0) {
                        errno = -r;
                        goto fail;
                }
        }
        execve(exe, o->argv, o->env);
fail:
        e = errno;
        (void) write(err_fd, &e, sizeof(e));
        _exit(127);
}

/* Both ends are opened here, so that a missing /dev/pts is reported as such (-ENOTTY), not as a failed
 * exec. */
static int spawn_open_pty(const SpawnOptions *o, int *ret_master, int *ret_slave) {
        _cleanup_close_ int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK), s = -EBADF;
        char name[64];

        if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0)
                return -ENOTTY;
        s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (s < 0)
                return -ENOTTY;
        if (o->rows > 0 && o->cols > 0) {
                struct winsize ws = { .ws_row = o->rows, .ws_col = o->cols };
                (void) ioctl(m, TIOCSWINSZ, &ws);
        }
        *ret_master = TAKE_FD(m);
        *ret_slave = TAKE_FD(s);
        return 0;
}

static void close_pair(int p[2]) {
        p[0] = safe_close(p[0]);
        p[1] = safe_close(p[1]);
}

/* Waits for the exec to happen (the CLOEXEC pipe closes) or fail (errno arrives). */
static int spawn_wait_exec(pid_t pid, int err_fd) {
        int e = 0;
        ssize_t n = loop_read(err_fd, &e, sizeof(e));

        if (n == (ssize_t) sizeof(e)) {
                (void) waitpid(pid, NULL, 0);
                return -(e ?: EIO);
        }
        return 0;
}

int spawn_process(const SpawnOptions *o, SpawnedProcess *ret) {
        int in[2] = { -EBADF, -EBADF }, out[2] = { -EBADF, -EBADF }, err[2] = { -EBADF, -EBADF };
        int ep[2] = { -EBADF, -EBADF }, master = -EBADF, slave = -EBADF, stdio[3] = { -EBADF, -EBADF, -EBADF };
        _cleanup_free_ char *exe = NULL;
        pid_t pid;
        int r;

        r = spawn_find_executable(o->argv[0], supervisor_env_get(o->env, "PATH"), &exe);
        if (r < 0)
                return r;
        if (pipe2(ep, O_CLOEXEC) < 0)
                return negative_errno();
        if (o->tty && !o->inherit_stdio)
                r = spawn_open_pty(o, &master, &slave);
        else if (!o->inherit_stdio &&
                 (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0))
                r = negative_errno();
        if (r < 0)
                goto finish;
        stdio[0] = in[0], stdio[1] = out[1], stdio[2] = err[1];

        pid = fork();
        if (pid < 0) {
                r = negative_errno();
                goto finish;
        }
        if (pid == 0)
                spawn_child(o, exe, stdio, slave, ep[1]);
        ep[1] = safe_close(ep[1]);
        slave = safe_close(slave);
        r = spawn_wait_exec(pid, ep[0]);
        if (r < 0)
                goto finish;

        *ret = (SpawnedProcess) { .pid = pid, .stdin_fd = -EBADF, .stdout_fd = -EBADF, .stderr_fd = -EBADF };
        if (master >= 0) {
                ret->stdout_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
                if (ret->stdout_fd < 0) {
                        r = negative_errno();
                        (void) kill(pid, SIGKILL);
                        goto finish;
                }
                ret->stdin_fd = TAKE_FD(master);
        } else if (!o->inherit_stdio) {
                ret->stdin_fd = TAKE_FD(in[1]);
                ret->stdout_fd = TAKE_FD(out[0]);
                ret->stderr_fd = TAKE_FD(err[0]);
                (void) fd_nonblock(ret->stdin_fd, true);
                (void) fd_nonblock(ret->stdout_fd, true);
                (void) fd_nonblock(ret->stderr_fd, true);
        }
        r = 0;
finish:
        close_pair(in);
        close_pair(out);
        close_pair(err);
        close_pair(ep);
        safe_close(master);
        safe_close(slave);
        return r;
}
