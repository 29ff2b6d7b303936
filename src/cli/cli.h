/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The openshell CLI (docs/cli.md): "openshell [GLOBAL OPTIONS] GROUP VERB [ARGS]". One file per verb
 * group, each with a table of verbs (crun-style); this header is what they share. */

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "macro.h"

/* Exit codes (docs/cli.md). exec/connect exit with the remote command's code instead, and with
 * CLI_EXIT_RELAY when openshell itself failed (like ssh's 255). */
typedef enum CliExit {
        CLI_EXIT_OK = 0,
        CLI_EXIT_FAILURE = 1,     /* anything else, e.g. a 500 */
        CLI_EXIT_USAGE = 2,       /* bad command line */
        CLI_EXIT_NOT_FOUND = 3,   /* 404: no such sandbox/provider/route */
        CLI_EXIT_CONFLICT = 4,    /* 409: exists already / in use */
        CLI_EXIT_UNAVAILABLE = 5, /* gateway unreachable, TLS failure, systemd error (502/503) */
        CLI_EXIT_DENIED = 6,      /* 403 */
        CLI_EXIT_INVALID = 7,     /* 400: the gateway rejected the input */
        CLI_EXIT_NOT_READY = 8,   /* create: a sandbox unit failed, or the sandbox was not ready in time */
        CLI_EXIT_RELAY = 255,
} CliExit;

typedef struct CliGateway {
        char *name; /* NULL for a URL given on the command line or the built-in default */
        char *url;
        char *ca, *cert, *key; /* all NULL for http:// */
} CliGateway;

typedef struct CliContext {
        const char *gateway_arg; /* --gateway NAME|URL, else $OPENSHELL_GATEWAY */
        bool json;               /* -o json */
        char *config_dir;        /* ~/.config/openshell (or $XDG_CONFIG_HOME/openshell) */
        CliGateway gateway;      /* resolved on first use */
        bool gateway_resolved;
} CliContext;

typedef int (*cli_verb_fn)(CliContext *ctx, int argc, char **argv);

typedef struct CliVerb {
        const char *name;
        cli_verb_fn run;
        const char *usage; /* after "openshell GROUP VERB " */
        const char *help;
} CliVerb;

typedef struct CliGroup {
        const char *name;
        const CliVerb *verbs; /* NULL-name terminated; NULL: the group is itself a verb (run) */
        cli_verb_fn run;
        const char *usage;
        const char *help;
} CliGroup;

/* The groups (one per file). */
extern const CliVerb cli_sandbox_verbs[];
extern const CliVerb cli_policy_verbs[];
extern const CliVerb cli_provider_verbs[];
extern const CliVerb cli_inference_verbs[];
extern const CliVerb cli_gateway_verbs[];
extern const CliGroup cli_groups[];
int cli_status(CliContext *ctx, int argc, char **argv);
int cli_completion(CliContext *ctx, int argc, char **argv);

/* cli-args.c */
int cli_main(int argc, char **argv);
void cli_context_done(CliContext *ctx);
/* Parses a verb's options: only -o/--output and -h/--help, plus extra long options handled by cb.
 * Shared by every verb so that "-o json" works the same everywhere. */
int cli_usage_error(const char *group, const char *verb, const char *fmt, ...) _printf_(3, 4);
int cli_error(int code, const char *fmt, ...) _printf_(2, 3);
int cli_parse_output(CliContext *ctx, const char *value);
bool cli_is_valid_name(const char *s) _pure_;

/* cli-config.c */
int cli_config_dir(char **ret);
int cli_gateway_resolve(CliContext *ctx, CliGateway **ret);
void cli_gateway_done(CliGateway *g);
cJSON *cli_config_load(const char *config_dir, char **ret_path);
int cli_config_save(const char *config_dir, const cJSON *config);

/* Every CLI-level function below returns 0 or a CliExit code after printing what went wrong and what to
 * do about it. */

/* cli-http.c: one request to the gateway; the response JSON (or NULL) and the HTTP status. Transport
 * failures print a hint and return CLI_EXIT_UNAVAILABLE. */
int cli_http(CliContext *ctx, const char *method, const char *path, const cJSON *body, long *ret_status,
             cJSON **ret_json);
/* Prints an API error ({"error","message"}) with a hint; returns the exit code for status. */
int cli_api_error(long status, const cJSON *json, const char *what);
/* A whole request: success (2xx) → 0 and *ret_json; else the printed error's exit code. */
int cli_call(CliContext *ctx, const char *method, const char *path, const cJSON *body, cJSON **ret_json,
             const char *what);

/* cli-output.c */
void cli_print_json(const cJSON *j);
const char *cli_json_str(const cJSON *j, const char *key) _pure_;
void cli_print_table(const char *const *headers, size_t n_cols, char ***rows, size_t n_rows);

/* cli-sandbox.c: the stages "sandbox create" shows while the sandbox comes up, in order. */
typedef enum CliStage {
        CLI_STAGE_CREATED, /* the record exists, nothing runs yet */
        CLI_STAGE_NETWORK, /* openshell-sbx-NAME-network.service is active */
        CLI_STAGE_VOLUME,  /* openshell-tls-NAME-volume.service is active */
        CLI_STAGE_PROXY,   /* the proxy is ready: openshell-proxy-NAME.service is active */
        CLI_STAGE_AGENT,   /* the agent is ready: its unit is active and, with a gateway, its session is up */
        _CLI_STAGE_MAX,
        _CLI_STAGE_INVALID = -EINVAL,
} CliStage;

typedef struct CliProgress {
        CliStage stage;      /* the last stage reached (a later one implies the earlier ones) */
        const char *failed;  /* the first failed unit: "network", "volume", "proxy", "agent", or "sandbox" for the
                              * umbrella unit; NULL while nothing failed. Points into the JSON. */
        bool untracked;      /* "state" is "unknown": the gateway cannot see systemd, nothing to follow */
        bool wants_session;  /* the agent's readiness includes its gateway session */
} CliProgress;

/* "created", "network ready", "volume ready", "proxy ready", "agent ready". */
const char *cli_stage_to_string(CliStage s) _const_;
/* What a GET /v1/sandboxes/NAME answer says about the stages. A record without "units" (an older
 * gateway) counts as ready when its "state" is active. -EINVAL when j is not a sandbox record. */
int cli_sandbox_progress(const cJSON *j, CliProgress *ret);

/* cli-relay.c */
int cli_sandbox_exec(CliContext *ctx, int argc, char **argv);
int cli_sandbox_connect(CliContext *ctx, int argc, char **argv);
int cli_sandbox_upload(CliContext *ctx, int argc, char **argv);
int cli_sandbox_download(CliContext *ctx, int argc, char **argv);

/* cli-policy.c: reads a policy file (JSON or YAML), validates it like the gateway will, returns its JSON. */
int cli_policy_load(const char *path, cJSON **ret);
