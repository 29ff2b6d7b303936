/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <strings.h>

#include "alloc-util.h"
#include "fileio.h"
#include "proxy-credentials.h"
#include "proxy-inference.h"
#include "proxy-settings.h"
#include "string-util.h"

static const char *const inference_api_table[_INFERENCE_API_MAX] = {
        [INFERENCE_API_OPENAI] = "openai",
        [INFERENCE_API_ANTHROPIC] = "anthropic",
};

DEFINE_STRING_TABLE_LOOKUP(inference_api, InferenceApi, _INFERENCE_API_MAX);

/* The calls routed per api (RFC 9110 methods are case-sensitive). */
typedef struct InferenceCall {
        const char *method;
        const char *path;
} InferenceCall;

static const InferenceCall openai_calls[] = {
        { "POST", "/v1/chat/completions" }, { "POST", "/v1/completions" }, { "POST", "/v1/responses" },
        { "POST", "/v1/embeddings" },       { "GET", "/v1/models" },
};

static const InferenceCall anthropic_calls[] = {
        { "POST", "/v1/messages" },
        { "GET", "/v1/models" },
};

/* Request headers that carry the caller's own credentials: never forwarded to the backend. */
static const char *const caller_credential_headers[] = { "Authorization", "x-api-key", "api-key" };

static InferenceRoute *route_free(InferenceRoute *r) {
        free(r->host);
        free(r->authority);
        free(r->prefix);
        free(r->model);
        free(r->credential_header);
        erase_and_free(r->credential_value);
        return mfree(r);
}

InferenceRoute *inference_route_ref(InferenceRoute *r) {
        if (r)
                r->n_ref++;
        return r;
}

InferenceRoute *inference_route_unref(InferenceRoute *r) {
        if (!r || --r->n_ref > 0)
                return NULL;
        return route_free(r);
}

bool inference_is_host(const char *host) {
        size_t n = STRLEN(INFERENCE_HOST);

        return host && strncasecmp(host, INFERENCE_HOST, n) == 0 && (host[n] == 0 || streq(host + n, "."));
}

/* "http(s)://authority/path": no userinfo, query or fragment. */
static int parse_base_url(InferenceRoute *r, const char *url) {
        const char *rest, *slash;
        _cleanup_free_ char *authority = NULL;
        size_t n;
        int k;

        if ((rest = startswith(url, "https://")))
                r->https = true;
        else if (!(rest = startswith(url, "http://")))
                return -EINVAL;
        if (strpbrk(rest, "?#@ ") || string_has_cc(rest, NULL))
                return -EINVAL;
        slash = strchrnul(rest, '/');
        authority = strndup_safe(rest, (size_t) (slash - rest));
        if (!authority)
                return -ENOMEM;
        if ((authority[0] == '[' && strstr(authority, "]:")) || (authority[0] != '[' && strchr(authority, ':'))) {
                k = proxy_split_host_port(authority, &r->host, &r->port);
                if (k < 0)
                        return k;
        } else {
                r->port = r->https ? 443 : 80;
                r->host = authority[0] == '[' ? strndup_safe(authority + 1, strcspn(authority + 1, "]"))
                                               : strdup(authority);
                if (!r->host)
                        return -ENOMEM;
        }
        if (isempty(r->host))
                return -EINVAL;
        n = strlen(slash);
        while (n > 0 && slash[n - 1] == '/')
                n--;
        r->prefix = strndup_safe(slash, n);
        r->authority = TAKE_PTR(authority);
        return r->prefix ? 0 : -ENOMEM;
}

static bool header_name_valid(const char *s) {
        return !isempty(s) && strlen(s) <= 64 &&
               strspn(s, "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(s);
}

static int parse_credential(InferenceRoute *r, const cJSON *cred, const char **ret_why) {
        const cJSON *header = cJSON_GetObjectItemCaseSensitive(cred, "header");
        _cleanup_erase_ char *value = NULL;
        int k;

        if (!cJSON_IsObject(cred))
                return *ret_why = "credential: expected {\"header\"?, \"value\"|\"value_file\"}", -EINVAL;
        if (header && (!cJSON_IsString(header) || !header_name_valid(header->valuestring)))
                return *ret_why = "credential.header: must be a header field name", -EINVAL;
        k = credential_value_from_json(cred, &value, ret_why);
        if (k < 0)
                return k;
        r->credential_header = strdup(header ? header->valuestring
                                             : r->api == INFERENCE_API_ANTHROPIC ? "x-api-key" : "Authorization");
        if (!r->credential_header)
                return -ENOMEM;
        /* A bare key for Authorization is a bearer token (OpenAI and most compatible servers). */
        if (strcasecmp(r->credential_header, "Authorization") == 0 && !strchr(value, ' '))
                r->credential_value = strjoin("Bearer ", value);
        else
                r->credential_value = TAKE_PTR(value);
        return r->credential_value ? 0 : -ENOMEM;
}

static int route_fill(InferenceRoute *r, const cJSON *j, const char **ret_why) {
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(j, "base_url"),
                    *model = cJSON_GetObjectItemCaseSensitive(j, "model"),
                    *api = cJSON_GetObjectItemCaseSensitive(j, "api"),
                    *cred = cJSON_GetObjectItemCaseSensitive(j, "credential"), *it;
        int k;

        if (!cJSON_IsObject(j))
                return *ret_why = "expected a JSON object", -EINVAL;
        cJSON_ArrayForEach(it, j)
                if (!IN_SET(0, strcmp(it->string, "base_url"), strcmp(it->string, "model"), strcmp(it->string, "api"),
                            strcmp(it->string, "credential"), strcmp(it->string, "provider")))
                        return *ret_why = "unknown key (allowed: base_url, api, model, credential, provider)", -EINVAL;
        if (!cJSON_IsString(url) || strlen(url->valuestring) > 2048)
                return *ret_why = "base_url: must be an http:// or https:// URL", -EINVAL;
        k = parse_base_url(r, url->valuestring);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return *ret_why = "base_url: must be http(s)://HOST[:PORT][/PATH] without userinfo, query or fragment",
                       -EINVAL;
        if (!cJSON_IsString(model) || isempty(model->valuestring) || strlen(model->valuestring) > 256 ||
            string_has_cc(model->valuestring, NULL))
                return *ret_why = "model: must be a non-empty string (at most 256 bytes)", -EINVAL;
        r->model = strdup(model->valuestring);
        if (!r->model)
                return -ENOMEM;
        r->api = api ? inference_api_from_string(cJSON_IsString(api) ? api->valuestring : NULL) : INFERENCE_API_OPENAI;
        if (r->api < 0)
                return *ret_why = "api: must be \"openai\" or \"anthropic\"", -EINVAL;
        if (cred && !cJSON_IsNull(cred))
                return parse_credential(r, cred, ret_why);
        return 0;
}

int inference_route_from_json(const cJSON *j, InferenceRoute **ret, char **ret_error) {
        InferenceRoute *r = new0(InferenceRoute, 1);
        const char *why = NULL;
        int k;

        if (!r)
                return -ENOMEM;
        r->n_ref = 1;
        k = route_fill(r, j, &why);
        if (k < 0) {
                route_free(r);
                if (ret_error && why)
                        *ret_error = asprintf_safe("inference: %s", why);
                return k;
        }
        *ret = r;
        return 0;
}

int inference_route_parse(const char *text, size_t size, InferenceRoute **ret, char **ret_error) {
        _cleanup_json_ cJSON *j = NULL;
        unsigned line = 0, col = 0;
        int k;

        k = json_parse(text, size, &j, &line, &col);
        if (k < 0) {
                if (ret_error)
                        *ret_error = asprintf_safe("line %u, column %u: invalid JSON", line, col);
                return k;
        }
        return inference_route_from_json(j, ret, ret_error);
}

int inference_route_load(const char *path, InferenceRoute **ret, char **ret_error) {
        _cleanup_erase_ char *text = NULL;
        size_t size;
        int k;

        k = read_full_file(path, INFERENCE_ROUTE_MAX_BYTES, &text, &size);
        if (k < 0) {
                if (ret_error)
                        *ret_error = asprintf_safe("cannot read %s: %s", path, strerror(-k));
                return k;
        }
        return inference_route_parse(text, size, ret, ret_error);
}

const char *inference_request_denied(InferenceApi api, const char *method, const char *path) {
        const InferenceCall *calls = api == INFERENCE_API_ANTHROPIC ? anthropic_calls : openai_calls;
        size_t n = api == INFERENCE_API_ANTHROPIC ? ELEMENTSOF(anthropic_calls) : ELEMENTSOF(openai_calls);
        bool path_known = false;

        if (!method || !path)
                return "malformed request";
        for (size_t i = 0; i < n; i++)
                if (streq(path, calls[i].path)) {
                        if (streq(method, calls[i].method))
                                return NULL;
                        path_known = true;
                }
        if (path_known)
                return "method not allowed for this inference endpoint";
        return api == INFERENCE_API_ANTHROPIC
                       ? "not an inference call the anthropic backend serves (POST /v1/messages, GET /v1/models)"
                       : "not an inference call the openai backend serves (POST /v1/chat/completions, "
                         "/v1/completions, /v1/responses, /v1/embeddings; GET /v1/models)";
}

int inference_upstream_target(const InferenceRoute *r, const char *target, char **ret) {
        const char *tail = target;
        char *t;

        if (!target || target[0] != '/')
                return -EINVAL;
        if (endswith(r->prefix, "/v1") && startswith(target, "/v1") && IN_SET(target[3], '/', '?', 0))
                tail = target + 3;
        t = strjoin(r->prefix, tail);
        if (!t)
                return -ENOMEM;
        if (t[0] == 0) {
                free(t);
                t = strdup("/");
        }
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}

int inference_rewrite_body(const char *body, size_t size, const char *model, char **ret, size_t *ret_size,
                           char **ret_error) {
        _cleanup_json_ cJSON *j = NULL;
        unsigned line = 0, col = 0;
        cJSON *m;
        char *out;
        int k;

        k = json_parse(body, size, &j, &line, &col);
        if (k >= 0 && !cJSON_IsObject(j))
                k = -EINVAL;
        if (k < 0) {
                if (ret_error)
                        *ret_error = k == -ENOMEM ? NULL
                                     : line > 0 ? asprintf_safe("request body is not valid JSON (line %u, column %u)", line, col)
                                                : strdup("request body must be a JSON object");
                return k;
        }
        m = cJSON_CreateString(model);
        if (!m)
                return -ENOMEM;
        if (cJSON_GetObjectItemCaseSensitive(j, "model")) {
                if (!cJSON_ReplaceItemInObjectCaseSensitive(j, "model", m)) {
                        cJSON_Delete(m);
                        return -ENOMEM;
                }
        } else if (!cJSON_AddItemToObject(j, "model", m)) {
                cJSON_Delete(m);
                return -ENOMEM;
        }
        out = json_print(j, false);
        if (!out)
                return -ENOMEM;
        *ret_size = strlen(out);
        *ret = out;
        return 0;
}

static bool drop_request_header(const HttpMessage *m, const char *name) {
        if (http_message_header_is_hop_by_hop(m, name) || strncasecmp(name, "Proxy-", 6) == 0)
                return true;
        if (strcasecmp(name, "Host") == 0 || strcasecmp(name, "Content-Length") == 0 ||
            strcasecmp(name, "Transfer-Encoding") == 0 || strcasecmp(name, "Expect") == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(caller_credential_headers); i++)
                if (strcasecmp(name, caller_credential_headers[i]) == 0)
                        return true;
        return false;
}

int inference_format_upstream_head(const InferenceRoute *r, const HttpMessage *m, const char *target, bool has_body,
                                   size_t body_size, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s %s HTTP/1.1\r\nHost: %s\r\n", m->method, target, r->authority);
        for (size_t i = 0; i < m->n_headers; i++)
                if (!drop_request_header(m, m->headers[i].name))
                        fprintf(f, "%s: %s\r\n", m->headers[i].name, m->headers[i].value);
        if (r->credential_header)
                fprintf(f, "%s: %s\r\n", r->credential_header, r->credential_value);
        if (has_body)
                fprintf(f, "Content-Length: %zu\r\n", body_size);
        fputs("Via: 1.1 openshell-proxy\r\n\r\n", f);
        if (fclose(f) != 0 || !buf)
                return -ENOMEM;
        *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}
