/* SPDX-License-Identifier: Apache-2.0 */
/* PID 1 duties, each in a forked child that runs a Manager: the workload's exit code becomes ours,
 * SIGTERM reaches the workload, orphans are reaped. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd-util.h"
#include "supervisor-manager.h"
#include "tests.h"

extern char **environ;

/* Runs a Manager with "sh -c script" (NULL: no workload) in a child whose stdout is a pipe; returns the
 * child's pid. The child blocks the stop signals first, so one sent early stays pending for the Manager. */
static pid_t run_manager(const char *script, int *ret_stdout) {
        int p[2];
        pid_t pid;

        sigset_t ss, old;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGHUP);
        sigprocmask(SIG_BLOCK, &ss, &old);
        pid = fork();
        if (pid != 0)
                sigprocmask(SIG_SETMASK, &old, NULL);
        if (pid == 0) {
                char *argv[] = { (char *) "sh", (char *) "-c", (char *) script, NULL };
                ManagerConfig c = { .workload_argv = script ? argv : NULL, .base_env = environ, .landlock_fd = -EBADF };
                Manager *m = NULL;
                int r;

                alarm(60); /* a hang must not hang the suite */
                dup2(p[1], STDOUT_FILENO);
                if (manager_new(&c, &m) < 0)
                        _exit(200);
                r = manager_run(m);
                manager_free(m);
                /* Nothing may be left to reap. */
                if (waitpid(-1, NULL, WNOHANG) > 0)
                        _exit(201);
                _exit(r < 0 ? 202 : r);
        }
        close(p[1]);
        *ret_stdout = p[0];
        return pid;
}

static int wait_code(pid_t pid) {
        int status;

        if (waitpid(pid, &status, 0) != pid)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

TEST(exit_code_is_the_workloads) {
        _cleanup_close_ int out = -EBADF;
        pid_t pid = run_manager("exit 4", &out);

        ASSERT_TRUE(pid > 0);
        ASSERT_EQ(wait_code(pid), 4);
}

TEST(sigterm_is_forwarded) {
        _cleanup_close_ int out = -EBADF;
        char buf[16] = {};
        pid_t pid = run_manager("trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done", &out);

        ASSERT_TRUE(pid > 0);
        ASSERT_EQ(read(out, buf, 6), 6); /* the trap is installed */
        ASSERT_STREQ(buf, "ready\n");
        ASSERT_EQ(kill(pid, SIGTERM), 0);
        ASSERT_EQ(wait_code(pid), 42);
}

TEST(signal_without_trap_gives_128_plus) {
        _cleanup_close_ int out = -EBADF;
        char buf[16] = {};
        pid_t pid = run_manager("echo ready; exec sleep 100", &out);

        ASSERT_TRUE(pid > 0);
        ASSERT_EQ(read(out, buf, 6), 6);
        ASSERT_EQ(kill(pid, SIGHUP), 0);
        ASSERT_EQ(wait_code(pid), 128 + SIGHUP);
}

TEST(no_workload_sigterm_is_a_clean_stop) {
        _cleanup_close_ int out = -EBADF, out2 = -EBADF;
        pid_t pid = run_manager(NULL, &out);

        /* How systemd and Podman stop a sandbox without a workload: exit 0, not a failed unit. */
        ASSERT_TRUE(pid > 0);
        ASSERT_EQ(kill(pid, SIGTERM), 0);
        ASSERT_EQ(wait_code(pid), 0);
        pid = run_manager(NULL, &out2);
        ASSERT_TRUE(pid > 0);
        ASSERT_EQ(kill(pid, SIGHUP), 0);
        ASSERT_EQ(wait_code(pid), 128 + SIGHUP);
}

TEST(orphans_are_reaped) {
        _cleanup_close_ int out = -EBADF;
        /* The orphan's parent exits at once; the workload only finishes once the orphan's zombie is gone
         * (kill -0 succeeds on a zombie), which only the supervisor can do. */
        pid_t pid = run_manager("f=$(mktemp); ( sh -c 'exit 0' & echo $! > $f ); o=$(cat $f); rm -f $f; "
                                "while kill -0 $o 2>/dev/null; do sleep 0.02; done; exit 9", &out);

        ASSERT_TRUE(pid > 0);
        ASSERT_EQ(wait_code(pid), 9);
}

DEFINE_TEST_MAIN();
