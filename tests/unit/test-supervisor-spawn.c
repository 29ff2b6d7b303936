/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "string-util.h"
#include "supervisor-env.h"
#include "supervisor-spawn.h"
#include "tests.h"

static char *env_default[] = { (char *) "PATH=/usr/bin:/bin", (char *) "HTTP_PROXY=http://10.213.0.2:3128", NULL };

/* Reads a non-blocking fd until EOF (or EIO from a pty). */
static char *read_all(int fd) {
        char *s = NULL;
        size_t n = 0;

        for (;;) {
                char buf[4096];
                struct pollfd p = { .fd = fd, .events = POLLIN };
                (void) poll(&p, 1, 10000);
                ssize_t k = read(fd, buf, sizeof(buf));
                if (k < 0 && errno == EAGAIN)
                        continue;
                if (k <= 0)
                        break;
                s = realloc(s, n + (size_t) k + 1);
                memcpy(s + n, buf, (size_t) k);
                n += (size_t) k;
                s[n] = 0;
        }
        return s ?: strdup("");
}

TEST(find_executable) {
        _cleanup_free_ char *p = NULL;

        ASSERT_OK(spawn_find_executable("sh", "/nonexistent:/bin", &p));
        ASSERT_STREQ(p, "/bin/sh");
        ASSERT_ERROR(spawn_find_executable("no-such-program-xyz", "/bin:/usr/bin", &p), ENOENT);
        ASSERT_ERROR(spawn_find_executable("", "/bin", &p), ENOENT);
        ASSERT_ERROR(spawn_find_executable("/etc/hostname-not-there", NULL, &p), ENOENT);
}

TEST(pipes_env_stdin_exit) {
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "read x; echo \"$x $HTTP_PROXY\"; echo err >&2; exit 3", NULL };
        SpawnOptions o = { .argv = argv, .env = env_default, .landlock_fd = -EBADF };
        SpawnedProcess p;
        int status;

        ASSERT_OK(spawn_process(&o, &p));
        ASSERT_TRUE(p.pid > 0);
        ASSERT_OK(fd_nonblock(p.stdin_fd, false));
        ASSERT_OK(loop_write(p.stdin_fd, "hello\n", 6));
        p.stdin_fd = safe_close(p.stdin_fd);
        _cleanup_free_ char *out = read_all(p.stdout_fd), *err = read_all(p.stderr_fd);
        ASSERT_EQ(waitpid(p.pid, &status, 0), p.pid);
        ASSERT_STREQ(out, "hello http://10.213.0.2:3128\n");
        ASSERT_STREQ(err, "err\n");
        ASSERT_EQ(spawn_exit_code(status), 3);
        spawned_process_close(&p);
}

TEST(exec_failure_is_reported) {
        char *argv[] = { (char *) "no-such-program-xyz", NULL };
        char *argv2[] = { (char *) "/etc/passwd", NULL };
        SpawnOptions o = { .argv = argv, .env = env_default, .landlock_fd = -EBADF };
        SpawnedProcess p;

        ASSERT_ERROR(spawn_process(&o, &p), ENOENT);
        o.argv = argv2;
        ASSERT_ERROR(spawn_process(&o, &p), EACCES);
        /* chdir fails in the child: reported, nothing left running. */
        char *argv3[] = { (char *) "true", NULL };
        o.argv = argv3;
        o.workdir = "/nonexistent-dir";
        ASSERT_ERROR(spawn_process(&o, &p), ENOENT);
        ASSERT_TRUE(waitpid(-1, NULL, WNOHANG) <= 0);
}

TEST(pty_is_a_terminal_with_size) {
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "test -t 0 && test -t 1 && stty size", NULL };
        SpawnOptions o = { .argv = argv, .env = env_default, .tty = true, .rows = 33, .cols = 101, .landlock_fd = -EBADF };
        SpawnedProcess p;
        int status;

        ASSERT_OK(spawn_process(&o, &p));
        ASSERT_TRUE(p.stderr_fd < 0);
        _cleanup_free_ char *out = read_all(p.stdout_fd);
        ASSERT_EQ(waitpid(p.pid, &status, 0), p.pid);
        ASSERT_EQ(spawn_exit_code(status), 0);
        ASSERT_CONTAINS(out, "33 101");
        spawned_process_close(&p);
}

TEST(exit_codes) {
        ASSERT_EQ(spawn_exit_code(3 << 8), 3);
        ASSERT_EQ(spawn_exit_code(SIGKILL), 128 + SIGKILL);
}

DEFINE_TEST_MAIN();
