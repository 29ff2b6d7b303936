/* SPDX-License-Identifier: Apache-2.0 */
/* openshell inference set|get */
#include <getopt.h>
#include <stdio.h>

#include "alloc-util.h"
#include "cli.h"
#include "json-util.h"
#include "string-util.h"

static int inference_set(CliContext *ctx, int argc, char **argv) {
        static const struct option options[] = {
                { "base-url", required_argument, NULL, 'b' }, { "model", required_argument, NULL, 'm' },
                { "provider", required_argument, NULL, 'p' }, { "api", required_argument, NULL, 'a' },
                { "output", required_argument, NULL, 'o' }, {},
        };
        _cleanup_json_ cJSON *req = cJSON_CreateObject(), *resp = NULL;
        _cleanup_free_ char *path = NULL;
        int c, r;

        if (!req)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        optind = 0;
        while ((c = getopt_long(argc, argv, "o:", options, NULL)) >= 0) {
                const char *key = c == 'b' ? "base_url" : c == 'm' ? "model" : c == 'p' ? "provider" : c == 'a' ? "api" : NULL;

                if (c == 'o') {
                        r = cli_parse_output(ctx, optarg);
                        if (r != 0)
                                return r;
                        continue;
                }
                if (!key)
                        return cli_usage_error("inference", "set", "unknown option");
                cJSON_DeleteItemFromObject(req, key);
                if (!cJSON_AddStringToObject(req, key, optarg))
                        return cli_error(CLI_EXIT_FAILURE, "out of memory");
        }
        if (optind >= argc || !cli_is_valid_name(argv[optind]))
                return cli_usage_error("inference", "set", "missing or invalid sandbox NAME");
        if (!cJSON_GetObjectItem(req, "base_url") || !cJSON_GetObjectItem(req, "model"))
                return cli_usage_error("inference", "set", "--base-url URL and --model MODEL are required");
        path = strjoin("/v1/sandboxes/", argv[optind], "/inference");
        r = cli_call(ctx, "PUT", path, req, &resp, "cannot set the inference route");
        if (r != 0)
                return r;
        if (ctx->json)
                cli_print_json(resp);
        else
                printf("%s: inference.local → %s (model %s)\n", argv[optind], strna(cli_json_str(resp, "base_url")),
                       strna(cli_json_str(resp, "model")));
        return 0;
}

static int inference_get(CliContext *ctx, int argc, char **argv) {
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_free_ char *path = NULL;
        int c, r;

        optind = 0;
        while ((c = getopt(argc, argv, "o:")) >= 0) {
                if (c != 'o')
                        return cli_usage_error("inference", "get", "unknown option");
                r = cli_parse_output(ctx, optarg);
                if (r != 0)
                        return r;
        }
        if (optind >= argc || !cli_is_valid_name(argv[optind]))
                return cli_usage_error("inference", "get", "missing or invalid sandbox NAME");
        path = strjoin("/v1/sandboxes/", argv[optind], "/inference");
        r = cli_call(ctx, "GET", path, NULL, &j, "cannot get the inference route");
        if (r != 0)
                return r;
        if (ctx->json)
                cli_print_json(j);
        else
                printf("Base URL: %s\nModel:    %s\nProvider: %s\nAPI:      %s\n", strna(cli_json_str(j, "base_url")),
                       strna(cli_json_str(j, "model")), strna(cli_json_str(j, "provider")), strna(cli_json_str(j, "api")));
        return 0;
}

const CliVerb cli_inference_verbs[] = {
        { "set", inference_set, "NAME --base-url URL --model MODEL [--provider P] [--api openai|anthropic]",
          "Route the sandbox's inference.local to a model backend" },
        { "get", inference_get, "NAME [-o json]", "Show a sandbox's inference route" },
        {},
};
