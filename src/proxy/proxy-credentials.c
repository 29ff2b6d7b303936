/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <strings.h>

#include "alloc-util.h"
#include "fileio.h"
#include "json-util.h"
#include "policy.h"
#include "proxy-credentials.h"
#include "string-util.h"

typedef struct Credential {
        char *key;
        char *value;
        char **hosts; /* policy host patterns; NULL: any destination the policy allows (gateway) */
} Credential;

struct CredentialStore {
        Credential *items;
        size_t n;
};

CredentialStore *credential_store_free(CredentialStore *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++) {
                free(s->items[i].key);
                erase_and_free(s->items[i].value);
                strv_free(s->items[i].hosts);
        }
        free(s->items);
        return mfree(s);
}

static bool key_valid(const char *k) {
        if (isempty(k) || strlen(k) > 128 || !(isalpha((unsigned char) k[0]) || k[0] == '_'))
                return false;
        for (; *k; k++)
                if (!isalnum((unsigned char) *k) && *k != '_')
                        return false;
        return true;
}

int credential_value_from_json(const cJSON *j, char **ret, const char **ret_why) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "value");
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "value_file");
        _cleanup_erase_ char *s = NULL;
        size_t n;
        int r;

        if (!v == !f)
                return *ret_why = "exactly one of \"value\" or \"value_file\" is required", -EINVAL;
        if (v) {
                if (!cJSON_IsString(v))
                        return *ret_why = "\"value\" must be a string", -EINVAL;
                s = strdup(v->valuestring);
                n = s ? strlen(s) : 0;
        } else {
                if (!cJSON_IsString(f) || f->valuestring[0] != '/')
                        return *ret_why = "\"value_file\" must be an absolute path", -EINVAL;
                r = read_full_file(f->valuestring, CREDENTIAL_VALUE_MAX, &s, &n);
                if (r < 0)
                        return *ret_why = "cannot read \"value_file\"", r;
                /* Secret files conventionally end with a newline. */
                while (n > 0 && s[n - 1] == '\n')
                        s[--n] = 0;
        }
        if (!s)
                return -ENOMEM;
        if (n == 0 || n > CREDENTIAL_VALUE_MAX || strlen(s) != n || strpbrk(s, "\r\n"))
                return *ret_why = "value is empty, too long or contains CR, LF or NUL", -EINVAL;
        *ret = TAKE_PTR(s);
        return 0;
}

static int parse_one(const cJSON *j, Credential *c, const char **ret_why) {
        const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(j, "hosts"), *h;
        int r;

        if (!key_valid(j->string))
                return *ret_why = "credential names are [A-Za-z_][A-Za-z0-9_]*", -EINVAL;
        if (!cJSON_IsObject(j))
                return *ret_why = "expected an object", -EINVAL;
        c->key = strdup(j->string);
        if (!c->key)
                return -ENOMEM;
        r = credential_value_from_json(j, &c->value, ret_why);
        if (r < 0)
                return r;
        if (!cJSON_IsArray(hosts) || cJSON_GetArraySize(hosts) == 0)
                return *ret_why = "\"hosts\" must be a non-empty list of host patterns", -EINVAL;
        cJSON_ArrayForEach(h, hosts) {
                if (!cJSON_IsString(h) || isempty(h->valuestring) || strpbrk(h->valuestring, " /\r\n"))
                        return *ret_why = "invalid host pattern", -EINVAL;
                r = strv_extend(&c->hosts, h->valuestring);
                if (r < 0)
                        return r;
                ascii_strlower(c->hosts[strv_length(c->hosts) - 1]);
        }
        return 0;
}

int credential_store_parse(const char *text, size_t size, CredentialStore **ret, char **ret_error) {
        _cleanup_(credential_store_freep) CredentialStore *s = new0(CredentialStore, 1);
        _cleanup_json_ cJSON *root = NULL;
        const cJSON *creds, *it;
        unsigned line = 0, col = 0;
        int r;

        if (!s)
                return -ENOMEM;
        r = json_parse(text, size, &root, &line, &col);
        if (r < 0) {
                if (ret_error)
                        *ret_error = asprintf_safe("line %u, column %u: invalid JSON", line, col);
                return r;
        }
        creds = cJSON_GetObjectItemCaseSensitive(root, "credentials");
        if (!cJSON_IsObject(root) || !cJSON_IsObject(creds)) {
                if (ret_error)
                        *ret_error = strdup("expected {\"credentials\": {NAME: {value|value_file, hosts}}}");
                return -EINVAL;
        }
        s->items = new0(Credential, cJSON_GetArraySize(creds) ?: 1);
        if (!s->items)
                return -ENOMEM;
        cJSON_ArrayForEach(it, creds) {
                const char *why = "out of memory";

                r = parse_one(it, &s->items[s->n++], &why);
                if (r < 0) {
                        if (ret_error)
                                *ret_error = asprintf_safe("credentials.%.128s: %s", it->string, why);
                        return r;
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* The gateway's {KEY: VALUE} map: its providers carry no host list, so each value may go wherever the
 * policy lets the request go (the policy remains the boundary). */
int credential_store_from_map(const cJSON *map, CredentialStore **ret, char **ret_error) {
        _cleanup_(credential_store_freep) CredentialStore *s = new0(CredentialStore, 1);
        const cJSON *it;

        if (!s)
                return -ENOMEM;
        if (!cJSON_IsObject(map)) {
                if (ret_error)
                        *ret_error = strdup("expected {\"credentials\": {NAME: VALUE}}");
                return -EINVAL;
        }
        s->items = new0(Credential, cJSON_GetArraySize(map) ?: 1);
        if (!s->items)
                return -ENOMEM;
        cJSON_ArrayForEach(it, map) {
                Credential *c = &s->items[s->n];
                size_t n = cJSON_IsString(it) ? strlen(it->valuestring) : 0;

                if (!key_valid(it->string) || n == 0 || n > CREDENTIAL_VALUE_MAX || strpbrk(it->valuestring, "\r\n")) {
                        if (ret_error)
                                *ret_error = asprintf_safe("credentials.%.128s: invalid name or value (empty, too long, "
                                                           "CR or LF)", strna(it->string));
                        return -EINVAL;
                }
                c->key = strdup(it->string);
                c->value = strdup(it->valuestring);
                s->n++;
                if (!c->key || !c->value)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int credential_store_load(const char *path, CredentialStore **ret, char **ret_error) {
        _cleanup_erase_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file(path, CREDENTIALS_MAX_BYTES, &text, &size);
        if (r < 0) {
                if (ret_error)
                        *ret_error = asprintf_safe("cannot read %s: %s", path, strerror(-r));
                return r;
        }
        return credential_store_parse(text, size, ret, ret_error);
}

static const Credential *lookup(const CredentialStore *s, const char *key, size_t n) {
        for (size_t i = 0; s && i < s->n; i++)
                if (strlen(s->items[i].key) == n && strncmp(s->items[i].key, key, n) == 0)
                        return &s->items[i];
        return NULL;
}

static bool bound_to(const Credential *c, const char *host) {
        if (!c->hosts)
                return true;
        STRV_FOREACH(h, c->hosts)
                if (policy_host_match(*h, host))
                        return true;
        return false;
}

static void put_url_encoded(FILE *f, const char *v) {
        for (; *v; v++)
                if (isalnum((unsigned char) *v) || strchr("-._~", *v))
                        fputc(*v, f);
                else
                        fprintf(f, "%%%02X", (unsigned char) *v);
}

/* Length of a placeholder prefix at p: raw, or percent-encoded colons in URLs. */
static size_t prefix_at(const char *p, CredentialContext context) {
        static const char encoded[] = "openshell%3Aresolve%3Aenv%3A";

        if (startswith(p, CREDENTIAL_PLACEHOLDER_PREFIX))
                return strlen(CREDENTIAL_PLACEHOLDER_PREFIX);
        if (context == CREDENTIAL_CONTEXT_URL && strncasecmp(p, encoded, strlen(encoded)) == 0)
                return strlen(encoded);
        return 0;
}

int credential_substitute(const CredentialStore *s, const char *host, const char *in, CredentialContext context,
                          char **ret, char **ret_key) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        bool any = false;
        FILE *f;

        *ret = NULL;
        if (!strstr(in, "openshell:resolve:") && !strcasestr(in, "openshell%3Aresolve"))
                return 0;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (const char *p = in; *p;) {
                size_t pl = prefix_at(p, context), kl;
                const Credential *c;

                if (pl == 0) {
                        fputc(*p++, f);
                        continue;
                }
                kl = strspn(p + pl, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
                c = lookup(s, p + pl, kl);
                if (!c || !bound_to(c, host)) {
                        fclose(f);
                        explicit_bzero(buf, size);
                        if (ret_key)
                                *ret_key = strndup_safe(p + pl, kl);
                        return c ? -EACCES : -ENOKEY;
                }
                if (context == CREDENTIAL_CONTEXT_URL)
                        put_url_encoded(f, c->value);
                else
                        fputs(c->value, f);
                any = true;
                p += pl + kl;
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        if (any)
                *ret = TAKE_PTR(buf);
        else
                explicit_bzero(buf, size);
        return 0;
}

static int substitute_basic(const CredentialStore *s, const char *host, const char *b64, char **ret, char **ret_key) {
        size_t n = strlen(b64);
        _cleanup_erase_ unsigned char *dec = new(unsigned char, n + 4);
        _cleanup_erase_ char *plain = NULL, *out = NULL;
        int len, r;

        if (!dec)
                return -ENOMEM;
        len = EVP_DecodeBlock(dec, (const unsigned char *) b64, (int) n);
        if (len < 0)
                return 0; /* not base64: leave it alone */
        while (n > 0 && b64[n - 1] == '=' && len > 0) /* EVP_DecodeBlock counts padding as zero bytes */
                n--, len--;
        dec[len] = 0;
        if (memchr(dec, 0, (size_t) len))
                return 0;
        r = credential_substitute(s, host, (const char *) dec, CREDENTIAL_CONTEXT_HEADER, &plain, ret_key);
        if (r < 0 || !plain)
                return r;
        out = new(char, 4 * DIV_ROUND_UP(strlen(plain), 3) + 1);
        if (!out)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) plain, (int) strlen(plain));
        *ret = strjoin("Basic ", out);
        return *ret ? 0 : -ENOMEM;
}

int credential_substitute_header(const CredentialStore *s, const char *host, const char *value, char **ret,
                                 char **ret_key) {
        const char *b64 = startswith_no_case(value, "Basic ");
        int r;

        *ret = NULL;
        if (b64) {
                r = substitute_basic(s, host, b64 + strspn(b64, " "), ret, ret_key);
                if (r < 0 || *ret)
                        return r;
        }
        return credential_substitute(s, host, value, CREDENTIAL_CONTEXT_HEADER, ret, ret_key);
}

int credential_substitute_request(const CredentialStore *s, const char *host, HttpMessage *m, char **target,
                                  char **ret_key) {
        char *v = NULL;
        int r;

        for (size_t i = 0; i < m->n_headers; i++) {
                r = credential_substitute_header(s, host, m->headers[i].value, &v, ret_key);
                if (r < 0)
                        return r;
                if (v) {
                        erase_and_free(m->headers[i].value);
                        m->headers[i].value = v;
                }
        }
        r = credential_substitute(s, host, *target, CREDENTIAL_CONTEXT_URL, &v, ret_key);
        if (r < 0)
                return r;
        if (v)
                free_and_replace(*target, v);
        return 0;
}
