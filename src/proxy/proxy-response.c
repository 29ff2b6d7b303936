/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "alloc-util.h"
#include "http-message.h"
#include "json-util.h"
#include "proxy-response.h"
#include "string-util.h"

static int add_string_or_null(cJSON *o, const char *key, const char *value) {
        cJSON *v = value ? cJSON_CreateString(value) : cJSON_CreateNull();

        if (!v || !cJSON_AddItemToObject(o, key, v)) {
                cJSON_Delete(v);
                return -ENOMEM;
        }
        return 0;
}

int proxy_denial_json(const ProxyDenial *d, char **ret) {
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        char *s;
        int r = 0;

        if (!o)
                return -ENOMEM;
        r = add_string_or_null(o, "error", d->error ?: "policy_denied");
        if (r >= 0)
                r = add_string_or_null(o, "layer", policy_layer_to_string(d->layer));
        if (r >= 0)
                r = add_string_or_null(o, "host", d->host);
        if (r >= 0 && !cJSON_AddNumberToObject(o, "port", d->port))
                r = -ENOMEM;
        if (r >= 0)
                r = add_string_or_null(o, "method", d->method);
        if (r >= 0)
                r = add_string_or_null(o, "path", d->path);
        if (r >= 0)
                r = add_string_or_null(o, "policy", d->policy);
        if (r >= 0)
                r = add_string_or_null(o, "rule", d->rule);
        if (r >= 0)
                r = add_string_or_null(o, "detail", d->detail);
        if (r < 0)
                return r;
        s = json_print(o, false);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int format_response(unsigned status, const char *extra_headers, bool keep_alive, const char *body,
                           char **ret, size_t *ret_size) {
        char *s = NULL;
        int n;

        n = asprintf(&s,
                     "HTTP/1.1 %u %s\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n"
                     "Cache-Control: no-store\r\n"
                     "%s%s"
                     "\r\n%s",
                     status, http_status_reason(status), strlen(body) + 1, strempty(extra_headers),
                     keep_alive ? "" : "Connection: close\r\n", body);
        if (n < 0)
                return -ENOMEM;
        /* The body ends with a newline for people reading it in a terminal. */
        s = realloc(s, (size_t) n + 2);
        if (!s)
                return -ENOMEM;
        s[n] = '\n';
        s[n + 1] = 0;
        *ret = s;
        *ret_size = (size_t) n + 1;
        return 0;
}

int proxy_response_denied(const ProxyDenial *d, bool keep_alive, char **ret, size_t *ret_size) {
        _cleanup_free_ char *body = NULL;
        int r;

        r = proxy_denial_json(d, &body);
        if (r < 0)
                return r;
        return format_response(403, "X-OpenShell-Policy: denied\r\n", keep_alive, body, ret, ret_size);
}

int proxy_response_error(unsigned status, const char *code, const char *detail, char **ret, size_t *ret_size) {
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        _cleanup_free_ char *body = NULL;

        if (!o || add_string_or_null(o, "error", code) < 0 || add_string_or_null(o, "detail", detail) < 0)
                return -ENOMEM;
        body = json_print(o, false);
        if (!body)
                return -ENOMEM;
        return format_response(status, NULL, false, body, ret, ret_size);
}
