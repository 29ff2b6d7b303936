/* SPDX-License-Identifier: Apache-2.0 */
/* openshell-gateway: wires configuration, listeners, TLS, the store and systemd together (docs/gateway.md). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "alloc-util.h"
#include "gateway-serve.h"
#include "log.h"
#include "string-util.h"

static char *arg_config = NULL;
static int arg_user = -1; /* -1: from the uid */
static char *arg_output_dir = NULL;
static char **arg_server_sans = NULL;

static void help(void) {
        printf("Usage: openshell-gateway [OPTIONS]                      serve the API (default)\n"
               "       openshell-gateway generate-certs --output-dir DIR [--server-san NAME]...\n\n"
               "  --config FILE        gateway.conf to read (plus FILE.d/*.conf); default\n"
               "                       " SYSCONFDIR "/openshell/gateway.conf, or\n"
               "                       ~/.config/openshell/gateway.conf for a user\n"
               "  --user / --system    per-user or system instance (default: from the uid)\n"
               "  --output-dir DIR     generate-certs: where the CA, server and CLI certificates go\n"
               "  --server-san NAME    generate-certs: an extra DNS name or IP for the server certificate\n"
               "  --help, --version\n\n"
               "Without socket activation the gateway binds BindAddress=, ExtraBindAddress= and\n"
               "CallbackAddress= itself and runs in the foreground until SIGTERM.\n");
}

static int parse_argv(int argc, char *argv[], const char **ret_verb) {
        enum { ARG_CONFIG = 0x100, ARG_USER, ARG_SYSTEM, ARG_OUTPUT_DIR, ARG_SERVER_SAN, ARG_VERSION };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "user", no_argument, NULL, ARG_USER },
                { "system", no_argument, NULL, ARG_SYSTEM },
                { "output-dir", required_argument, NULL, ARG_OUTPUT_DIR },
                { "server-san", required_argument, NULL, ARG_SERVER_SAN },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("openshell-gateway %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_CONFIG:
                        free(arg_config);
                        arg_config = strdup(optarg);
                        if (!arg_config)
                                return log_oom();
                        break;
                case ARG_USER:
                case ARG_SYSTEM:
                        arg_user = c == ARG_USER;
                        break;
                case ARG_OUTPUT_DIR:
                        free(arg_output_dir);
                        arg_output_dir = strdup(optarg);
                        if (!arg_output_dir)
                                return log_oom();
                        break;
                case ARG_SERVER_SAN:
                        if (strv_extend(&arg_server_sans, optarg) < 0)
                                return log_oom();
                        break;
                case '?':
                        return -EINVAL;
                default:
                        assert_not_reached();
                }
        *ret_verb = optind < argc ? argv[optind] : "serve";
        if (optind + 1 < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'.", argv[optind + 1]);
        return 1;
}

int main(int argc, char *argv[]) {
        const char *verb = NULL;
        int r;

        log_set_program_name("openshell-gateway");
        log_parse_environment();
        r = parse_argv(argc, argv, &verb);
        if (r <= 0)
                goto finish;
        if (arg_user < 0)
                arg_user = geteuid() != 0;

        if (streq(verb, "generate-certs"))
                r = gateway_generate_certs(arg_output_dir, arg_server_sans);
        else if (streq(verb, "serve"))
                r = gateway_serve(arg_config, arg_user);
        else
                r = log_error_errno(EINVAL, "Unknown command '%s' (try --help).", verb);
finish:
        free(arg_config);
        free(arg_output_dir);
        strv_free(arg_server_sans);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
