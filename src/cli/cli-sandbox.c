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

/* How long "create" waits for the sandbox to get ready by default (--timeout), and how often it looks. */
#define CLI_WAIT_TIMEOUT_USEC (120U * USEC_PER_SEC)
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

typedef struct CreateOptions {
        const char *name;
        bool wait;
        usec_t timeout;
} CreateOptions;

static int create_parse(int argc, char **argv, cJSON *req, cJSON *spec, CreateOptions *o) {
        enum { ARG_NO_START = 0x100, ARG_NO_WAIT, ARG_TIMEOUT };
        static const struct option options[] = {
                { "image", required_argument, NULL, 'i' },  { "provider", required_argument, NULL, 'p' },
                { "policy", required_argument, NULL, 'P' }, { "env", required_argument, NULL, 'e' },
                { "no-start", no_argument, NULL, ARG_NO_START }, { "no-wait", no_argument, NULL, ARG_NO_WAIT },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
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
                        if (optind < argc && !streq(argv[optind - 1], "--") && !o->name) {
                                o->name = argv[optind++];
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
                        o->wait = false;
                        break;
                case ARG_TIMEOUT:
                        if (parse_sec(optarg, &o->timeout) < 0 || o->timeout == 0)
                                return cli_usage_error("sandbox", "create", "--timeout wants a positive duration such as 120, 90s or 5min, got '%s'",
                                                       optarg);
                        break;
                default:
                        return cli_usage_error("sandbox", "create", "unknown option");
                }
        }
        if (!o->name || !cli_is_valid_name(o->name))
                return cli_usage_error("sandbox", "create", "missing or invalid sandbox NAME (a DNS label: a-z, 0-9, '-', at most 63)");
        if (!cJSON_GetObjectItem(spec, "image"))
                return cli_usage_error("sandbox", "create", "--image IMAGE is required");
        if (cJSON_GetArraySize(env) == 0)
                cJSON_DeleteItemFromObject(spec, "env");
        if (!cJSON_AddBoolToObject(req, "start", start))
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        if (!start)
                o->wait = false;
        return 0;
}

static const char *const cli_stage_table[_CLI_STAGE_MAX] = {
        [CLI_STAGE_CREATED] = "created",
        [CLI_STAGE_NETWORK] = "network ready",
        [CLI_STAGE_VOLUME] = "volume ready",
        [CLI_STAGE_PROXY] = "proxy ready",
        [CLI_STAGE_AGENT] = "agent ready",
};

const char *cli_stage_to_string(CliStage s) {
        return (int) s >= 0 && s < _CLI_STAGE_MAX ? cli_stage_table[s] : NULL;
}

/* The "units" key behind each stage after CLI_STAGE_CREATED. */
static const char *const stage_unit[_CLI_STAGE_MAX] = {
        [CLI_STAGE_NETWORK] = "network",
        [CLI_STAGE_VOLUME] = "volume",
        [CLI_STAGE_PROXY] = "proxy",
        [CLI_STAGE_AGENT] = "agent",
};

/* An ActiveState in which the unit is up ("reloading" is active too). */
static bool state_is_up(const char *s) {
        return streq_ptr(s, "active") || streq_ptr(s, "reloading");
}

/* The supervisor holds a session only when the sandbox has a gateway and an identity for it, exactly when
 * the renderer advertises OPENSHELL_ENDPOINT: a gateway, and with TLS the agent's own certificate. */
static bool record_wants_session(const cJSON *j) {
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(j, "spec"),
                    *tls = cJSON_GetObjectItemCaseSensitive(spec, "tls");

        return cli_json_str(spec, "gateway") && (!tls || cli_json_str(tls, "agent_cert"));
}

int cli_sandbox_progress(const cJSON *j, CliProgress *ret) {
        const cJSON *units = cJSON_GetObjectItemCaseSensitive(j, "units"), *session;
        const char *state = cli_json_str(j, "state");
        CliProgress p = { .stage = CLI_STAGE_CREATED };

        if (!cJSON_IsObject(j) || !state || (units && !cJSON_IsObject(units)))
                return -EINVAL;
        p.untracked = streq(state, "unknown");
        p.wants_session = record_wants_session(j);
        if (!units) {
                /* An older gateway: only the umbrella unit's state is known. */
                p.stage = streq(state, "active") ? CLI_STAGE_AGENT : CLI_STAGE_CREATED;
                p.failed = streq(state, "failed") ? "sandbox" : NULL;
                *ret = p;
                return 0;
        }
        session = cJSON_GetObjectItemCaseSensitive(j, "session");
        for (CliStage s = CLI_STAGE_NETWORK; s < _CLI_STAGE_MAX; s++) {
                const char *u = cli_json_str(units, stage_unit[s]);
                bool up = state_is_up(u);

                if (s == CLI_STAGE_AGENT && p.wants_session)
                        up = up && cJSON_IsTrue(session);
                if (up)
                        p.stage = s; /* a later stage implies the earlier ones */
                if (!p.failed && streq_ptr(u, "failed"))
                        p.failed = stage_unit[s];
        }
        if (!p.failed && streq(state, "failed"))
                p.failed = "sandbox";
        *ret = p;
        return 0;
}

/* What the sandbox waits for after stage s, for the progress line. */
static const char *next_wait(const CliProgress *p, const cJSON *j) {
        static const char *const waiting[_CLI_STAGE_MAX] = {
                [CLI_STAGE_CREATED] = "waiting for the network",
                [CLI_STAGE_NETWORK] = "waiting for the volume",
                [CLI_STAGE_VOLUME] = "waiting for the proxy",
                [CLI_STAGE_PROXY] = "waiting for the agent",
        };

        if (p->stage == CLI_STAGE_PROXY && p->wants_session &&
            state_is_up(cli_json_str(cJSON_GetObjectItemCaseSensitive(j, "units"), "agent")))
                return "waiting for the agent's gateway session";
        return waiting[p->stage];
}

/* The unit that failed (or that is in the way), for the error's journalctl hint. */
static char *stage_unit_name(const char *name, const char *what) {
        if (streq(what, "network"))
                return strjoin("openshell-sbx-", name, "-network.service");
        if (streq(what, "volume"))
                return strjoin("openshell-tls-", name, "-volume.service");
        if (streq(what, "proxy") || streq(what, "agent"))
                return strjoin("openshell-", what, "-", name, ".service");
        return strjoin("openshell-sandbox@", name, ".service");
}

static int wait_failed(const char *name, const CliProgress *p, const char *why) {
        const char *what = p->failed ?: (p->stage < CLI_STAGE_AGENT ? stage_unit[p->stage + 1] : "agent");
        _cleanup_free_ char *unit = stage_unit_name(name, what);
        const char *user = geteuid() != 0 ? "--user " : "";

        if (!unit)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        return cli_error(CLI_EXIT_NOT_READY,
                         "sandbox '%s' is not ready: %s.\n"
                         "See 'openshell sandbox logs %s', and on the gateway's host 'journalctl %s-u %s' and "
                         "'systemctl %sstatus openshell-sandbox@%s'. 'openshell sandbox delete %s' removes it.",
                         name, why, name, user, unit, user, name, name);
}

/* The terminal's progress line, redrawn over the previous one (drawn) from the line below it. */
static void progress_line(const char *name, const CliProgress *p, const cJSON *j, usec_t elapsed, bool drawn) {
        bool more = p->stage < CLI_STAGE_AGENT;

        fprintf(stderr, "%s%s: [%d/%d] %s%s%s (%llus)\n", drawn ? "\033[A\r\033[K" : "", name, (int) p->stage,
                (int) CLI_STAGE_AGENT, cli_stage_to_string(p->stage), more ? ", " : "", more ? next_wait(p, j) : "",
                (unsigned long long) (elapsed / USEC_PER_SEC));
}

/* Polls GET /v1/sandboxes/NAME and shows the stages: on a terminal one updating line, else one line per
 * stage reached. Ends at "agent ready", a failed unit or the timeout. The terminal line is redrawn from
 * the line below it (cursor up, erase), so that anything printed meanwhile, an error included, starts on
 * a line of its own. */
static int sandbox_wait_ready(CliContext *ctx, const char *name, usec_t timeout) {
        _cleanup_free_ char *path = strjoin("/v1/sandboxes/", name);
        usec_t start = now_usec(CLOCK_MONOTONIC);
        bool tty = isatty(STDERR_FILENO), drawn = false, tracked = false;
        CliProgress last = { .stage = CLI_STAGE_CREATED };
        CliStage shown = CLI_STAGE_CREATED; /* "created" is already printed */
        int r;

        if (!path)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        for (;;) {
                _cleanup_json_ cJSON *j = NULL;
                usec_t elapsed = now_usec(CLOCK_MONOTONIC) - start;
                CliProgress p;
                char why[160];

                r = cli_call(ctx, "GET", path, NULL, &j, "cannot follow the sandbox's progress");
                if (r != 0)
                        return r;
                if (cli_sandbox_progress(j, &p) < 0)
                        return cli_error(CLI_EXIT_FAILURE, "the gateway's answer for sandbox '%s' has no state", name);
                /* Unknown from the start: a gateway without systemd, nothing to follow. Unknown after known
                 * states: systemd went away for a moment (a reload, a restart): keep waiting. */
                if (p.untracked && !tracked) {
                        fprintf(stderr, "%s: state unknown (the gateway cannot see systemd), not waiting\n", name);
                        return 0;
                }
                if (p.untracked) {
                        if (elapsed > timeout)
                                return wait_failed(name, &last, "the gateway lost sight of systemd (state unknown) and "
                                                                "--timeout passed");
                        (void) usleep(CLI_WAIT_POLL_USEC);
                        continue;
                }
                tracked = true;
                last = (CliProgress) { .stage = p.stage, .wants_session = p.wants_session }; /* failed: into j */
                if (tty) {
                        progress_line(name, &p, j, elapsed, drawn);
                        drawn = true;
                } else
                        for (; shown < p.stage; shown++)
                                fprintf(stderr, "%s: %s\n", name, cli_stage_to_string(shown + 1));
                if (p.stage == CLI_STAGE_AGENT && !p.failed)
                        return 0;
                if (p.failed || elapsed > timeout) {
                        if (p.failed)
                                snprintf(why, sizeof(why), "the %s unit failed", p.failed);
                        else
                                snprintf(why, sizeof(why), "still %s after %llus (--timeout)", next_wait(&p, j),
                                         (unsigned long long) (timeout / USEC_PER_SEC));
                        return wait_failed(name, &p, why);
                }
                (void) usleep(CLI_WAIT_POLL_USEC);
        }
}

static int sandbox_create(CliContext *ctx, int argc, char **argv) {
        _cleanup_json_ cJSON *req = cJSON_CreateObject(), *resp = NULL;
        cJSON *spec = req ? cJSON_AddObjectToObject(req, "spec") : NULL, *cmd;
        CreateOptions o = { .wait = true, .timeout = CLI_WAIT_TIMEOUT_USEC };
        int r;

        if (!spec)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        r = create_parse(argc, argv, req, spec, &o);
        if (r != 0)
                return r;
        if (optind < argc) {
                cmd = cJSON_AddArrayToObject(spec, "command");
                for (int i = optind; cmd && i < argc; i++)
                        cJSON_AddItemToArray(cmd, cJSON_CreateString(argv[i]));
        }
        if (!cJSON_AddStringToObject(spec, "name", o.name))
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        r = cli_call(ctx, "POST", "/v1/sandboxes", req, &resp, "cannot create the sandbox");
        if (r != 0)
                return r;
        fprintf(stderr, "%s: created\n", o.name);
        if (o.wait) {
                r = sandbox_wait_ready(ctx, o.name, o.timeout);
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
        const cJSON *spec, *p, *units, *session;
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
        units = cJSON_GetObjectItemCaseSensitive(j, "units");
        session = cJSON_GetObjectItemCaseSensitive(j, "session");
        if (cJSON_IsObject(units))
                printf("Units:     network %s, volume %s, proxy %s, agent %s\n", strna(cli_json_str(units, "network")),
                       strna(cli_json_str(units, "volume")), strna(cli_json_str(units, "proxy")),
                       strna(cli_json_str(units, "agent")));
        if (cJSON_IsBool(session))
                printf("Session:   %s\n", cJSON_IsTrue(session) ? "up (exec and connect work)" : "none");
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
        { "create", sandbox_create,
          "NAME --image IMAGE [--provider P]... [--policy FILE] [--env K=V]... [--no-start] [--no-wait] [--timeout DURATION] [-- COMMAND...]",
          "Create a sandbox and start it, showing its stages until the agent is ready (default timeout 120s)" },
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
