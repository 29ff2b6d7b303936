/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>

#include "alloc-util.h"
#include "log.h"
#include "path-util.h"
#include "string-util.h"
#include "supervisor-args.h"
#include "supervisor-env.h"

void supervisor_args_done(SupervisorArgs *a) {
        a->argv = strv_free(a->argv);
        a->policy_file = mfree(a->policy_file);
        a->endpoint = mfree(a->endpoint);
        a->sandbox = mfree(a->sandbox);
        a->tls_ca = mfree(a->tls_ca);
        a->tls_cert = mfree(a->tls_cert);
        a->tls_key = mfree(a->tls_key);
        a->server_name = mfree(a->server_name);
}

void supervisor_args_help(void) {
        printf("openshell-sandbox [OPTIONS] [--] [COMMAND [ARG...]]\n\n"
               "The agent container's PID 1: runs COMMAND (default: /bin/sh -l), reaps every process,\n"
               "forwards SIGTERM/SIGINT/SIGHUP to it and exits with its code; holds the gateway session\n"
               "(OPENSHELL_ENDPOINT with OPENSHELL_TLS_CA/CERT/KEY) and serves exec/connect/upload/download.\n\n"
               "  -h --help            Show this help\n"
               "     --version        Show the version\n"
               "     --policy FILE    Enforce FILE's filesystem_policy (Landlock) and process.seccomp\n"
               "                      (seccomp) on every child (default: $OPENSHELL_POLICY_FILE)\n"
               "     --no-workload    Start nothing; serve sessions until SIGTERM\n");
}

static int env_dup(char *const *envp, const char *key, char **ret) {
        const char *v = supervisor_env_get(envp, key);

        if (isempty(v))
                return 0;
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

static int args_from_env(char *const *envp, SupervisorArgs *a) {
        unsigned n_tls;

        if (env_dup(envp, "OPENSHELL_ENDPOINT", &a->endpoint) < 0 || env_dup(envp, "OPENSHELL_SANDBOX", &a->sandbox) < 0 ||
            env_dup(envp, "OPENSHELL_TLS_CA", &a->tls_ca) < 0 || env_dup(envp, "OPENSHELL_TLS_CERT", &a->tls_cert) < 0 ||
            env_dup(envp, "OPENSHELL_TLS_KEY", &a->tls_key) < 0 ||
            env_dup(envp, "OPENSHELL_TLS_SERVER_NAME", &a->server_name) < 0 ||
            (!a->policy_file && env_dup(envp, "OPENSHELL_POLICY_FILE", &a->policy_file) < 0))
                return -ENOMEM;
        n_tls = !!a->tls_ca + !!a->tls_cert + !!a->tls_key;
        if (n_tls != 0 && n_tls != 3) {
                fprintf(stderr, "openshell-sandbox: OPENSHELL_TLS_CA, OPENSHELL_TLS_CERT and OPENSHELL_TLS_KEY go together: "
                                "set all three or none.\n");
                return -EINVAL;
        }
        if (a->endpoint && startswith(a->endpoint, "https://") && n_tls == 0) {
                fprintf(stderr, "openshell-sandbox: OPENSHELL_ENDPOINT is https:// but OPENSHELL_TLS_CA/CERT/KEY are not set.\n");
                return -EINVAL;
        }
        return 0;
}

int supervisor_args_parse(int argc, char **argv, char *const *envp, SupervisorArgs *ret) {
        enum { ARG_VERSION = 0x100, ARG_POLICY, ARG_NO_WORKLOAD };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "policy", required_argument, NULL, ARG_POLICY },
                { "no-workload", no_argument, NULL, ARG_NO_WORKLOAD },
                {},
        };
        _cleanup_(supervisor_args_done) SupervisorArgs a = {};
        bool no_workload = false;
        int c, r;

        optind = 0;
        /* '+': stop at the first non-option, so that the workload's own options stay its own. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        a.help = true;
                        break;
                case ARG_VERSION:
                        a.version = true;
                        break;
                case ARG_POLICY:
                        if (isempty(optarg)) {
                                fprintf(stderr, "openshell-sandbox: --policy needs a file path.\n");
                                return -EINVAL;
                        }
                        free(a.policy_file);
                        a.policy_file = strdup(optarg);
                        if (!a.policy_file)
                                return -ENOMEM;
                        break;
                case ARG_NO_WORKLOAD:
                        no_workload = true;
                        break;
                default:
                        fprintf(stderr, "openshell-sandbox: see --help for usage.\n");
                        return -EINVAL;
                }
        if (no_workload && optind < argc) {
                fprintf(stderr, "openshell-sandbox: --no-workload and a COMMAND exclude each other.\n");
                return -EINVAL;
        }
        if (!no_workload) {
                static const char *const def[] = { SUPERVISOR_DEFAULT_COMMAND };
                for (int i = optind; i < argc; i++)
                        if (strv_extend(&a.argv, argv[i]) < 0)
                                return -ENOMEM;
                if (!a.argv)
                        for (size_t i = 0; i < ELEMENTSOF(def); i++)
                                if (strv_extend(&a.argv, def[i]) < 0)
                                        return -ENOMEM;
        }
        r = args_from_env(envp, &a);
        if (r < 0)
                return r;
        *ret = a;
        a = (SupervisorArgs) {};
        return 0;
}
