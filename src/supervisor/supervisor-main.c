/* SPDX-License-Identifier: Apache-2.0 */
/* openshell-sandbox: the agent-side supervisor (docs/supervisor.md). main() only wires. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "policy.h"
#include "supervisor-args.h"
#include "supervisor-landlock.h"
#include "supervisor-manager.h"
#include "supervisor-seccomp.h"

extern char **environ;

int main(int argc, char **argv) {
        _cleanup_(supervisor_args_done) SupervisorArgs args = {};
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(policy_freep) Policy *policy = NULL;
        _cleanup_(syscall_filter_done) SyscallFilter filter = {};
        _cleanup_free_ char *error = NULL;
        _cleanup_close_ int landlock_fd = -EBADF;
        int r;

        log_set_program_name("openshell-sandbox");
        log_parse_environment();
        r = supervisor_args_parse(argc, argv, environ, &args);
        if (r < 0)
                return r == -ENOMEM ? log_oom(), 1 : 2;
        if (args.help) {
                supervisor_args_help();
                return 0;
        }
        if (args.version) {
                printf("openshell-sandbox %s\n", PACKAGE_VERSION);
                return 0;
        }
        if (args.policy_file) {
                r = policy_load(args.policy_file, &policy, &error);
                if (r < 0) {
                        log_error_errno(r, "Failed to load the policy '%s': %s", args.policy_file,
                                        error ?: strerror(-r));
                        return 1;
                }
        }
        /* One line each in the log, whatever the outcome. */
        landlock_fd = landlock_from_policy(policy, args.policy_file);
        if (landlock_fd < 0 && landlock_fd != -EBADF)
                return 1;
        r = syscall_filter_from_policy(policy, args.policy_file, &filter);
        if (r < 0)
                return 1;

        ManagerConfig config = {
                .workload_argv = args.argv,
                .base_env = environ,
                .landlock_fd = landlock_fd,
                .syscall_filter = &filter,
                .endpoint_url = args.endpoint,
                .sandbox = args.sandbox,
                .tls_ca = args.tls_ca,
                .tls_cert = args.tls_cert,
                .tls_key = args.tls_key,
                .server_name = args.server_name,
        };
        r = manager_new(&config, &m);
        if (r < 0)
                return 1;
        r = manager_run(m);
        return r < 0 ? 1 : r;
}
