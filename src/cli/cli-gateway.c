/* SPDX-License-Identifier: Apache-2.0 */
/* openshell gateway add|select|info: the gateways the CLI knows (cli-config.c) and their certificates,
 * copied into ~/.config/openshell/gateways/NAME/. */
#include <getopt.h>
#include <stdio.h>

#include "alloc-util.h"
#include "cli.h"
#include "fileio.h"
#include "json-util.h"
#include "path-util.h"
#include "relay-client.h"
#include "string-util.h"

#define CLI_PEM_MAX (256U * 1024U)

static int copy_file(const char *src, const char *dir, const char *name, mode_t mode, char **ret_path) {
        _cleanup_free_ char *data = NULL, *dst = path_join(dir, name);
        size_t size;
        int r;

        if (!dst)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        r = read_full_file(src, CLI_PEM_MAX, &data, &size);
        if (r < 0)
                return cli_error(CLI_EXIT_USAGE, "cannot read '%s': %s", src, strerror(-r));
        r = write_file_atomic(dst, data, size, mode);
        if (r < 0)
                return cli_error(CLI_EXIT_FAILURE, "cannot write '%s': %s", dst, strerror(-r));
        *ret_path = TAKE_PTR(dst);
        return 0;
}

static int gateway_add_parse(int argc, char **argv, const char **tls_dir, const char **ca, const char **cert,
                             const char **key) {
        static const struct option options[] = {
                { "tls-dir", required_argument, NULL, 'd' }, { "ca", required_argument, NULL, 'a' },
                { "cert", required_argument, NULL, 'c' },    { "key", required_argument, NULL, 'k' }, {},
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'd': *tls_dir = optarg; break;
                case 'a': *ca = optarg; break;
                case 'c': *cert = optarg; break;
                case 'k': *key = optarg; break;
                default: return cli_usage_error("gateway", "add", "unknown option");
                }
        if (optind + 2 != argc)
                return cli_usage_error("gateway", "add", "usage: openshell gateway add NAME URL [--tls-dir DIR | --ca F --cert F --key F]");
        if (!cli_is_valid_name(argv[optind]))
                return cli_usage_error("gateway", "add", "'%s' is not a valid gateway name (a DNS label)", argv[optind]);
        return 0;
}

static int gateway_add(CliContext *ctx, int argc, char **argv) {
        const char *tls_dir = NULL, *ca = NULL, *cert = NULL, *key = NULL, *name, *url;
        _cleanup_free_ char *dir = NULL, *ca_src = NULL, *cert_src = NULL, *key_src = NULL;
        _cleanup_free_ char *ca_dst = NULL, *cert_dst = NULL, *key_dst = NULL;
        _cleanup_json_ cJSON *config = NULL;
        cJSON *gws, *e;
        RelayEndpoint ep;
        int r;

        r = gateway_add_parse(argc, argv, &tls_dir, &ca, &cert, &key);
        if (r != 0)
                return r;
        name = argv[optind];
        url = argv[optind + 1];
        if (relay_endpoint_parse(url, &ep) < 0)
                return cli_usage_error("gateway", "add", "'%s' is not a gateway URL: https://HOST[:PORT]", url);
        if (ep.tls) {
                if (tls_dir) {
                        ca_src = path_join(tls_dir, "ca.crt");
                        cert_src = path_join(tls_dir, "client.crt");
                        key_src = path_join(tls_dir, "client.key");
                } else if (ca && cert && key) {
                        ca_src = strdup(ca), cert_src = strdup(cert), key_src = strdup(key);
                } else
                        return cli_usage_error("gateway", "add", "an https:// gateway needs --tls-dir DIR (with ca.crt, client.crt, "
                                               "client.key, e.g. the gateway's TLSDir) or --ca, --cert and --key");
                if (!ca_src || !cert_src || !key_src || !(dir = strjoin(ctx->config_dir, "/gateways/", name)))
                        return cli_error(CLI_EXIT_FAILURE, "out of memory");
                r = mkdir_p(dir, 0700);
                if (r < 0)
                        return cli_error(CLI_EXIT_FAILURE, "cannot create '%s': %s", dir, strerror(-r));
                if ((r = copy_file(ca_src, dir, "ca.crt", 0644, &ca_dst)) != 0 ||
                    (r = copy_file(cert_src, dir, "client.crt", 0644, &cert_dst)) != 0 ||
                    (r = copy_file(key_src, dir, "client.key", 0600, &key_dst)) != 0)
                        return r;
        }
        config = cli_config_load(ctx->config_dir, NULL) ?: cJSON_CreateObject();
        gws = config ? cJSON_GetObjectItemCaseSensitive(config, "gateways") : NULL;
        if (config && !gws)
                gws = cJSON_AddObjectToObject(config, "gateways");
        if (!gws)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        cJSON_DeleteItemFromObjectCaseSensitive(gws, name);
        e = cJSON_AddObjectToObject(gws, name);
        if (!e || !cJSON_AddStringToObject(e, "url", url) || (ca_dst && !cJSON_AddStringToObject(e, "ca", ca_dst)) ||
            (cert_dst && !cJSON_AddStringToObject(e, "cert", cert_dst)) ||
            (key_dst && !cJSON_AddStringToObject(e, "key", key_dst)))
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        if (!cli_json_str(config, "selected") && !cJSON_AddStringToObject(config, "selected", name))
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        r = cli_config_save(ctx->config_dir, config);
        if (r < 0)
                return cli_error(CLI_EXIT_FAILURE, "cannot save %s/gateways.json: %s", ctx->config_dir, strerror(-r));
        printf("gateway %s: %s%s\n", name, url, streq(cli_json_str(config, "selected"), name) ? " (selected)" : "");
        return 0;
}

static int gateway_select(CliContext *ctx, int argc, char **argv) {
        _cleanup_json_ cJSON *config = NULL;
        const cJSON *gws;
        int r;

        if (argc != 2)
                return cli_usage_error("gateway", "select", "usage: openshell gateway select NAME");
        config = cli_config_load(ctx->config_dir, NULL);
        gws = config ? cJSON_GetObjectItemCaseSensitive(config, "gateways") : NULL;
        if (!gws || !cJSON_GetObjectItemCaseSensitive(gws, argv[1]))
                return cli_error(CLI_EXIT_NOT_FOUND, "no gateway named '%s': add it with 'openshell gateway add %s URL'", argv[1], argv[1]);
        cJSON_DeleteItemFromObjectCaseSensitive(config, "selected");
        if (!cJSON_AddStringToObject(config, "selected", argv[1]))
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        r = cli_config_save(ctx->config_dir, config);
        if (r < 0)
                return cli_error(CLI_EXIT_FAILURE, "cannot save %s/gateways.json: %s", ctx->config_dir, strerror(-r));
        printf("selected gateway %s\n", argv[1]);
        return 0;
}

static int gateway_info(CliContext *ctx, int argc, char **argv) {
        _cleanup_json_ cJSON *health = NULL, *out = NULL;
        CliGateway *g;
        long status = 0;
        int r;

        if (argc == 3 && streq(argv[1], "-o"))
                r = cli_parse_output(ctx, argv[2]);
        else
                r = argc > 1 ? cli_usage_error("gateway", "info", "unexpected argument '%s'", argv[1]) : 0;
        if (r == 0)
                r = cli_gateway_resolve(ctx, &g);
        if (r != 0)
                return r;
        r = cli_http(ctx, "GET", "/v1/health", NULL, &status, &health);
        if (ctx->json) {
                out = cJSON_CreateObject();
                if (!out || (g->name && !cJSON_AddStringToObject(out, "name", g->name)) ||
                    !cJSON_AddStringToObject(out, "url", g->url) || (g->ca && !cJSON_AddStringToObject(out, "ca", g->ca)) ||
                    (g->cert && !cJSON_AddStringToObject(out, "cert", g->cert)) ||
                    !cJSON_AddBoolToObject(out, "reachable", r == 0 && status == 200))
                        return cli_error(CLI_EXIT_FAILURE, "out of memory");
                if (health)
                        cJSON_AddItemReferenceToObject(out, "health", health);
                cli_print_json(out);
        } else
                printf("Gateway:     %s\nURL:         %s\nCA:          %s\nCertificate: %s\nStatus:      %s%s%s%s\n",
                       g->name ?: "(default)", g->url, strna(g->ca), strna(g->cert),
                       r == 0 && status == 200 ? "ok, version " : "unreachable",
                       r == 0 && status == 200 ? strna(cli_json_str(health, "version")) : "",
                       r == 0 && status == 200 ? ", identity " : "",
                       r == 0 && status == 200 ? strna(cli_json_str(health, "identity")) : "");
        return r;
}

const CliVerb cli_gateway_verbs[] = {
        { "add", gateway_add, "NAME URL [--tls-dir DIR | --ca FILE --cert FILE --key FILE]",
          "Remember a gateway and copy its client certificate (the first one added is selected)" },
        { "select", gateway_select, "NAME", "Use this gateway from now on" },
        { "info", gateway_info, "[-o json]", "The gateway in use, its certificates and health" },
        {},
};
