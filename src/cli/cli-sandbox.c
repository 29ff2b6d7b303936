/* SPDX-License-Identifier: Apache-2.0 */
/* openshell sandbox create|list|get|delete|start|stop|logs (exec/connect/upload/download: cli-relay.c). */
#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "alloc-util.h"
#include "cli.h"
#include "json-util.h"
#include "parse-util.h"
#include "string-util.h"
#include "time-util.h"

/* How long "create"/"start" wait for the sandbox to become active, and how often they look. */
#define CLI_WAIT_TIMEOUT_USEC (180U * USEC_PER_SEC)
#define CLI_WAIT_POLL_USEC (500U * USEC_PER_MSEC)

static int sandbox_name_arg(const char *verb, int argc, char **argv, const char **ret) {
        if (optind >= argc)
                return cli_usage_error("sandbox", verb, "missing sandbox NAME");
        if (!cli_is_valid_name(argv[optind]))
                return cli_usage_error("sandbox", verb, "'%s' is not a sandbox name (a DNS label: a-z, 0-9, '-', at most 63)",
                                       argv[optind]);
        *ret = argv[optind++];
        return 0;
}

/* Only -o/--output: the options of every read verb. */
static int parse_output_only(CliContext *ctx, const char *verb, int argc, char **argv) {
        static const struct option options[] = { { "output", required_argument, NULL, 'o' }, {} };
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "o:", options, NULL)) >= 0) {
                if (c != 'o')
                        return cli_usage_error("sandbox", verb, "unknown option");
                r = cli_parse_output(ctx, optarg);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int env_add(cJSON *env, const char *kv) {
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *key = NULL;

        if (!eq || eq == kv)
                return cli_usage_error("sandbox", "create", "--env wants KEY=VALUE, got '%s'", kv);
        key = strndup_safe(kv, (size_t) (eq - kv));
        if (!key || !cJSON_AddStringToObject(env, key, eq + 1))
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        return 0;
}

static int create_parse(int argc, char **argv, cJSON *req, cJSON *spec, bool *ret_wait, const char **ret_name) {
        enum { ARG_NO_START = 0x100, ARG_NO_WAIT };
        static const struct option options[] = {
                { "image", required_argument, NULL, 'i' },  { "provider", required_argument, NULL, 'p' },
                { "policy", required_argument, NULL, 'P' }, { "env", required_argument, NULL, 'e' },
                { "no-start", no_argument, NULL, ARG_NO_START }, { "no-wait", no_argument, NULL, ARG_NO_WAIT },
                {},
        };
        cJSON *providers = cJSON_AddArrayToObject(req, "providers"), *env = cJSON_AddObjectToObject(spec, "env"), *policy;
        bool start = true;
        int c, r;

        if (!providers || !env)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        optind = 0;
        /* Options before and after NAME; everything after "--" is the command. */
        for (;;) {
                c = getopt_long(argc, argv, "+i:p:e:", options, NULL);
                if (c < 0) {
                        if (optind < argc && !streq(argv[optind - 1], "--") && !*ret_name) {
                                *ret_name = argv[optind++];
                                continue;
                        }
                        break;
                }
                switch (c) {
                case 'i':
                        if (!cJSON_AddStringToObject(spec, "image", optarg))
                                return cli_error(CLI_EXIT_FAILURE, "out of memory");
                        break;
                case 'p':
                        if (!cli_is_valid_name(optarg))
                                return cli_usage_error("sandbox", "create", "'%s' is not a provider name", optarg);
                        cJSON_AddItemToArray(providers, cJSON_CreateString(optarg));
                        break;
                case 'P':
                        r = cli_policy_load(optarg, &policy);
                        if (r != 0)
                                return r;
                        cJSON_AddItemToObject(req, "policy", policy);
                        break;
                case 'e':
                        r = env_add(env, optarg);
                        if (r != 0)
                                return r;
                        break;
                case ARG_NO_START:
                        start = false;
                        break;
                case ARG_NO_WAIT:
                        *ret_wait = false;
                        break;
                default:
                        return cli_usage_error("sandbox", "create", "unknown option");
                }
        }
        if (!*ret_name || !cli_is_valid_name(*ret_name))
                return cli_usage_error("sandbox", "create", "missing or invalid sandbox NAME (a DNS label: a-z, 0-9, '-', at most 63)");
        if (!cJSON_GetObjectItem(spec, "image"))
                return cli_usage_error("sandbox", "create", "--image IMAGE is required");
        if (cJSON_GetArraySize(env) == 0)
                cJSON_DeleteItemFromObject(spec, "env");
        if (!cJSON_AddBoolToObject(req, "start", start))
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        if (!start)
                *ret_wait = false;
        return 0;
}

/* Polls the sandbox's state and shows the stages: on a terminal one updating line, else plain lines. */
static int sandbox_wait_active(CliContext *ctx, const char *name) {
        _cleanup_free_ char *path = strjoin("/v1/sandboxes/", name), *last = NULL;
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + CLI_WAIT_TIMEOUT_USEC;
        bool tty = isatty(STDERR_FILENO);
        int r;

        if (!path)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        for (;;) {
                _cleanup_json_ cJSON *j = NULL;
                const char *state;

                r = cli_call(ctx, "GET", path, NULL, &j, "sandbox status");
                if (r != 0)
                        return r;
                state = cli_json_str(j, "state") ?: "unknown";
                if (!streq_ptr(state, last)) {
                        fprintf(stderr, tty ? "\r\033[K%s: %s" : "%s: %s\n", name, state);
                        free(last);
                        last = strdup(state);
                }
                if (streq(state, "active") || streq(state, "unknown")) {
                        if (tty)
                                fputc('\n', stderr);
                        return 0;
                }
                if (streq(state, "failed") || now_usec(CLOCK_MONOTONIC) > deadline) {
                        if (tty)
                                fputc('\n', stderr);
                        return cli_error(CLI_EXIT_FAILURE, "sandbox '%s' did not become active (%s): see 'openshell sandbox logs %s' "
                                         "and 'systemctl status openshell-sandbox@%s'", name, state, name, name);
                }
                (void) usleep(CLI_WAIT_POLL_USEC);
        }
}

static int sandbox_create(CliContext *ctx, int argc, char **argv) {
        _cleanup_json_ cJSON *req = cJSON_CreateObject(), *resp = NULL;
        cJSON *spec = req ? cJSON_AddObjectToObject(req, "spec") : NULL, *cmd;
        bool wait = true;
        int r;

        if (!spec)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        const char *name = NULL;

        r = create_parse(argc, argv, req, spec, &wait, &name);
        if (r != 0)
                return r;
        if (optind < argc) {
                cmd = cJSON_AddArrayToObject(spec, "command");
                for (int i = optind; cmd && i < argc; i++)
                        cJSON_AddItemToArray(cmd, cJSON_CreateString(argv[i]));
        }
        if (!cJSON_AddStringToObject(spec, "name", name))
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        r = cli_call(ctx, "POST", "/v1/sandboxes", req, &resp, "cannot create the sandbox");
        if (r != 0)
                return r;
        fprintf(stderr, "%s: created\n", name);
        if (wait) {
                r = sandbox_wait_active(ctx, name);
                if (r != 0)
                        return r;
        }
        if (ctx->json)
                cli_print_json(resp);
        return 0;
}

static char *format_time(const cJSON *j, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
        struct tm tm;
        time_t t;
        char buf[32];

        if (!cJSON_IsNumber(v))
                return NULL;
        t = (time_t) v->valuedouble;
        if (!localtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm) == 0)
                return NULL;
        return strdup(buf);
}

static int sandbox_list(CliContext *ctx, int argc, char **argv) {
        static const char *const headers[] = { "NAME", "STATE", "IMAGE", "CREATED" };
        _cleanup_json_ cJSON *j = NULL;
        const cJSON *list, *s;
        char ***rows = NULL;
        size_t n = 0;
        int r;

        r = parse_output_only(ctx, "list", argc, argv);
        if (r != 0)
                return r;
        r = cli_call(ctx, "GET", "/v1/sandboxes", NULL, &j, "cannot list sandboxes");
        if (r != 0)
                return r;
        if (ctx->json) {
                cli_print_json(j);
                return 0;
        }
        list = cJSON_GetObjectItemCaseSensitive(j, "sandboxes");
        rows = new0(char **, (size_t) cJSON_GetArraySize(list) + 1);
        if (!rows)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        cJSON_ArrayForEach(s, list) {
                const cJSON *spec = cJSON_GetObjectItemCaseSensitive(s, "spec");
                char **row = new0(char *, 4);

                if (!row)
                        break;
                row[0] = strdup(strna(cli_json_str(s, "name")));
                row[1] = strdup(strna(cli_json_str(s, "state")));
                row[2] = strdup(strna(cli_json_str(spec, "image")));
                row[3] = format_time(s, "created");
                rows[n++] = row;
        }
        cli_print_table(headers, ELEMENTSOF(headers), rows, n);
        for (size_t i = 0; i < n; i++) {
                for (size_t c = 0; c < 4; c++)
                        free(rows[i][c]);
                free(rows[i]);
        }
        free(rows);
        return 0;
}

static int sandbox_get(CliContext *ctx, int argc, char **argv) {
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_free_ char *path = NULL, *created = NULL, *providers = NULL;
        const cJSON *spec, *p;
        const char *name;
        int r;

        r = parse_output_only(ctx, "get", argc, argv);
        if (r == 0)
                r = sandbox_name_arg("get", argc, argv, &name);
        if (r != 0)
                return r;
        path = strjoin("/v1/sandboxes/", name);
        r = cli_call(ctx, "GET", path, NULL, &j, "cannot get the sandbox");
        if (r != 0)
                return r;
        if (ctx->json) {
                cli_print_json(j);
                return 0;
        }
        spec = cJSON_GetObjectItemCaseSensitive(j, "spec");
        created = format_time(j, "created");
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(j, "providers"))
                if (cJSON_IsString(p)) {
                        char *t = providers ? strjoin(providers, ", ", p->valuestring) : strdup(p->valuestring);
                        free_and_replace(providers, t);
                }
        printf("Name:      %s\nState:     %s\nImage:     %s\nCreated:   %s\nProviders: %s\nGateway:   %s\nSubnet:    %s\n",
               strna(cli_json_str(j, "name")), strna(cli_json_str(j, "state")), strna(cli_json_str(spec, "image")),
               strna(created), providers ?: "-", strna(cli_json_str(spec, "gateway")), strna(cli_json_str(spec, "subnet")));
        return 0;
}

static int sandbox_simple(CliContext *ctx, int argc, char **argv, const char *verb, const char *method,
                          const char *suffix, const char *done) {
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_free_ char *path = NULL, *what = NULL;
        const char *name;
        int r;

        r = parse_output_only(ctx, verb, argc, argv);
        if (r == 0)
                r = sandbox_name_arg(verb, argc, argv, &name);
        if (r != 0)
                return r;
        path = strjoin("/v1/sandboxes/", name, suffix);
        what = strjoin("cannot ", verb, " sandbox '", name, "'");
        if (!path || !what)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        r = cli_call(ctx, method, path, NULL, &j, what);
        if (r != 0)
                return r;
        if (ctx->json)
                cli_print_json(j);
        else
                printf("%s: %s\n", name, done);
        return 0;
}

static int sandbox_delete(CliContext *ctx, int argc, char **argv) {
        return sandbox_simple(ctx, argc, argv, "delete", "DELETE", "", "deleted");
}

static int sandbox_start(CliContext *ctx, int argc, char **argv) {
        return sandbox_simple(ctx, argc, argv, "start", "POST", "/start", "start queued (see 'openshell sandbox get')");
}

static int sandbox_stop(CliContext *ctx, int argc, char **argv) {
        return sandbox_simple(ctx, argc, argv, "stop", "POST", "/stop", "stop queued");
}

/* "openshell-proxy-NAME.service" → "proxy", for a readable column. */
static const char *unit_role(const char *unit) {
        if (startswith(strempty(unit), "openshell-proxy-"))
                return "proxy";
        if (startswith(strempty(unit), "openshell-agent-"))
                return "agent";
        return "sandbox";
}

/* The last lines through the API (GET /v1/sandboxes/NAME/logs): the gateway reads its own journal (system
 * or user), already merged in time order. */
static int sandbox_logs_api(CliContext *ctx, const char *name, const char *lines) {
        _cleanup_free_ char *path = strjoin("/v1/sandboxes/", name, "/logs", lines ? "?lines=" : "", strempty(lines));
        _cleanup_json_ cJSON *j = NULL;
        const cJSON *l;
        int r;

        if (!path)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        r = cli_call(ctx, "GET", path, NULL, &j, "cannot read the sandbox's logs");
        if (r != 0)
                return r;
        if (ctx->json) {
                cli_print_json(j);
                return 0;
        }
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(j, "lines"))
                printf("%s %-5s %s\n", strna(cli_json_str(l, "time")), unit_role(cli_json_str(l, "unit")),
                       strna(cli_json_str(l, "message")));
        return 0;
}

/* --follow/--since: journalctl on the gateway's host, the proxy's and the agent's units merged in time
 * order by journalctl itself. */
static int sandbox_logs(CliContext *ctx, int argc, char **argv) {
        static const struct option options[] = {
                { "follow", no_argument, NULL, 'f' }, { "since", required_argument, NULL, 's' },
                { "lines", required_argument, NULL, 'n' }, { "output", required_argument, NULL, 'o' }, {},
        };
        _cleanup_free_ char *proxy = NULL, *agent = NULL;
        const char *since = NULL, *lines = NULL, *name;
        char *args[16];
        size_t k = 0;
        bool follow = false;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "fs:n:o:", options, NULL)) >= 0)
                switch (c) {
                case 'f': follow = true; break;
                case 's': since = optarg; break;
                case 'n': lines = optarg; break;
                case 'o':
                        r = cli_parse_output(ctx, optarg);
                        if (r != 0)
                                return r;
                        break;
                default:
                        return cli_usage_error("sandbox", "logs", "unknown option");
                }
        r = sandbox_name_arg("logs", argc, argv, &name);
        if (r != 0)
                return r;
        if (lines) {
                unsigned n;
                if (safe_atou(lines, &n) < 0 || n < 1 || n > 1000)
                        return cli_usage_error("sandbox", "logs", "--lines wants a number 1..1000");
        }
        if (!follow && !since)
                return sandbox_logs_api(ctx, name, lines);
        proxy = strjoin("--unit=openshell-proxy-", name, ".service");
        agent = strjoin("--unit=openshell-agent-", name, ".service");
        if (!proxy || !agent)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        args[k++] = (char *) "journalctl";
        if (geteuid() != 0)
                args[k++] = (char *) "--user";
        args[k++] = proxy;
        args[k++] = agent;
        args[k++] = (char *) "--no-pager";
        args[k++] = (char *) (ctx->json ? "--output=json" : "--output=short-iso");
        if (follow)
                args[k++] = (char *) "--follow";
        if (since) {
                args[k++] = (char *) "--since";
                args[k++] = (char *) since;
        }
        if (lines) {
                args[k++] = (char *) "--lines";
                args[k++] = (char *) lines;
        }
        args[k] = NULL;
        execvp(args[0], args);
        return cli_error(CLI_EXIT_FAILURE, "cannot run journalctl (%m): the logs are in the journal of the gateway's host");
}

const CliVerb cli_sandbox_verbs[] = {
        { "create", sandbox_create, "NAME --image IMAGE [--provider P]... [--policy FILE] [--env K=V]... [--no-start] [--no-wait] [-- COMMAND...]",
          "Create a sandbox and start it, showing its progress" },
        { "list", sandbox_list, "[-o json]", "List sandboxes" },
        { "get", sandbox_get, "NAME [-o json]", "Show a sandbox" },
        { "delete", sandbox_delete, "NAME", "Stop and delete a sandbox with everything it owns" },
        { "start", sandbox_start, "NAME", "Start a sandbox" },
        { "stop", sandbox_stop, "NAME", "Stop a sandbox" },
        { "exec", cli_sandbox_exec, "NAME [--tty] [--env K=V]... [--workdir DIR] -- COMMAND [ARG...]",
          "Run a command in a sandbox; exits with its code" },
        { "connect", cli_sandbox_connect, "NAME [--workdir DIR]", "Interactive shell in a sandbox (a pty)" },
        { "upload", cli_sandbox_upload, "NAME SRC [DST]", "Copy a local file or tree into a sandbox (DST default: /tmp)" },
        { "download", cli_sandbox_download, "NAME PATH [DST]", "Copy a file or tree out of a sandbox (DST default: .)" },
        { "logs", sandbox_logs, "NAME [--lines N] [--follow] [--since TIME] [-o json]",
          "The proxy's and the agent's logs, merged in time order (--follow/--since: journalctl on the gateway's host)" },
        {},
};
