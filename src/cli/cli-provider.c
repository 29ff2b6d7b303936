/* SPDX-License-Identifier: Apache-2.0 */
/* openshell provider create|list|delete */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc-util.h"
#include "cli.h"
#include "json-util.h"
#include "string-util.h"

static int provider_credential(cJSON *creds, const char *arg, bool from_env) {
        _cleanup_free_ char *key = NULL;
        const char *value, *eq = strchr(arg, '=');

        if (from_env) {
                value = getenv(arg);
                if (!value)
                        return cli_usage_error("provider", "create", "--from-env %s: the variable is not set", arg);
                key = strdup(arg);
        } else {
                if (!eq || eq == arg)
                        return cli_usage_error("provider", "create", "--credential wants KEY=VALUE");
                key = strndup_safe(arg, (size_t) (eq - arg));
                value = eq + 1;
        }
        if (!key || !cJSON_AddStringToObject(creds, key, value))
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        return 0;
}

static int provider_create(CliContext *ctx, int argc, char **argv) {
        static const struct option options[] = {
                { "type", required_argument, NULL, 't' }, { "credential", required_argument, NULL, 'c' },
                { "from-env", required_argument, NULL, 'E' }, { "output", required_argument, NULL, 'o' }, {},
        };
        _cleanup_json_ cJSON *req = cJSON_CreateObject(), *resp = NULL;
        cJSON *creds = req ? cJSON_AddObjectToObject(req, "credentials") : NULL;
        const char *type = NULL;
        int c, r;

        if (!creds)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        optind = 0;
        while ((c = getopt_long(argc, argv, "t:c:E:o:", options, NULL)) >= 0)
                switch (c) {
                case 't': type = optarg; break;
                case 'c':
                case 'E':
                        r = provider_credential(creds, optarg, c == 'E');
                        if (r != 0)
                                return r;
                        break;
                case 'o':
                        r = cli_parse_output(ctx, optarg);
                        if (r != 0)
                                return r;
                        break;
                default:
                        return cli_usage_error("provider", "create", "unknown option");
                }
        if (optind >= argc || !cli_is_valid_name(argv[optind]))
                return cli_usage_error("provider", "create", "missing or invalid provider NAME (a DNS label)");
        if (!type)
                return cli_usage_error("provider", "create", "--type TYPE is required (e.g. openai, anthropic, github)");
        if (cJSON_GetArraySize(creds) == 0)
                return cli_usage_error("provider", "create", "give at least one --credential KEY=VALUE or --from-env KEY");
        if (!cJSON_AddStringToObject(req, "name", argv[optind]) || !cJSON_AddStringToObject(req, "type", type))
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        r = cli_call(ctx, "POST", "/v1/providers", req, &resp, "cannot create the provider");
        if (r != 0)
                return r;
        if (ctx->json)
                cli_print_json(resp);
        else
                printf("%s: created\n", argv[optind]);
        return 0;
}

static int provider_list(CliContext *ctx, int argc, char **argv) {
        static const char *const headers[] = { "NAME", "TYPE", "CREDENTIAL KEYS" };
        _cleanup_json_ cJSON *j = NULL;
        const cJSON *p, *k;
        int r;

        if (argc > 2 && streq(argv[1], "-o"))
                r = cli_parse_output(ctx, argv[2]);
        else
                r = argc > 1 ? cli_usage_error("provider", "list", "unexpected argument '%s'", argv[1]) : 0;
        if (r != 0)
                return r;
        r = cli_call(ctx, "GET", "/v1/providers", NULL, &j, "cannot list providers");
        if (r != 0)
                return r;
        if (ctx->json) {
                cli_print_json(j);
                return 0;
        }
        size_t n = 0, i = 0;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(j, "providers"))
                n++;
        _cleanup_free_ char ***rows = new0(char **, n + 1);
        _cleanup_free_ char **cells = new0(char *, 3 * n + 1);
        if (!rows || !cells)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(j, "providers")) {
                char *keys = NULL;

                cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(p, "credential_keys"))
                        if (cJSON_IsString(k)) {
                                char *t = keys ? strjoin(keys, ",", k->valuestring) : strdup(k->valuestring);
                                free_and_replace(keys, t);
                        }
                rows[i] = cells + 3 * i;
                rows[i][0] = (char *) cli_json_str(p, "name");
                rows[i][1] = (char *) cli_json_str(p, "type");
                rows[i][2] = keys;
                i++;
        }
        cli_print_table(headers, ELEMENTSOF(headers), rows, i);
        for (size_t x = 0; x < i; x++)
                free(rows[x][2]);
        return 0;
}

static int provider_delete(CliContext *ctx, int argc, char **argv) {
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (argc != 2 || !cli_is_valid_name(argv[1]))
                return cli_usage_error("provider", "delete", "usage: openshell provider delete NAME");
        path = strjoin("/v1/providers/", argv[1]);
        r = cli_call(ctx, "DELETE", path, NULL, &j, "cannot delete the provider");
        if (r != 0)
                return r;
        printf("%s: deleted\n", argv[1]);
        return 0;
}

const CliVerb cli_provider_verbs[] = {
        { "create", provider_create, "NAME --type TYPE (--credential KEY=VALUE | --from-env KEY)...",
          "Store credentials; sandboxes see placeholders, their proxy swaps in the values" },
        { "list", provider_list, "[-o json]", "List providers (credential keys only, never values)" },
        { "delete", provider_delete, "NAME", "Delete a provider no sandbox uses" },
        {},
};
