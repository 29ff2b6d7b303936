/* SPDX-License-Identifier: Apache-2.0 */
/* Global options and the dispatch from "GROUP VERB" to the verb tables of the group files. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "alloc-util.h"
#include "cli.h"
#include "log.h"
#include "string-util.h"

const CliGroup cli_groups[] = {
        { "sandbox", cli_sandbox_verbs, NULL, NULL, "Create, inspect and use sandboxes" },
        { "policy", cli_policy_verbs, NULL, NULL, "A sandbox's network and filesystem policy" },
        { "provider", cli_provider_verbs, NULL, NULL, "Credentials the sandboxes' proxies inject" },
        { "inference", cli_inference_verbs, NULL, NULL, "A sandbox's inference.local route" },
        { "gateway", cli_gateway_verbs, NULL, NULL, "Which gateway the CLI talks to" },
        { "status", NULL, cli_status, "[-o json]", "The selected gateway's health and sandboxes" },
        { "completion", NULL, cli_completion, "bash", "Print a shell completion script" },
        {},
};

bool cli_is_valid_name(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n <= 63 && ascii_is_lower_alnum_dash(s) && s[0] != '-' && s[n - 1] != '-';
}

int cli_error(int code, const char *fmt, ...) {
        va_list ap;

        fputs("openshell: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return code;
}

int cli_usage_error(const char *group, const char *verb, const char *fmt, ...) {
        va_list ap;

        fputs("openshell: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nSee 'openshell %s%s%s --help'.\n", group, verb ? " " : "", strempty(verb));
        return CLI_EXIT_USAGE;
}

int cli_parse_output(CliContext *ctx, const char *value) {
        if (streq(value, "json"))
                ctx->json = true;
        else if (streq(value, "table") || streq(value, "text"))
                ctx->json = false;
        else
                return cli_error(CLI_EXIT_USAGE, "unknown output format '%s': use -o json or -o table", value);
        return 0;
}

void cli_context_done(CliContext *ctx) {
        ctx->config_dir = mfree(ctx->config_dir);
        cli_gateway_done(&ctx->gateway);
        ctx->gateway_resolved = false;
}

static void cli_help(void) {
        printf("openshell [-g GATEWAY] [-o json] GROUP VERB [ARGS...]\n\n"
               "Drive openshell sandboxes through the gateway.\n\n");
        for (const CliGroup *g = cli_groups; g->name; g++) {
                char buf[64];

                if (!g->verbs) {
                        snprintf(buf, sizeof(buf), "%s %s", g->name, g->usage);
                        printf("  %-24s %s\n", buf, g->help);
                        continue;
                }
                for (const CliVerb *v = g->verbs; v->name; v++) {
                        snprintf(buf, sizeof(buf), "%s %s", g->name, v->name);
                        printf("  %-24s %s\n", buf, v->help);
                }
        }
        printf("\nGlobal options:\n"
               "  -g --gateway NAME|URL   Use this gateway (default: $OPENSHELL_GATEWAY, then the selected one)\n"
               "  -o --output json|table  Output format of read verbs\n"
               "  -h --help               Show help (also after GROUP or VERB)\n"
               "     --version            Show the version\n\n"
               "Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 5 gateway unavailable,\n"
               "6 permission denied, 7 invalid input; exec/connect: the command's code, 255 on a relay failure.\n");
}

static void cli_group_help(const CliGroup *g) {
        printf("openshell %s VERB ...\n\n%s\n\n", g->name, g->help);
        for (const CliVerb *v = g->verbs; v->name; v++)
                printf("  openshell %s %s %s\n      %s\n", g->name, v->name, strempty(v->usage), v->help);
}

static int cli_run_verb(CliContext *ctx, const CliGroup *g, int argc, char **argv) {
        if (!g->verbs)
                return g->run(ctx, argc, argv);
        if (argc < 2)
                return cli_usage_error(g->name, NULL, "'%s' needs a verb", g->name);
        if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
                cli_group_help(g);
                return 0;
        }
        for (const CliVerb *v = g->verbs; v->name; v++)
                if (streq(v->name, argv[1])) {
                        for (int i = 2; i < argc && !streq(argv[i], "--"); i++)
                                if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                                        printf("openshell %s %s %s\n\n%s\n", g->name, v->name, strempty(v->usage), v->help);
                                        return 0;
                                }
                        return v->run(ctx, argc - 1, argv + 1);
                }
        return cli_usage_error(g->name, NULL, "unknown verb '%s %s'", g->name, argv[1]);
}

int cli_main(int argc, char **argv) {
        static const struct option options[] = {
                { "gateway", required_argument, NULL, 'g' },
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        _cleanup_(cli_context_done) CliContext ctx = {};
        int c, r;

        log_set_program_name("openshell");
        log_parse_environment();
        optind = 0;
        while ((c = getopt_long(argc, argv, "+g:o:h", options, NULL)) >= 0)
                switch (c) {
                case 'g':
                        ctx.gateway_arg = optarg;
                        break;
                case 'o':
                        r = cli_parse_output(&ctx, optarg);
                        if (r != 0)
                                return r;
                        break;
                case 'h':
                        cli_help();
                        return 0;
                case 'V':
                        printf("openshell %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return cli_error(CLI_EXIT_USAGE, "see 'openshell --help'");
                }
        if (!ctx.gateway_arg)
                ctx.gateway_arg = getenv("OPENSHELL_GATEWAY");
        if (optind >= argc) {
                cli_help();
                return CLI_EXIT_USAGE;
        }
        r = cli_config_dir(&ctx.config_dir);
        if (r < 0)
                return cli_error(CLI_EXIT_FAILURE, "cannot find the configuration directory: set $HOME or $XDG_CONFIG_HOME");
        for (const CliGroup *g = cli_groups; g->name; g++)
                if (streq(g->name, argv[optind]))
                        return cli_run_verb(&ctx, g, argc - optind, argv + optind);
        return cli_error(CLI_EXIT_USAGE, "unknown command '%s'; see 'openshell --help'", argv[optind]);
}
