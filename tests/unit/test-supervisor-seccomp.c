/* SPDX-License-Identifier: Apache-2.0 */
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "policy.h"
#include "string-util.h"
#include "supervisor-seccomp.h"
#include "supervisor-spawn.h"
#include "tests.h"

/* A probe returns 0 or an errno; the forked child exits with it. */
typedef int (*Probe)(void);

static int result(long r) {
        return r < 0 ? errno : 0;
}

static int probe_unshare_user(void) { return result(unshare(CLONE_NEWUSER)); }
static int probe_unshare_files(void) { return result(unshare(CLONE_FILES)); }
static int probe_ptrace(void) { return result(ptrace(PTRACE_TRACEME, 0, NULL, NULL)); }
static int probe_packet(void) { return result(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)); }
/* The family with garbage in the upper half of the register: the kernel reads an int. */
static int probe_packet_high_bits(void) {
        return result(syscall(__NR_socket, (1UL << 32) | AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
}
static int probe_raw_ip(void) { return result(socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMPV6)); }
static int probe_tcp(void) { return result(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)); }
static int probe_netlink_route(void) { return result(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)); }
static int probe_netlink_audit(void) { return result(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT)); }
static int probe_clone3(void) { return result(syscall(__NR_clone3, NULL, 0)); }
static int probe_io_uring(void) { return result(syscall(__NR_io_uring_setup, 1, NULL)); }
static int probe_keyctl(void) { return result(syscall(__NR_keyctl, 0, 0, 0, 0, 0)); }
static int probe_getppid(void) { return result(syscall(__NR_getppid)); }
/* What a filtered child starts inherits the filter. */
static int probe_grandchild_unshare(void) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return errno;
        if (pid == 0)
                _exit(probe_unshare_user());
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
                return 255;
        return WEXITSTATUS(status);
}

/* Runs probe in a forked child under f (NULL: unfiltered); returns its errno, or -1 when it died. */
static int run_probe(const SyscallFilter *f, Probe probe) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return -1;
        if (pid == 0) {
                int r = f ? syscall_filter_install(f) : 0;
                _exit(r < 0 ? 200 : probe());
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
                return -1;
        return WEXITSTATUS(status);
}

static void build(PolicySeccompProfile profile, char **deny, SyscallFilter *ret) {
        PolicySeccomp s = { .enabled = true, .profile = profile, .deny = deny };

        ASSERT_OK(syscall_filter_build(&s, ret));
        ASSERT_NOT_NULL(ret->insns);
        ASSERT_TRUE(ret->n_insns > 0);
}

static void require_seccomp(void) {
        if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0)
                TEST_SKIP("no seccomp in this kernel");
}

TEST(nothing_to_build) {
        SyscallFilter f = {};
        PolicySeccomp off = {};

        ASSERT_ERROR(syscall_filter_build(NULL, &f), EBADF);
        ASSERT_ERROR(syscall_filter_build(&off, &f), EBADF);
        ASSERT_NULL(f.insns);
}

TEST(unknown_name_is_an_error) {
        char *deny[] = { (char *) "no_such_call", NULL };
        PolicySeccomp s = { .enabled = true, .profile = POLICY_SECCOMP_PROFILE_NONE, .deny = deny };
        SyscallFilter f = {};

        ASSERT_ERROR(syscall_filter_build(&s, &f), EINVAL);
        ASSERT_NULL(f.insns);
}

TEST(from_policy_off) {
        _cleanup_(syscall_filter_done) SyscallFilter f = {};
        _cleanup_(policy_freep) Policy *p = NULL;
        static const char text[] = "version: 1\n";

        ASSERT_OK(syscall_filter_from_policy(NULL, NULL, &f));
        ASSERT_NULL(f.insns);
        ASSERT_OK(policy_parse(text, strlen(text), &p, NULL));
        ASSERT_OK(syscall_filter_from_policy(p, "p.yaml", &f));
        ASSERT_NULL(f.insns);
}

TEST(from_policy_on) {
        _cleanup_(syscall_filter_done) SyscallFilter f = {};
        _cleanup_(policy_freep) Policy *p = NULL;
        static const char text[] = "version: 1\nprocess: {seccomp: {deny: [getppid]}}\n";

        require_seccomp();
        ASSERT_OK(policy_parse(text, strlen(text), &p, NULL));
        ASSERT_OK(syscall_filter_from_policy(p, "p.yaml", &f));
        ASSERT_NOT_NULL(f.insns);
        ASSERT_EQ(run_probe(&f, probe_getppid), EPERM);
        ASSERT_EQ(run_probe(&f, probe_ptrace), EPERM);
}

/* The control: what the probes give without a filter here, so that an EPERM below is the filter's. */
TEST(unfiltered_control) {
        ASSERT_EQ(run_probe(NULL, probe_ptrace), 0);
        ASSERT_EQ(run_probe(NULL, probe_tcp), 0);
        ASSERT_EQ(run_probe(NULL, probe_unshare_files), 0);
        ASSERT_EQ(run_probe(NULL, probe_getppid), 0);
        ASSERT_NE(run_probe(NULL, probe_clone3), ENOSYS);
        if (geteuid() == 0) {
                /* Root in a plain environment may do all of these; a container around the tests may not. */
                int u = run_probe(NULL, probe_unshare_user), pk = run_probe(NULL, probe_packet);
                if (u != 0 || pk != 0)
                        TEST_SKIP("unshare(CLONE_NEWUSER) or AF_PACKET refused here even unfiltered (%d, %d)", u, pk);
        }
}

TEST(baseline_denies) {
        _cleanup_(syscall_filter_done) SyscallFilter f = {};

        require_seccomp();
        build(POLICY_SECCOMP_PROFILE_BASELINE, NULL, &f);
        ASSERT_EQ(run_probe(&f, probe_unshare_user), EPERM);
        ASSERT_EQ(run_probe(&f, probe_grandchild_unshare), EPERM);
        ASSERT_EQ(run_probe(&f, probe_ptrace), EPERM);
        ASSERT_EQ(run_probe(&f, probe_packet), EPERM);
        ASSERT_EQ(run_probe(&f, probe_packet_high_bits), EPERM);
        ASSERT_EQ(run_probe(&f, probe_raw_ip), EPERM);
        ASSERT_EQ(run_probe(&f, probe_netlink_audit), EPERM);
        ASSERT_EQ(run_probe(&f, probe_io_uring), EPERM);
        ASSERT_EQ(run_probe(&f, probe_keyctl), EPERM);
        /* clone3: ENOSYS, so that libc falls back to clone(), whose flags the filter sees. */
        ASSERT_EQ(run_probe(&f, probe_clone3), ENOSYS);
}

TEST(baseline_allows) {
        _cleanup_(syscall_filter_done) SyscallFilter f = {};

        require_seccomp();
        build(POLICY_SECCOMP_PROFILE_BASELINE, NULL, &f);
        ASSERT_EQ(run_probe(&f, probe_tcp), 0);
        ASSERT_EQ(run_probe(&f, probe_netlink_route), 0);
        ASSERT_EQ(run_probe(&f, probe_unshare_files), 0);
        ASSERT_EQ(run_probe(&f, probe_getppid), 0);
        /* The process that built the filter is not filtered. */
        ASSERT_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
        ASSERT_EQ(run_probe(NULL, probe_ptrace), 0);
}

TEST(deny_list_alone) {
        _cleanup_(syscall_filter_done) SyscallFilter f = {};
        char *deny[] = { (char *) "getppid", (char *) "umount", NULL }; /* umount: not on x86-64, skipped */

        require_seccomp();
        build(POLICY_SECCOMP_PROFILE_NONE, deny, &f);
        ASSERT_EQ(run_probe(&f, probe_getppid), EPERM);
        ASSERT_EQ(run_probe(&f, probe_ptrace), 0);
        ASSERT_EQ(run_probe(&f, probe_tcp), 0);
}

/* A call the user denies outright that the baseline filters by argument: the user's rule wins. */
TEST(deny_list_overlapping_baseline) {
        _cleanup_(syscall_filter_done) SyscallFilter f = {};
        char *deny[] = { (char *) "socket", (char *) "clone3", (char *) "ptrace", NULL };

        require_seccomp();
        build(POLICY_SECCOMP_PROFILE_BASELINE, deny, &f);
        ASSERT_EQ(run_probe(&f, probe_tcp), EPERM);
        ASSERT_EQ(run_probe(&f, probe_clone3), EPERM);
        ASSERT_EQ(run_probe(&f, probe_ptrace), EPERM);
        ASSERT_EQ(run_probe(&f, probe_unshare_user), EPERM);
}

static int spawn_wait(const SyscallFilter *f, char **argv) {
        char *env[] = { (char *) "PATH=/usr/bin:/bin:/usr/sbin:/sbin", NULL };
        SpawnOptions o = { .argv = argv, .env = env, .landlock_fd = -EBADF, .syscall_filter = f };
        SpawnedProcess sp;
        int status;

        if (spawn_process(&o, &sp) < 0)
                return -1;
        if (waitpid(sp.pid, &status, 0) != sp.pid)
                status = 255 << 8;
        spawned_process_close(&sp);
        return spawn_exit_code(status);
}

/* Through spawn_process(), as the supervisor starts every child: normal programs run, unshare does not. */
TEST(spawned_children) {
        _cleanup_(syscall_filter_done) SyscallFilter f = {};
        char *sh[] = { (char *) "sh", (char *) "-c", (char *) "echo ok | cat >/dev/null && ls / >/dev/null", NULL };
        char *unshare_u[] = { (char *) "unshare", (char *) "-U", (char *) "true", NULL };
        _cleanup_free_ char *exe = NULL;

        require_seccomp();
        build(POLICY_SECCOMP_PROFILE_BASELINE, NULL, &f);
        ASSERT_EQ(spawn_wait(&f, sh), 0);
        if (spawn_find_executable("unshare", "/usr/bin:/bin", &exe) < 0)
                TEST_SKIP("no unshare(1)");
        if (spawn_wait(NULL, unshare_u) != 0)
                TEST_SKIP("unshare -U refused here even unfiltered");
        ASSERT_NE(spawn_wait(&f, unshare_u), 0);
}

DEFINE_TEST_MAIN();
