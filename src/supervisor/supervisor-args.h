/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Command line and environment of openshell-sandbox (docs/supervisor.md):
 *
 *   openshell-sandbox [--policy FILE] [--no-workload] [--] [COMMAND [ARG...]]
 *
 * COMMAND defaults to "/bin/sh -l". The gateway session comes from the environment Quadlet sets:
 * OPENSHELL_ENDPOINT, OPENSHELL_SANDBOX, OPENSHELL_TLS_CA/CERT/KEY (all three or none; https:// needs
 * them), optional OPENSHELL_TLS_SERVER_NAME and OPENSHELL_POLICY_FILE. */

#include <stdbool.h>

#include "macro.h"

#define SUPERVISOR_DEFAULT_COMMAND "/bin/sh", "-l"

typedef struct SupervisorArgs {
        char **argv; /* the workload; NULL with --no-workload */
        char *policy_file;
        char *endpoint, *sandbox, *tls_ca, *tls_cert, *tls_key, *server_name;
        bool help, version;
} SupervisorArgs;

void supervisor_args_done(SupervisorArgs *a);

/* Parses argv and the environment (envp, "K=V"). -EINVAL with a message on stderr for bad usage. */
int supervisor_args_parse(int argc, char **argv, char *const *envp, SupervisorArgs *ret);
void supervisor_args_help(void);
