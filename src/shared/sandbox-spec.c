/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "alloc-util.h"
#include "fileio.h"
#include "json-util.h"
#include "parse-util.h"
#include "path-util.h"
#include "sandbox-spec-internal.h"
#include "sandbox-spec.h"
#include "string-util.h"
#include "unit-escape.h"

static const char *const sandbox_mount_type_table[_SANDBOX_MOUNT_TYPE_MAX] = {
        [SANDBOX_MOUNT_VOLUME] = "volume",
        [SANDBOX_MOUNT_BIND] = "bind",
        [SANDBOX_MOUNT_TMPFS] = "tmpfs",
};

DEFINE_STRING_TABLE_LOOKUP(sandbox_mount_type, SandboxMountType, _SANDBOX_MOUNT_TYPE_MAX);

static void key_values_free(SandboxKeyValue *kv, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

SandboxSpec *sandbox_spec_free(SandboxSpec *s) {
        if (!s)
                return NULL;
        free(s->name);
        free(s->image);
        strv_free(s->command);
        key_values_free(s->env, s->n_env);
        free(s->policy);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].source);
                free(s->mounts[i].target);
        }
        free(s->mounts);
        free(s->userns);
        key_values_free(s->labels, s->n_labels);
        free(s->tls_ca);
        free(s->tls_cert);
        free(s->tls_key);
        free(s->tls_agent_cert);
        free(s->tls_agent_key);
        free(s->gateway);
        free(s->gateway_host);
        free(s->gateway_socket);
        return mfree(s);
}

/* Makes a user-supplied string printable in an error message: control bytes become '?', long values
 * are cut. Returns a static buffer (messages are built one at a time). */
const char *spec_printable(const char *s) {
        static char buf[72];
        size_t i = 0;

        for (; s[i] && i < 64; i++)
                buf[i] = ((unsigned char) s[i] < ' ' || s[i] == 127) ? '?' : s[i];
        if (s[i])
                strcpy(buf + i, "...");
        else
                buf[i] = 0;
        return buf;
}

int spec_fail(char **ret_error, const char *fmt, ...) {
        va_list ap;

        if (ret_error) {
                free(*ret_error);
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

int spec_check_value(const char *field, const char *s, size_t max, bool allow_empty, char **ret_error) {
        size_t len = strlen(s);

        if (!allow_empty && len == 0)
                return spec_fail(ret_error, "%s: must not be empty", field);
        if (len > max)
                return spec_fail(ret_error, "%s: longer than %zu bytes", field, max);
        if (strchr(s, '\n') || strchr(s, '\r'))
                return spec_fail(ret_error, "%s: value contains a newline", field);
        if (string_has_cc(s, NULL))
                return spec_fail(ret_error, "%s: value contains a control character", field);
        if (!utf8_is_valid(s))
                return spec_fail(ret_error, "%s: value is not valid UTF-8", field);
        return 0;
}

int spec_get_string(const char *field, const cJSON *j, size_t max, bool allow_empty, const char **ret,
                    char **ret_error) {
        int r;

        if (!cJSON_IsString(j))
                return spec_fail(ret_error, "%s: expected a string, got %s", field, json_type_name(j));
        r = spec_check_value(field, j->valuestring, max, allow_empty, ret_error);
        if (r < 0)
                return r;
        *ret = j->valuestring;
        return 0;
}

int spec_dup_string(const char *s, char **ret) {
        char *c = strdup(s);
        if (!c)
                return -ENOMEM;
        free(*ret);
        *ret = c;
        return 0;
}

bool sandbox_name_is_valid(const char *name) {
        size_t len;

        if (!name)
                return false;
        len = strlen(name);
        if (len == 0 || len > SANDBOX_NAME_MAX)
                return false;
        if (name[0] == '-' || name[len - 1] == '-')
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                        return false;
        return true;
}

/* Host paths and container targets that reach Mount= lines: absolute, normalized, and from a charset
 * that needs no quoting in Podman's comma-separated --mount syntax nor in a unit file. */
int spec_check_path(const char *field, const cJSON *j, const char **ret, char **ret_error) {
        const char *s;
        int r;

        r = spec_get_string(field, j, SANDBOX_PATH_MAX, false, &s, ret_error);
        if (r < 0)
                return r;
        if (s[0] != '/')
                return spec_fail(ret_error, "%s: '%s' is not an absolute path", field, spec_printable(s));
        for (const char *p = s; *p; p++)
                if (!ascii_isalnum(*p) && !strchr("/._+@-", *p))
                        return spec_fail(ret_error,
                                         "%s: '%s' contains '%c'; paths may contain letters, digits and /._+@-",
                                         field, spec_printable(s), *p);
        if (!path_is_normalized_absolute(s))
                return spec_fail(ret_error, "%s: '%s' is not normalized (no '.', '..', '//' or trailing '/')",
                                 field, spec_printable(s));
        *ret = s;
        return 0;
}

static int parse_name(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        const char *s;
        int r;

        r = spec_get_string("name", j, SANDBOX_NAME_MAX + 64, false, &s, ret_error);
        if (r < 0)
                return r;
        if (!sandbox_name_is_valid(s))
                return spec_fail(ret_error,
                                 "name: '%s' is not a DNS label (a-z, 0-9 and '-', at most %u, no leading or trailing '-')",
                                 spec_printable(s), SANDBOX_NAME_MAX);
        return spec_dup_string(s, &spec->name);
}

static int parse_image(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        static const char *const quadlet_suffixes[] = { ".image", ".build", ".container", ".volume",
                                                        ".network", ".pod", ".kube" };
        const char *s;
        int r;

        r = spec_get_string("image", j, SANDBOX_IMAGE_MAX, false, &s, ret_error);
        if (r < 0)
                return r;
        for (const char *p = s; *p; p++) {
                if (*p == ' ' || *p == '\t')
                        return spec_fail(ret_error, "image: '%s' contains whitespace", spec_printable(s));
                if (!ascii_isalnum(*p) && !strchr("._/:@-", *p))
                        return spec_fail(ret_error,
                                         "image: '%s' contains '%c'; image references may contain letters, digits and ._/:@-",
                                         spec_printable(s), *p);
        }
        if (!ascii_isalnum(s[0]))
                return spec_fail(ret_error, "image: '%s' must start with a letter or digit", spec_printable(s));
        if (strstr(s, "..") || strstr(s, "//"))
                return spec_fail(ret_error, "image: '%s' is not a valid image reference", spec_printable(s));
        /* Quadlet treats Image=foo.image (and .build) as a reference to another unit. */
        for (size_t i = 0; i < ELEMENTSOF(quadlet_suffixes); i++)
                if (endswith(s, quadlet_suffixes[i]))
                        return spec_fail(ret_error, "image: '%s' must not end in '%s' (a Quadlet unit name)",
                                         spec_printable(s), quadlet_suffixes[i]);
        return spec_dup_string(s, &spec->image);
}

static int parse_command(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0, total = 0;
        const cJSON *e;
        char field[64];
        int r;

        if (!cJSON_IsArray(j))
                return spec_fail(ret_error, "command: expected an array of strings, got %s", json_type_name(j));
        if (cJSON_GetArraySize(j) == 0)
                return spec_fail(ret_error, "command: must not be empty (omit it to keep the sandbox idle for exec and connect)");
        if ((size_t) cJSON_GetArraySize(j) > SANDBOX_COMMAND_ARGS_MAX)
                return spec_fail(ret_error, "command: more than %u arguments", SANDBOX_COMMAND_ARGS_MAX);

        cJSON_ArrayForEach(e, j) {
                const char *s;

                snprintf(field, sizeof(field), "command[%zu]", n);
                /* Quadlet cannot carry an empty argument, and a lone ';' separates commands in
                 * ExecStart=: both are rejected rather than silently changed. */
                r = spec_get_string(field, e, SANDBOX_COMMAND_ARG_MAX, false, &s, ret_error);
                if (r < 0)
                        return r == -EINVAL && cJSON_IsString(e) && isempty(e->valuestring)
                                       ? spec_fail(ret_error, "%s: empty arguments cannot be passed through Quadlet",
                                                   field)
                                       : r;
                if (streq(s, ";"))
                        return spec_fail(ret_error, "%s: a lone ';' cannot be passed through ExecStart=", field);
                total += strlen(s);
                if (total > SANDBOX_COMMAND_TOTAL_MAX)
                        return spec_fail(ret_error, "command: longer than %u bytes in total",
                                         SANDBOX_COMMAND_TOTAL_MAX);
                r = strv_extend(&l, s);
                if (r < 0)
                        return r;
                n++;
        }
        strv_free(spec->command);
        spec->command = TAKE_PTR(l);
        return 0;
}

static int parse_policy(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        const char *s;
        int r;

        r = spec_check_path("policy", j, &s, ret_error);
        if (r < 0)
                return r;
        return spec_dup_string(s, &spec->policy);
}

static int parse_userns(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        static const char *const allowed[] = { "auto", "host", "keep-id", "nomap" };
        const char *s;
        int r;

        r = spec_get_string("userns", j, 32, false, &s, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                if (streq(s, allowed[i]))
                        return spec_dup_string(s, &spec->userns);
        return spec_fail(ret_error, "userns: '%s' is not one of auto, host, keep-id, nomap", spec_printable(s));
}

static int parse_subnet(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        const char *s;
        int r;

        r = spec_get_string("subnet", j, 32, false, &s, ret_error);
        if (r < 0)
                return r;
        r = sandbox_subnet_parse(s, &spec->subnet_slot);
        if (r < 0)
                return spec_fail(ret_error, "subnet: '%s' is not a /28 inside 10.213.0.0/16 (e.g. 10.213.4.32/28)",
                                 spec_printable(s));
        spec->has_subnet = true;
        return 0;
}

static const struct {
        const char *key;
        int (*parse)(SandboxSpec *spec, const cJSON *j, char **ret_error);
} top_fields[] = {
        { "name", parse_name },         { "image", parse_image },         { "command", parse_command },
        { "env", spec_parse_env },      { "policy", parse_policy },       { "resources", spec_parse_resources },
        { "mounts", spec_parse_mounts }, { "userns", parse_userns },      { "labels", spec_parse_labels },
        { "tls", spec_parse_tls },      { "gateway", spec_parse_gateway }, { "subnet", parse_subnet },
        { "gateway_socket", spec_parse_gateway_socket },
};

int spec_check_keys(const char *field, const cJSON *obj, const char *const *allowed, size_t n_allowed,
                    char **ret_error) {
        const cJSON *e, *f;

        cJSON_ArrayForEach(e, obj) {
                bool found = false;

                for (size_t i = 0; i < n_allowed && !found; i++)
                        found = streq(e->string, allowed[i]);
                if (!found)
                        return field ? spec_fail(ret_error, "%s: unknown key '%s'", field, spec_printable(e->string))
                                     : spec_fail(ret_error, "unknown key '%s'", spec_printable(e->string));
                for (f = obj->child; f != e; f = f->next)
                        if (streq(f->string, e->string))
                                return field ? spec_fail(ret_error, "%s.%s: duplicate key", field,
                                                         spec_printable(e->string))
                                             : spec_fail(ret_error, "%s: duplicate key", spec_printable(e->string));
        }
        return 0;
}

static int spec_check_cross(const SandboxSpec *spec, char **ret_error) {
        if (!spec->name)
                return spec_fail(ret_error, "name: missing (required)");
        if (!spec->image)
                return spec_fail(ret_error, "image: missing (required)");
        if (!spec->policy)
                return spec_fail(ret_error, "policy: missing (required; the proxy's allowlist policy file)");
        if (spec->gateway_https && !spec->tls_ca)
                return spec_fail(ret_error, "gateway: https:// requires tls (ca, cert and key)");
        if (spec->gateway && !spec->gateway_https && spec->tls_ca)
                return spec_fail(ret_error, "gateway: must be https:// when tls is set");
        if (spec->gateway_socket && !spec->gateway)
                return spec_fail(ret_error,
                                 "gateway_socket: requires gateway (the URL names the scheme and the TLS host to verify)");
        return 0;
}

int sandbox_spec_from_json(const char *text, size_t size, SandboxSpec **ret, char **ret_error) {
        _cleanup_(sandbox_spec_freep) SandboxSpec *spec = NULL;
        _cleanup_json_ cJSON *root = NULL;
        const char *keys[ELEMENTSOF(top_fields)];
        unsigned line = 0, col = 0;
        const cJSON *e;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (size > SANDBOX_SPEC_FILE_MAX)
                return spec_fail(ret_error, "spec is larger than %u bytes", SANDBOX_SPEC_FILE_MAX);
        r = json_parse(text, size, &root, &line, &col);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return spec_fail(ret_error, "not valid JSON (line %u, column %u)", line, col);
        if (!cJSON_IsObject(root))
                return spec_fail(ret_error, "spec must be a JSON object, got %s", json_type_name(root));

        for (size_t i = 0; i < ELEMENTSOF(top_fields); i++)
                keys[i] = top_fields[i].key;
        r = spec_check_keys(NULL, root, keys, ELEMENTSOF(keys), ret_error);
        if (r < 0)
                return r;

        spec = new0(SandboxSpec, 1);
        if (!spec)
                return -ENOMEM;
        cJSON_ArrayForEach(e, root)
                for (size_t i = 0; i < ELEMENTSOF(top_fields); i++)
                        if (streq(e->string, top_fields[i].key)) {
                                r = top_fields[i].parse(spec, e, ret_error);
                                if (r < 0)
                                        return r;
                        }

        r = spec_check_cross(spec, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(spec);
        return 0;
}

int sandbox_spec_load(const char *path, SandboxSpec **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        if (ret_error)
                *ret_error = NULL;
        r = read_full_file(path, SANDBOX_SPEC_FILE_MAX, &text, &size);
        if (r == -EFBIG)
                return spec_fail(ret_error, "spec is larger than %u bytes", SANDBOX_SPEC_FILE_MAX);
        if (r < 0) {
                if (ret_error && asprintf(ret_error, "cannot read spec: %s", strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        return sandbox_spec_from_json(text, size, ret, ret_error);
}

const char *sandbox_spec_get_env(const SandboxSpec *s, const char *key) {
        for (size_t i = 0; i < s->n_env; i++)
                if (streq(s->env[i].key, key))
                        return s->env[i].value;
        return NULL;
}

#define SUBNET_PREFIX "10.213."

int sandbox_subnet_address(unsigned slot, unsigned host, char **ret) {
        char *s;

        if (slot >= SANDBOX_SUBNET_SLOTS || host > 15)
                return -EINVAL;
        if (asprintf(&s, SUBNET_PREFIX "%u.%u", slot / 16, (slot % 16) * 16 + host) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int sandbox_subnet_format(unsigned slot, char **ret) {
        _cleanup_free_ char *a = NULL;
        int r;

        r = sandbox_subnet_address(slot, 0, &a);
        if (r < 0)
                return r;
        *ret = strjoin(a, "/28");
        return *ret ? 0 : -ENOMEM;
}

int sandbox_subnet_parse(const char *s, unsigned *ret_slot) {
        _cleanup_free_ char *c = NULL;
        unsigned x, y;
        const char *rest;
        char *dot, *slash;

        rest = startswith(s, SUBNET_PREFIX);
        if (!rest)
                return -EINVAL;
        c = strdup(rest);
        if (!c)
                return -ENOMEM;
        dot = strchr(c, '.');
        slash = strchr(c, '/');
        if (!dot || !slash || slash < dot || !streq(slash, "/28"))
                return -EINVAL;
        *dot = *slash = 0;
        if (safe_atou(c, &x) < 0 || safe_atou(dot + 1, &y) < 0 || x > 255 || y > 255 || y % 16 != 0)
                return -EINVAL;
        /* Reject "+5" and leading zeros so that a subnet has exactly one spelling. */
        if (!ascii_isdigit(c[0]) || !ascii_isdigit(dot[1]) || (c[0] == '0' && c[1]) || (dot[1] == '0' && dot[2]))
                return -EINVAL;
        *ret_slot = x * 16 + y / 16;
        return 0;
}
