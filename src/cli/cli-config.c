/* SPDX-License-Identifier: Apache-2.0 */
/* Which gateway to talk to, and with which certificates.
 *
 *   $XDG_CONFIG_HOME/openshell/gateways.json (~/.config/...), else /etc/openshell/gateways.json:
 *   {"selected": "local",
 *    "gateways": {"local": {"url": "https://127.0.0.1:17670",
 *                           "ca": "...", "cert": "...", "key": "..."}}}
 *
 * Resolution: --gateway NAME|URL, $OPENSHELL_GATEWAY, the selected gateway, and finally the built-in
 * default https://127.0.0.1:17670 with the local gateway's own TLS directory (its client.crt is the
 * administrator's), so that a fresh install works without "gateway add". */
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

#include "alloc-util.h"
#include "cli.h"
#include "fileio.h"
#include "json-util.h"
#include "path-util.h"
#include "string-util.h"

#define CLI_CONFIG_FILE "gateways.json"
#define CLI_CONFIG_MAX (1024U * 1024U)
#define CLI_SYSTEM_CONFIG_DIR SYSCONFDIR "/openshell"
#define CLI_DEFAULT_URL "https://127.0.0.1:17670"

/* $XDG_CONFIG_HOME, else $HOME, else the passwd entry's home (services and `systemd-run` give no $HOME). */
int cli_config_dir(char **ret) {
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        struct passwd pw, *res = NULL;
        char buf[4096];

        if (!isempty(xdg) && xdg[0] == '/')
                *ret = path_join(xdg, "openshell");
        else if (!isempty(home) && home[0] == '/')
                *ret = strjoin(home, "/.config/openshell");
        else if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res && pw.pw_dir && pw.pw_dir[0] == '/')
                *ret = strjoin(pw.pw_dir, "/.config/openshell");
        else
                return -ENOENT;
        return *ret ? 0 : -ENOMEM;
}

void cli_gateway_done(CliGateway *g) {
        g->name = mfree(g->name);
        g->url = mfree(g->url);
        g->ca = mfree(g->ca);
        g->cert = mfree(g->cert);
        g->key = mfree(g->key);
}

static cJSON *config_load_file(const char *dir, char **ret_path) {
        _cleanup_free_ char *path = path_join(dir, CLI_CONFIG_FILE), *text = NULL;
        cJSON *j = NULL;
        size_t size;

        if (!path || read_full_file(path, CLI_CONFIG_MAX, &text, &size) < 0)
                return NULL;
        if (json_parse(text, size, &j, NULL, NULL) < 0 || !cJSON_IsObject(j)) {
                cJSON_Delete(j);
                fprintf(stderr, "openshell: ignoring '%s': not a JSON object (fix or delete it)\n", path);
                return NULL;
        }
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return j;
}

cJSON *cli_config_load(const char *config_dir, char **ret_path) {
        cJSON *j = config_dir ? config_load_file(config_dir, ret_path) : NULL;

        return j ?: config_load_file(CLI_SYSTEM_CONFIG_DIR, ret_path);
}

int cli_config_save(const char *config_dir, const cJSON *config) {
        _cleanup_free_ char *path = path_join(config_dir, CLI_CONFIG_FILE), *text = json_print(config, true);
        int r;

        if (!path || !text)
                return -ENOMEM;
        r = mkdir_p(config_dir, 0700);
        if (r < 0)
                return r;
        return write_file_atomic(path, text, strlen(text), 0600);
}

static int dup_field(const cJSON *o, const char *key, char **ret) {
        const char *v = cli_json_str(o, key);

        if (!v)
                return 0;
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

static int gateway_from_entry(const char *name, const cJSON *e, CliGateway *g) {
        if (!cli_json_str(e, "url"))
                return -cli_error(CLI_EXIT_USAGE, "gateway '%s' has no url in gateways.json: run 'openshell gateway add %s URL'", name, name);
        g->name = strdup(name);
        if (!g->name || dup_field(e, "url", &g->url) < 0 || dup_field(e, "ca", &g->ca) < 0 ||
            dup_field(e, "cert", &g->cert) < 0 || dup_field(e, "key", &g->key) < 0)
                return -ENOMEM;
        return 0;
}

static int gateway_oom(void) {
        return cli_error(CLI_EXIT_FAILURE, "out of memory");
}

/* The local gateway's TLS directory: the user gateway's state first for non-root, then the system's. */
static int gateway_default(CliGateway *g) {
        const char *home = getenv("HOME"), *state = getenv("XDG_STATE_HOME");
        _cleanup_free_ char *user_dir = NULL;
        const char *dir = "/var/lib/openshell/tls";

        if (geteuid() != 0) {
                if (!isempty(state))
                        user_dir = strjoin(state, "/openshell/tls");
                else if (!isempty(home))
                        user_dir = strjoin(home, "/.local/state/openshell/tls");
                if (user_dir && access(user_dir, R_OK) >= 0)
                        dir = user_dir;
        }
        g->url = strdup(CLI_DEFAULT_URL);
        g->ca = path_join(dir, "ca.crt");
        g->cert = path_join(dir, "client.crt");
        g->key = path_join(dir, "client.key");
        return g->url && g->ca && g->cert && g->key ? 0 : -ENOMEM;
}

/* Returns 0, or an exit code after printing why. */
int cli_gateway_resolve(CliContext *ctx, CliGateway **ret) {
        _cleanup_json_ cJSON *config = NULL;
        const cJSON *gws, *e;
        const char *want;
        int r;

        if (ctx->gateway_resolved) {
                *ret = &ctx->gateway;
                return 0;
        }
        config = cli_config_load(ctx->config_dir, NULL);
        gws = config ? cJSON_GetObjectItemCaseSensitive(config, "gateways") : NULL;
        want = ctx->gateway_arg ?: cli_json_str(config, "selected");

        if (want && (startswith(want, "https://") || startswith(want, "http://"))) {
                /* A URL: the certificates of the default (or of a configured gateway with that URL). */
                r = gateway_default(&ctx->gateway);
                if (r >= 0) {
                        free(ctx->gateway.url);
                        ctx->gateway.url = strdup(want);
                }
                cJSON_ArrayForEach(e, gws)
                        if (streq_ptr(cli_json_str(e, "url"), want)) {
                                cli_gateway_done(&ctx->gateway);
                                r = gateway_from_entry(e->string, e, &ctx->gateway);
                                break;
                        }
        } else if (want) {
                e = gws ? cJSON_GetObjectItemCaseSensitive(gws, want) : NULL;
                if (!e)
                        return cli_error(CLI_EXIT_USAGE, "no gateway named '%s': see 'openshell gateway info' or add it with "
                                         "'openshell gateway add %s URL'", want, want);
                r = gateway_from_entry(want, e, &ctx->gateway);
        } else
                r = gateway_default(&ctx->gateway);
        if (r == -ENOMEM || (r >= 0 && !ctx->gateway.url))
                return gateway_oom();
        if (r < 0)
                return -r;
        if (startswith(ctx->gateway.url, "http://")) {
                ctx->gateway.ca = mfree(ctx->gateway.ca);
                ctx->gateway.cert = mfree(ctx->gateway.cert);
                ctx->gateway.key = mfree(ctx->gateway.key);
        }
        ctx->gateway_resolved = true;
        *ret = &ctx->gateway;
        return 0;
}
