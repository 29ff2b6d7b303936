/* SPDX-License-Identifier: Apache-2.0 */
/* openshell status; openshell completion bash */
#include <stdio.h>

#include "alloc-util.h"
#include "cli.h"
#include "json-util.h"
#include "string-util.h"

int cli_status(CliContext *ctx, int argc, char **argv) {
        _cleanup_json_ cJSON *health = NULL, *list = NULL;
        const cJSON *s;
        unsigned total = 0, active = 0;
        int r;

        if (argc == 3 && streq(argv[1], "-o"))
                r = cli_parse_output(ctx, argv[2]);
        else
                r = argc > 1 ? cli_usage_error("status", NULL, "unexpected argument '%s'", argv[1]) : 0;
        if (r == 0)
                r = cli_call(ctx, "GET", "/v1/health", NULL, &health, "gateway health");
        if (r == 0)
                r = cli_call(ctx, "GET", "/v1/sandboxes", NULL, &list, "cannot list sandboxes");
        if (r != 0)
                return r;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(list, "sandboxes")) {
                total++;
                active += streq_ptr(cli_json_str(s, "state"), "active");
        }
        if (ctx->json) {
                _cleanup_json_ cJSON *out = cJSON_CreateObject();
                if (!out || !cJSON_AddItemReferenceToObject(out, "gateway", health) ||
                    !cJSON_AddNumberToObject(out, "sandboxes", total) || !cJSON_AddNumberToObject(out, "active", active))
                        return cli_error(CLI_EXIT_FAILURE, "out of memory");
                cli_print_json(out);
                return 0;
        }
        printf("Gateway:   %s (version %s, you are %s)\nSandboxes: %u, %u active\n", ctx->gateway.url,
               strna(cli_json_str(health, "version")), strna(cli_json_str(health, "identity")), total, active);
        return 0;
}

/* Completes groups, verbs, and sandbox names (from 'openshell sandbox list -o json') where a verb takes one. */
static const char completion_bash[] =
        "# bash completion for openshell: eval \"$(openshell completion bash)\"\n"
        "_openshell() {\n"
        "    local cur=${COMP_WORDS[COMP_CWORD]} group=${COMP_WORDS[1]} verb=${COMP_WORDS[2]}\n"
        "    case $COMP_CWORD in\n"
        "    1) COMPREPLY=($(compgen -W '%s' -- \"$cur\")) ;;\n"
        "    2) case $group in\n"
        "%s"
        "       esac ;;\n"
        "    3) case $group/$verb in\n"
        "       sandbox/create|sandbox/list|gateway/*|provider/*) ;;\n"
        "       sandbox/*|policy/*|inference/*)\n"
        "           COMPREPLY=($(compgen -W \"$(openshell sandbox list -o json 2>/dev/null | "
        "sed -n 's/.*\"name\":[[:space:]]*\"\\([a-z0-9-]*\\)\".*/\\1/p')\" -- \"$cur\")) ;;\n"
        "       esac ;;\n"
        "    esac\n"
        "}\n"
        "complete -F _openshell openshell\n";

int cli_completion(CliContext *ctx, int argc, char **argv) {
        _cleanup_free_ char *groups = strdup(""), *cases = strdup("");

        if (argc != 2 || !streq(argv[1], "bash"))
                return cli_usage_error("completion", NULL, "usage: openshell completion bash");
        for (const CliGroup *g = cli_groups; g->name && groups && cases; g++) {
                char *t = strjoin(groups, *groups ? " " : "", g->name);
                free_and_replace(groups, t);
                if (!g->verbs)
                        continue;
                _cleanup_free_ char *verbs = strdup("");
                for (const CliVerb *v = g->verbs; v->name && verbs; v++) {
                        t = strjoin(verbs, *verbs ? " " : "", v->name);
                        free_and_replace(verbs, t);
                }
                t = verbs ? asprintf_safe("%s       %s) COMPREPLY=($(compgen -W '%s' -- \"$cur\")) ;;\n", cases, g->name, verbs) : NULL;
                free_and_replace(cases, t);
        }
        if (!groups || !cases)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        printf(completion_bash, groups, cases);
        return 0;
}
