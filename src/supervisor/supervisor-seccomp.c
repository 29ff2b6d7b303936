/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "string-util.h"
#include "supervisor-seccomp.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Refused outright by the baseline profile: debugging other processes, mounts, kernel modules and
 * kexec, BPF and perf, the kernel keyring, userfaultfd and io_uring (frequent sources of kernel
 * exploits), swap, reboot and process accounting. The agent container has no capabilities, so most of
 * these fail anyway; the filter also closes them to a child that gains capabilities in a user namespace
 * and shrinks the kernel surface reachable at all. */
static const char *const baseline_deny[] = {
        "ptrace", "process_vm_readv", "process_vm_writev",
        "mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
        "fspick", "mount_setattr",
        "setns",
        "bpf", "perf_event_open",
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
        "keyctl", "add_key", "request_key",
        "userfaultfd",
        "io_uring_setup", "io_uring_enter", "io_uring_register",
        "swapon", "swapoff", "reboot", "acct",
};

/* unshare() and clone() with any of these flags are refused: no new namespaces, in particular no user
 * namespace (where a child would hold every capability over its own namespaces). */
static const uint64_t namespace_flags[] = {
        CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP,
        CLONE_NEWTIME,
};

/* Arguments are compared on their low 32 bits only (the kernel reads int arguments so): a value with
 * garbage in the upper half must not slip past a comparison of the full register. */
#define LOW32 UINT64_C(0xffffffff)

void syscall_filter_done(SyscallFilter *f) {
        f->insns = mfree(f->insns);
        f->n_insns = 0;
        f->n_rules = 0;
}

static void seccomp_releasep(scmp_filter_ctx *ctx) {
        if (*ctx)
                seccomp_release(*ctx);
}

/* Adds an unconditional rule unless the name is unknown (-EINVAL) or absent on this architecture
 * (skipped: a negative pseudo number). */
static int add_named(scmp_filter_ctx ctx, const char *name, uint32_t action, size_t *n_rules) {
        int nr = seccomp_syscall_resolve_name(name), r;

        if (nr == __NR_SCMP_ERROR)
                return -EINVAL;
        if (nr < 0)
                return 0;
        r = seccomp_rule_add(ctx, action, nr, 0);
        if (r < 0)
                return r;
        (*n_rules)++;
        return 0;
}

/* unshare()/clone() with a namespace flag; the caller skips a call the user denies outright. */
static int add_namespace_rules(scmp_filter_ctx ctx, int nr) {
        /* clone()'s flags are its first argument except on s390, where the stack comes first. */
        uint32_t native = seccomp_arch_native();
        bool s390 = native == (uint32_t) SCMP_ARCH_S390 || native == (uint32_t) SCMP_ARCH_S390X;
        unsigned arg = nr == SCMP_SYS(clone) && s390 ? 1 : 0;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(namespace_flags); i++) {
                uint64_t f = namespace_flags[i];

                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, f, f));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* socket(): no packet sockets (raw frames), no raw IP, and of netlink only routing (glibc's
 * getaddrinfo() with AI_ADDRCONFIG, if_nameindex(), `ip`) and sock_diag (`ss`); audit, netfilter,
 * xfrm, generic netlink and the rest are refused. */
static int add_socket_rules(scmp_filter_ctx ctx) {
        static const uint64_t raw_ip[] = { AF_INET, AF_INET6 };
        uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
        int r;

        r = seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, AF_PACKET));
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(raw_ip); i++) {
                r = seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 2, SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, raw_ip[i]),
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW));
                if (r < 0)
                        return r;
        }
        /* The kernel knows netlink protocols 0..MAX_LINKS-1 (32) and refuses the others itself. */
        for (uint64_t proto = 0; proto < 32; proto++) {
                if (IN_SET(proto, (uint64_t) NETLINK_ROUTE, (uint64_t) NETLINK_SOCK_DIAG))
                        continue;
                r = seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 2, SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, AF_NETLINK),
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, LOW32, proto));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The baseline's rules; a call the user denies outright already has its unconditional EPERM rule, which
 * covers every argument, so its conditional rules here are left out. */
static int add_baseline(scmp_filter_ctx ctx, char *const *user_deny, size_t *n_rules) {
        int r;

        for (size_t i = 0; i < ELEMENTSOF(baseline_deny); i++) {
                if (strv_contains(user_deny, baseline_deny[i]))
                        continue;
                r = add_named(ctx, baseline_deny[i], SCMP_ACT_ERRNO(EPERM), n_rules);
                if (r < 0)
                        return r;
        }
        if (!strv_contains(user_deny, "unshare")) {
                r = add_namespace_rules(ctx, SCMP_SYS(unshare));
                if (r < 0)
                        return r;
                (*n_rules)++;
        }
        if (!strv_contains(user_deny, "clone")) {
                r = add_namespace_rules(ctx, SCMP_SYS(clone));
                if (r < 0)
                        return r;
                (*n_rules)++;
        }
        if (!strv_contains(user_deny, "clone3")) {
                /* clone3() passes its flags in memory, out of a filter's reach: ENOSYS makes glibc and
                 * others fall back to clone(), whose flags are checked. EPERM would be taken as final. */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
                if (r < 0)
                        return r;
                (*n_rules)++;
        }
        if (!strv_contains(user_deny, "socket")) {
                r = add_socket_rules(ctx);
                if (r < 0)
                        return r;
                (*n_rules)++;
        }
        return 0;
}

/* libseccomp before 2.6 can only write the program to an fd: a memfd, read back into memory. */
static int export_program(scmp_filter_ctx ctx, SyscallFilter *ret) {
        _cleanup_close_ int fd = memfd_create("openshell-seccomp", MFD_CLOEXEC);
        _cleanup_free_ struct sock_filter *insns = NULL;
        struct stat st;
        ssize_t n;
        int r;

        if (fd < 0)
                return negative_errno();
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
            st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return -E2BIG;
        insns = malloc(st.st_size);
        if (!insns)
                return -ENOMEM;
        n = pread(fd, insns, st.st_size, 0);
        if (n < 0)
                return negative_errno();
        if (n != st.st_size)
                return -EIO;
        ret->insns = TAKE_PTR(insns);
        ret->n_insns = st.st_size / sizeof(struct sock_filter);
        return 0;
}

int syscall_filter_build(const PolicySeccomp *s, SyscallFilter *ret) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        _cleanup_(syscall_filter_done) SyscallFilter f = {};
        int r;

        if (!s || !s->enabled)
                return -EBADF;
        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        /* Only the native ABI is filtered, so a call through another one (i386's int 0x80 or x32 on
         * x86-64) could dodge every rule: such a call kills the process instead. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r < 0)
                return r;
        STRV_FOREACH(name, s->deny) {
                r = add_named(ctx, *name, SCMP_ACT_ERRNO(EPERM), &f.n_rules);
                if (r < 0)
                        return r;
        }
        if (s->profile == POLICY_SECCOMP_PROFILE_BASELINE) {
                r = add_baseline(ctx, s->deny, &f.n_rules);
                if (r < 0)
                        return r;
        }
        r = export_program(ctx, &f);
        if (r < 0)
                return r;
        *ret = f;
        f = (SyscallFilter) {};
        return 0;
}

int syscall_filter_install(const SyscallFilter *f) {
        struct sock_fprog prog = { .len = (unsigned short) f->n_insns, .filter = f->insns };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();
        if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                return negative_errno();
        return 0;
}

int syscall_filter_from_policy(const Policy *p, const char *path, SyscallFilter *ret) {
        const PolicySeccomp *s = p ? &p->seccomp : NULL;
        int r;

        *ret = (SyscallFilter) {};
        if (!p) {
                log_info("seccomp: off (no policy).");
                return 0;
        }
        if (!s->enabled) {
                log_info("seccomp: off ('%s' has no process.seccomp).", path);
                return 0;
        }
        /* Fail closed: a policy that asks for a filter is never run without one. */
        if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0)
                return log_error_errno(errno, "seccomp is not available here (%m) and '%s' asks for it "
                                       "(process.seccomp).", path);
        r = syscall_filter_build(s, ret);
        if (r < 0)
                return log_error_errno(r, "Failed to build the seccomp filter of '%s': %m", path);
        log_info("seccomp: profile %s, %zu denied system call(s) from process.seccomp.deny, enforced on every "
                 "child (%zu system calls with rules, %zu BPF instructions).",
                 policy_seccomp_profile_to_string(s->profile), strv_length(s->deny), ret->n_rules, ret->n_insns);
        return 0;
}
