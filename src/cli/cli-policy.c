/* SPDX-License-Identifier: Apache-2.0 */
/* openshell policy get|set */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "alloc-util.h"
#include "cli.h"
#include "fileio.h"
#include "json-util.h"
#include "policy.h"
#include "string-util.h"
#include "time-util.h"

#define CLI_POLICY_WAIT_USEC (30U * USEC_PER_SEC)

int cli_policy_load(const char *path, cJSON **ret) {
        _cleanup_free_ char *text = NULL, *error = NULL;
        _cleanup_(policy_line_map_freep) PolicyLineMap *lines = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_json_ cJSON *j = NULL;
        unsigned line = 0, col = 0;
        const char *s;
        size_t size;
        int r;

        r = read_full_file(path, POLICY_MAX_BYTES, &text, &size);
        if (r < 0)
                return cli_error(CLI_EXIT_USAGE, "cannot read the policy '%s': %s", path, strerror(-r));
        s = text + strspn(text, " \t\r\n");
        if (*s == '{') {
                if (json_parse(text, size, &j, &line, &col) < 0)
                        return cli_error(CLI_EXIT_INVALID, "%s:%u:%u: not valid JSON", path, line, col);
        } else if (policy_yaml_to_json(text, size, &j, &lines, &error) < 0)
                return cli_error(CLI_EXIT_INVALID, "%s: %s", path, strna(error));
        /* The gateway validates again; checking here gives the error with the file's line numbers. */
        r = policy_from_json(j, lines, &p, &error);
        if (r < 0)
                return cli_error(CLI_EXIT_INVALID, "%s: invalid policy: %s", path, strna(error));
        *ret = TAKE_PTR(j);
        return 0;
}

static int policy_args(CliContext *ctx, const char *verb, int argc, char **argv, bool *ret_wait, const char **ret_name) {
        static const struct option options[] = {
                { "output", required_argument, NULL, 'o' }, { "wait", no_argument, NULL, 'w' }, {},
        };
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "o:", options, NULL)) >= 0)
                switch (c) {
                case 'o':
                        r = cli_parse_output(ctx, optarg);
                        if (r != 0)
                                return r;
                        break;
                case 'w':
                        if (!ret_wait)
                                return cli_usage_error("policy", verb, "--wait is for 'policy set'");
                        *ret_wait = true;
                        break;
                default:
                        return cli_usage_error("policy", verb, "unknown option");
                }
        if (optind >= argc || !cli_is_valid_name(argv[optind]))
                return cli_usage_error("policy", verb, "missing or invalid sandbox NAME");
        *ret_name = argv[optind++];
        return 0;
}

static int policy_get(CliContext *ctx, int argc, char **argv) {
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_free_ char *path = NULL;
        const cJSON *rev;
        const char *name;
        int r;

        r = policy_args(ctx, "get", argc, argv, NULL, &name);
        if (r != 0)
                return r;
        path = strjoin("/v1/sandboxes/", name, "/policy");
        r = cli_call(ctx, "GET", path, NULL, &j, "cannot get the sandbox's policy");
        if (r != 0)
                return r;
        if (ctx->json) {
                cli_print_json(j);
                return 0;
        }
        rev = cJSON_GetObjectItemCaseSensitive(j, "revision");
        printf("# sandbox %s, policy revision %.0f\n", name, cJSON_IsNumber(rev) ? rev->valuedouble : 0.0);
        cli_print_json(cJSON_GetObjectItemCaseSensitive(j, "policy"));
        return 0;
}

/* --wait: until the sandbox is active with this revision stored, i.e. its proxy (which follows the
 * gateway's policy watch) has been handed it. */
static int policy_wait(CliContext *ctx, const char *name, double revision) {
        _cleanup_free_ char *spath = strjoin("/v1/sandboxes/", name);
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + CLI_POLICY_WAIT_USEC;
        int r;

        if (!spath)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        for (;;) {
                _cleanup_json_ cJSON *s = NULL;
                const char *state;

                r = cli_call(ctx, "GET", spath, NULL, &s, "cannot get the sandbox");
                if (r != 0)
                        return r;
                state = cli_json_str(s, "state");
                if (streq_ptr(state, "active") || streq_ptr(state, "unknown"))
                        return 0;
                if (now_usec(CLOCK_MONOTONIC) > deadline)
                        return cli_error(CLI_EXIT_FAILURE, "policy revision %.0f is stored, but sandbox '%s' is %s: it applies "
                                         "when the sandbox runs ('openshell sandbox start %s')", revision, name, strna(state), name);
                (void) usleep(500 * 1000);
        }
}

static int policy_set(CliContext *ctx, int argc, char **argv) {
        _cleanup_json_ cJSON *req = cJSON_CreateObject(), *resp = NULL;
        _cleanup_free_ char *path = NULL;
        cJSON *policy = NULL;
        const cJSON *rev;
        const char *name;
        bool wait = false;
        int r;

        r = policy_args(ctx, "set", argc, argv, &wait, &name);
        if (r != 0)
                return r;
        if (optind >= argc)
                return cli_usage_error("policy", "set", "missing the policy FILE (JSON or YAML)");
        r = cli_policy_load(argv[optind], &policy);
        if (r != 0)
                return r;
        if (!req || !cJSON_AddItemToObject(req, "policy", policy)) {
                cJSON_Delete(policy);
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        }
        path = strjoin("/v1/sandboxes/", name, "/policy");
        r = cli_call(ctx, "PUT", path, req, &resp, "cannot set the policy");
        if (r != 0)
                return r;
        rev = cJSON_GetObjectItemCaseSensitive(resp, "revision");
        if (wait) {
                r = policy_wait(ctx, name, cJSON_IsNumber(rev) ? rev->valuedouble : 0);
                if (r != 0)
                        return r;
        }
        if (ctx->json)
                cli_print_json(resp);
        else
                printf("%s: policy revision %.0f\n", name, cJSON_IsNumber(rev) ? rev->valuedouble : 0.0);
        return 0;
}

const CliVerb cli_policy_verbs[] = {
        { "get", policy_get, "NAME [-o json]", "Show a sandbox's current policy and its revision" },
        { "set", policy_set, "NAME FILE [--wait]", "Replace a sandbox's policy (JSON or YAML); --wait until it is in force" },
        {},
};
