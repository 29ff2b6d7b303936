/* SPDX-License-Identifier: Apache-2.0 */
/* JSON requests to the gateway with libcurl (blocking: this is a CLI), mTLS with the gateway's client
 * certificate. */
#include <curl/curl.h>
#include <stdio.h>

#include "alloc-util.h"
#include "cli.h"
#include "json-util.h"
#include "string-util.h"

/* The gateway's answers are small JSON documents; anything larger is refused. */
#define CLI_HTTP_RESPONSE_MAX (16U * 1024U * 1024U)
#define CLI_HTTP_TIMEOUT_SEC 60L

typedef struct Body {
        char *data;
        size_t size;
} Body;

static size_t body_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Body *b = userdata;
        size_t n = size * nmemb;
        char *p;

        if (b->size + n > CLI_HTTP_RESPONSE_MAX)
                return 0;
        p = realloc(b->data, b->size + n + 1);
        if (!p)
                return 0;
        memcpy(p + b->size, ptr, n);
        b->data = p;
        b->size += n;
        b->data[b->size] = 0;
        return n;
}

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(CURL *, curl_easy_cleanup, curl_easy_cleanupp);
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(struct curl_slist *, curl_slist_free_all, curl_slist_free_allp);

static int cli_transport_error(const CliGateway *g, CURLcode c, const char *detail) {
        fprintf(stderr, "openshell: cannot reach the gateway at %s: %s\n", g->url, !isempty(detail) ? detail : curl_easy_strerror(c));
        if (IN_SET((int) c, CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT))
                fprintf(stderr, "Is it running? 'systemctl status openshell-gateway.socket', or pick another one with "
                                "'openshell gateway select NAME' / --gateway URL.\n");
        else if (IN_SET((int) c, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE, CURLE_PEER_FAILED_VERIFICATION,
                        CURLE_SSL_CONNECT_ERROR, CURLE_RECV_ERROR))
                fprintf(stderr, "Check the certificates (%s, %s, %s): 'openshell gateway info', or re-add the gateway with "
                                "'openshell gateway add NAME URL --tls-dir DIR'.\n",
                        strna(g->ca), strna(g->cert), strna(g->key));
        return CLI_EXIT_UNAVAILABLE;
}

static int cli_curl_setup(CURL *c, const CliGateway *g, const char *method, const char *url, struct curl_slist *h,
                          const char *body, Body *out, char *errbuf) {
        if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write_cb) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEDATA, out) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_TIMEOUT, CLI_HTTP_TIMEOUT_SEC) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
                return -EIO;
        if (body && (curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
                     curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) strlen(body)) != CURLE_OK))
                return -EIO;
        if (g->ca && (curl_easy_setopt(c, CURLOPT_CAINFO, g->ca) != CURLE_OK ||
                      curl_easy_setopt(c, CURLOPT_SSLCERT, g->cert) != CURLE_OK ||
                      curl_easy_setopt(c, CURLOPT_SSLKEY, g->key) != CURLE_OK ||
                      curl_easy_setopt(c, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2) != CURLE_OK))
                return -EIO;
        return 0;
}

int cli_http(CliContext *ctx, const char *method, const char *path, const cJSON *body, long *ret_status,
             cJSON **ret_json) {
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *h = NULL;
        _cleanup_free_ char *url = NULL, *text = NULL, *base = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        Body out = {};
        CliGateway *g;
        CURLcode cc;
        int r;

        r = cli_gateway_resolve(ctx, &g);
        if (r != 0)
                return r;
        base = strdup(g->url);
        if (!base)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        if (endswith(base, "/"))
                base[strlen(base) - 1] = 0;
        url = strjoin(base, path);
        text = body ? json_print(body, false) : NULL;
        c = curl_easy_init();
        h = curl_slist_append(NULL, "Content-Type: application/json");
        if (!url || (body && !text) || !c || !h ||
            cli_curl_setup(c, g, method, url, h, text ?: (streq(method, "GET") || streq(method, "DELETE") ? NULL : ""),
                           &out, errbuf) < 0)
                return cli_error(CLI_EXIT_FAILURE, "cannot set up the HTTP request (out of memory?)");
        cc = curl_easy_perform(c);
        if (cc != CURLE_OK) {
                free(out.data);
                return cli_transport_error(g, cc, errbuf);
        }
        (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
        *ret_json = NULL;
        if (out.size > 0 && json_parse(out.data, out.size, ret_json, NULL, NULL) < 0)
                *ret_json = NULL;
        free(out.data);
        return 0;
}

int cli_api_error(long status, const cJSON *json, const char *what) {
        const char *code = cli_json_str(json, "error"), *message = cli_json_str(json, "message");

        fprintf(stderr, "openshell: %s: %s%s%s%s\n", what, message ?: "unexpected answer from the gateway",
                code ? " (" : "", strempty(code), code ? ")" : "");
        switch (status) {
        case 400:
                return CLI_EXIT_INVALID;
        case 403:
                if (streq_ptr(code, "unknown_identity"))
                        fprintf(stderr, "The gateway does not know this client certificate: use the gateway's client.crt "
                                        "('openshell gateway add NAME URL --tls-dir DIR').\n");
                return CLI_EXIT_DENIED;
        case 404:
                if (strstr(what, "sandbox"))
                        fprintf(stderr, "See 'openshell sandbox list'.\n");
                return CLI_EXIT_NOT_FOUND;
        case 409:
                return CLI_EXIT_CONFLICT;
        case 502:
        case 503:
                if (streq_ptr(code, "sandbox_unavailable"))
                        fprintf(stderr, "Start it with 'openshell sandbox start NAME'; if it runs, its supervisor cannot reach the "
                                        "gateway: see 'openshell sandbox logs NAME'.\n");
                else
                        fprintf(stderr, "The gateway could not reach systemd: see 'journalctl -u openshell-gateway'.\n");
                return CLI_EXIT_UNAVAILABLE;
        default:
                return CLI_EXIT_FAILURE;
        }
}

int cli_call(CliContext *ctx, const char *method, const char *path, const cJSON *body, cJSON **ret_json,
             const char *what) {
        _cleanup_json_ cJSON *j = NULL;
        long status = 0;
        int r;

        r = cli_http(ctx, method, path, body, &status, &j);
        if (r != 0)
                return r;
        if (status < 200 || status > 299)
                return cli_api_error(status, j, what);
        if (ret_json)
                *ret_json = TAKE_PTR(j);
        return 0;
}
