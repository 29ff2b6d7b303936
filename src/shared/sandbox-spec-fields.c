/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <strings.h>

#include "alloc-util.h"
#include "parse-util.h"
#include "path-util.h"
#include "sandbox-spec-internal.h"
#include "string-util.h"

/* Variables the renderer sets for the agent; a spec may not override them, since they are what makes
 * tools use the proxy and trust its CA. Compared case-insensitively. */
static const char *const reserved_env[] = {
        "HTTP_PROXY",      "HTTPS_PROXY",         "NO_PROXY",       "ALL_PROXY",
        "SSL_CERT_FILE",   "SSL_CERT_DIR",        "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE",
        "GIT_SSL_CAINFO",  "REQUESTS_CA_BUNDLE",  "NODE_USE_ENV_PROXY",  "GIT_SSH_COMMAND",
        "GIT_SSH",
};

static bool env_key_is_valid(const char *k) {
        if (!ascii_isalpha(k[0]) && k[0] != '_')
                return false;
        for (const char *p = k; *p; p++)
                if (!ascii_isalnum(*p) && *p != '_')
                        return false;
        return true;
}

static bool env_key_is_reserved(const char *k) {
        for (size_t i = 0; i < ELEMENTSOF(reserved_env); i++)
                if (strcasecmp(k, reserved_env[i]) == 0)
                        return true;
        return startswith_no_case(k, "OPENSHELL_") != NULL;
}

static int key_value_cmp(const void *a, const void *b) {
        return strcmp(((const SandboxKeyValue *) a)->key, ((const SandboxKeyValue *) b)->key);
}

/* Parses an object of strings into a sorted key/value array, checking each key with check_key. */
static int parse_string_map(const char *field, const cJSON *j, size_t max_entries, size_t key_max,
                            size_t value_max, size_t total_max,
                            int (*check_key)(const char *field, const char *key, char **ret_error),
                            SandboxKeyValue **ret, size_t *ret_n, char **ret_error) {
        SandboxKeyValue *kv;
        size_t n = 0, total = 0;
        const cJSON *e, *f;
        char path[256];
        int r;

        if (!cJSON_IsObject(j))
                return spec_fail(ret_error, "%s: expected an object, got %s", field, json_type_name(j));
        if ((size_t) cJSON_GetArraySize(j) > max_entries)
                return spec_fail(ret_error, "%s: more than %zu entries", field, max_entries);

        kv = new0(SandboxKeyValue, cJSON_GetArraySize(j));
        if (!kv)
                return -ENOMEM;
        cJSON_ArrayForEach(e, j) {
                const char *v;

                if (strlen(e->string) > key_max) {
                        r = spec_fail(ret_error, "%s: key '%s' is longer than %zu bytes", field,
                                      spec_printable(e->string), key_max);
                        goto fail;
                }
                snprintf(path, sizeof(path), "%s.%s", field, spec_printable(e->string));
                r = check_key(path, e->string, ret_error);
                if (r < 0)
                        goto fail;
                for (f = j->child; f != e; f = f->next)
                        if (streq(f->string, e->string)) {
                                r = spec_fail(ret_error, "%s: duplicate key", path);
                                goto fail;
                        }
                r = spec_get_string(path, e, value_max, true, &v, ret_error);
                if (r < 0)
                        goto fail;
                total += strlen(e->string) + strlen(v);
                if (total > total_max) {
                        r = spec_fail(ret_error, "%s: longer than %zu bytes in total", field, total_max);
                        goto fail;
                }
                kv[n].key = strdup(e->string);
                kv[n].value = strdup(v);
                n++;
                if (!kv[n - 1].key || !kv[n - 1].value) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        qsort(kv, n, sizeof(*kv), key_value_cmp);
        *ret = kv;
        *ret_n = n;
        return 0;

fail:
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
        return r;
}

static int check_env_key(const char *path, const char *key, char **ret_error) {
        if (!env_key_is_valid(key))
                return spec_fail(ret_error, "%s: not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)", path);
        if (env_key_is_reserved(key))
                return spec_fail(ret_error,
                                 "%s: reserved; the sandbox sets the proxy, CA and OPENSHELL_* variables itself",
                                 path);
        return 0;
}

int spec_parse_env(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        SandboxKeyValue *kv;
        size_t n;
        int r;

        r = parse_string_map("env", j, SANDBOX_ENV_MAX, SANDBOX_ENV_KEY_MAX, SANDBOX_ENV_VALUE_MAX,
                             SANDBOX_ENV_TOTAL_MAX, check_env_key, &kv, &n, ret_error);
        if (r < 0)
                return r;
        spec->env = kv;
        spec->n_env = n;
        return 0;
}

static int check_label_key(const char *path, const char *key, char **ret_error) {
        if (!ascii_isalnum(key[0]))
                return spec_fail(ret_error, "%s: label keys must start with a letter or digit", path);
        for (const char *p = key; *p; p++)
                if (!ascii_isalnum(*p) && !strchr("._/-", *p))
                        return spec_fail(ret_error, "%s: label keys may contain letters, digits and ._/-", path);
        if (startswith(key, "openshell.") || startswith(key, "io.containers.") || startswith(key, "io.podman."))
                return spec_fail(ret_error, "%s: the openshell., io.containers. and io.podman. prefixes are reserved",
                                 path);
        return 0;
}

int spec_parse_labels(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        SandboxKeyValue *kv;
        size_t n;
        int r;

        r = parse_string_map("labels", j, SANDBOX_LABELS_MAX, SANDBOX_LABEL_KEY_MAX, SANDBOX_LABEL_VALUE_MAX,
                             (size_t) SANDBOX_LABELS_MAX * (SANDBOX_LABEL_KEY_MAX + SANDBOX_LABEL_VALUE_MAX),
                             check_label_key, &kv, &n, ret_error);
        if (r < 0)
                return r;
        spec->labels = kv;
        spec->n_labels = n;
        return 0;
}

/* A JSON number that is a non-negative integer no larger than 2^53. */
static bool json_is_uint(const cJSON *j, uint64_t *ret) {
        double d;

        if (!cJSON_IsNumber(j))
                return false;
        d = j->valuedouble;
        if (!(d >= 0) || d > 9007199254740992.0 || d != (double) (uint64_t) d)
                return false;
        *ret = (uint64_t) d;
        return true;
}

static int parse_cpus(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        double d;

        if (!cJSON_IsNumber(j))
                return spec_fail(ret_error, "resources.cpus: expected a number, got %s", json_type_name(j));
        d = j->valuedouble;
        if (!(d > 0))
                return spec_fail(ret_error, "resources.cpus: must be greater than 0");
        if (d > SANDBOX_CPUS_MAX)
                return spec_fail(ret_error, "resources.cpus: at most %u", SANDBOX_CPUS_MAX);
        spec->cpus_milli = (unsigned) (d * 1000 + 0.5);
        if (spec->cpus_milli == 0)
                return spec_fail(ret_error, "resources.cpus: at least 0.001");
        return 0;
}

static int parse_memory(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        uint64_t v;

        if (cJSON_IsString(j)) {
                if (parse_size(j->valuestring, &v) < 0)
                        return spec_fail(ret_error, "resources.memory: '%s' is not a size (bytes, or a number with K, M, G or T)",
                                         spec_printable(j->valuestring));
        } else if (!json_is_uint(j, &v))
                return spec_fail(ret_error, "resources.memory: expected a size string like \"2G\" or a byte count, got %s",
                                 json_type_name(j));
        if (v < SANDBOX_MEMORY_MIN)
                return spec_fail(ret_error, "resources.memory: at least 6M");
        if (v > SANDBOX_MEMORY_MAX)
                return spec_fail(ret_error, "resources.memory: at most 16T");
        spec->memory = v;
        return 0;
}

static int parse_pids(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        uint64_t v;

        if (!json_is_uint(j, &v))
                return spec_fail(ret_error, "resources.pids: expected a positive integer, got %s",
                                 cJSON_IsNumber(j) ? "a fraction or negative number" : json_type_name(j));
        if (v < 1 || v > SANDBOX_PIDS_MAX)
                return spec_fail(ret_error, "resources.pids: must be between 1 and %u", SANDBOX_PIDS_MAX);
        spec->pids = (unsigned) v;
        return 0;
}

int spec_parse_resources(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        static const char *const keys[] = { "cpus", "memory", "pids" };
        const cJSON *e;
        int r;

        if (!cJSON_IsObject(j))
                return spec_fail(ret_error, "resources: expected an object, got %s", json_type_name(j));
        r = spec_check_keys("resources", j, keys, ELEMENTSOF(keys), ret_error);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(e, j) {
                if (streq(e->string, "cpus"))
                        r = parse_cpus(spec, e, ret_error);
                else if (streq(e->string, "memory"))
                        r = parse_memory(spec, e, ret_error);
                else
                        r = parse_pids(spec, e, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Targets the sandbox itself mounts or that must never be shadowed. */
static bool mount_target_is_reserved(const char *t) {
        return startswith(t, "/etc/openshell") || path_startswith_component(t, "/opt/openshell") ||
               path_startswith_component(t, "/proc") || path_startswith_component(t, "/sys") || streq(t, "/");
}

static int parse_volume_source(const char *field, const cJSON *j, const char **ret, char **ret_error) {
        const char *s;
        int r;

        r = spec_get_string(field, j, SANDBOX_VOLUME_NAME_MAX, false, &s, ret_error);
        if (r < 0)
                return r;
        if (!ascii_isalnum(s[0]))
                return spec_fail(ret_error, "%s: volume names must start with a letter or digit", field);
        for (const char *p = s; *p; p++)
                if (!ascii_isalnum(*p) && !strchr("_.-", *p))
                        return spec_fail(ret_error, "%s: '%s' is not a volume name ([A-Za-z0-9][A-Za-z0-9_.-]*)",
                                         field, spec_printable(s));
        if (startswith(s, "openshell-"))
                return spec_fail(ret_error, "%s: volume names starting with 'openshell-' are reserved", field);
        if (endswith(s, ".volume"))
                return spec_fail(ret_error, "%s: must not end in '.volume' (a Quadlet unit name)", field);
        *ret = s;
        return 0;
}

static int parse_mount(SandboxSpec *spec, size_t idx, const cJSON *j, char **ret_error) {
        static const char *const keys[] = { "type", "source", "target", "readonly" };
        SandboxMount *m = &spec->mounts[idx];
        const cJSON *type, *source, *target, *ro;
        const char *s, *t;
        char field[64];
        int r;

        snprintf(field, sizeof(field), "mounts[%zu]", idx);
        if (!cJSON_IsObject(j))
                return spec_fail(ret_error, "%s: expected an object, got %s", field, json_type_name(j));
        r = spec_check_keys(field, j, keys, ELEMENTSOF(keys), ret_error);
        if (r < 0)
                return r;

        type = cJSON_GetObjectItemCaseSensitive(j, "type");
        source = cJSON_GetObjectItemCaseSensitive(j, "source");
        target = cJSON_GetObjectItemCaseSensitive(j, "target");
        ro = cJSON_GetObjectItemCaseSensitive(j, "readonly");

        snprintf(field, sizeof(field), "mounts[%zu].type", idx);
        if (!type)
                return spec_fail(ret_error, "%s: missing (volume, bind or tmpfs)", field);
        r = spec_get_string(field, type, 16, false, &s, ret_error);
        if (r < 0)
                return r;
        m->type = sandbox_mount_type_from_string(s);
        if (m->type < 0)
                return spec_fail(ret_error, "%s: '%s' is not volume, bind or tmpfs", field, spec_printable(s));

        snprintf(field, sizeof(field), "mounts[%zu].source", idx);
        if (m->type == SANDBOX_MOUNT_TMPFS) {
                if (source)
                        return spec_fail(ret_error, "%s: tmpfs mounts have no source", field);
        } else {
                if (!source)
                        return spec_fail(ret_error, "%s: missing (required for %s mounts)", field,
                                         sandbox_mount_type_to_string(m->type));
                r = m->type == SANDBOX_MOUNT_VOLUME ? parse_volume_source(field, source, &s, ret_error)
                                                    : spec_check_path(field, source, &s, ret_error);
                if (r < 0)
                        return r;
                r = spec_dup_string(s, &m->source);
                if (r < 0)
                        return r;
        }

        snprintf(field, sizeof(field), "mounts[%zu].target", idx);
        if (!target)
                return spec_fail(ret_error, "%s: missing (required)", field);
        r = spec_check_path(field, target, &t, ret_error);
        if (r < 0)
                return r;
        if (mount_target_is_reserved(t))
                return spec_fail(ret_error, "%s: '%s' is reserved (/, /proc, /sys, /etc/openshell*, /opt/openshell)",
                                 field, t);
        for (size_t i = 0; i < idx; i++)
                if (streq(spec->mounts[i].target, t))
                        return spec_fail(ret_error, "%s: '%s' is already the target of mounts[%zu]", field, t, i);
        r = spec_dup_string(t, &m->target);
        if (r < 0)
                return r;

        m->readonly = true;
        if (ro) {
                if (!cJSON_IsBool(ro))
                        return spec_fail(ret_error, "mounts[%zu].readonly: expected true or false, got %s", idx,
                                         json_type_name(ro));
                m->readonly = cJSON_IsTrue(ro);
        }
        return 0;
}

int spec_parse_mounts(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        size_t n = 0;
        const cJSON *e;
        int r;

        if (!cJSON_IsArray(j))
                return spec_fail(ret_error, "mounts: expected an array, got %s", json_type_name(j));
        if ((size_t) cJSON_GetArraySize(j) > SANDBOX_MOUNTS_MAX)
                return spec_fail(ret_error, "mounts: more than %u entries", SANDBOX_MOUNTS_MAX);
        spec->mounts = new0(SandboxMount, cJSON_GetArraySize(j));
        if (!spec->mounts)
                return -ENOMEM;
        cJSON_ArrayForEach(e, j) {
                spec->n_mounts = n + 1; /* so that sandbox_spec_free() frees a half-parsed entry */
                r = parse_mount(spec, n, e, ret_error);
                if (r < 0)
                        return r;
                n++;
        }
        return 0;
}

int spec_parse_tls(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        /* ca, cert and key: the proxy's identity towards the gateway. agent_cert and agent_key: the
         * supervisor's, a different certificate so that the agent never holds the one that fetches
         * credentials. */
        static const char *const keys[] = { "ca", "cert", "key", "agent_cert", "agent_key" };
        char **dst[] = { &spec->tls_ca, &spec->tls_cert, &spec->tls_key, &spec->tls_agent_cert, &spec->tls_agent_key };
        char field[24];
        int r;

        if (!cJSON_IsObject(j))
                return spec_fail(ret_error, "tls: expected an object, got %s", json_type_name(j));
        r = spec_check_keys("tls", j, keys, ELEMENTSOF(keys), ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < 3; i++)
                if (!cJSON_GetObjectItemCaseSensitive(j, keys[i]))
                        return spec_fail(ret_error, "tls: partial configuration, '%s' is missing (ca, cert and key go together)",
                                         keys[i]);
        if (!cJSON_GetObjectItemCaseSensitive(j, "agent_cert") != !cJSON_GetObjectItemCaseSensitive(j, "agent_key"))
                return spec_fail(ret_error, "tls: agent_cert and agent_key go together");
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
                const char *s;

                if (!v)
                        continue;
                snprintf(field, sizeof(field), "tls.%s", keys[i]);
                r = spec_check_path(field, v, &s, ret_error);
                if (r < 0)
                        return r;
                r = spec_dup_string(s, dst[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static cJSON *key_values_to_json(const SandboxKeyValue *kv, size_t n) {
        cJSON *o = cJSON_CreateObject();

        for (size_t i = 0; o && i < n; i++)
                if (!cJSON_AddStringToObject(o, kv[i].key, kv[i].value))
                        return cJSON_Delete(o), NULL;
        return o;
}

static int add_resources(cJSON *root, const SandboxSpec *s) {
        cJSON *res;

        if (s->cpus_milli == 0 && s->memory == 0 && s->pids == 0)
                return 0;
        res = cJSON_AddObjectToObject(root, "resources");
        if (!res)
                return -ENOMEM;
        if (s->cpus_milli > 0 && !cJSON_AddNumberToObject(res, "cpus", s->cpus_milli / 1000.0))
                return -ENOMEM;
        if (s->memory > 0 && !cJSON_AddNumberToObject(res, "memory", (double) s->memory))
                return -ENOMEM;
        if (s->pids > 0 && !cJSON_AddNumberToObject(res, "pids", s->pids))
                return -ENOMEM;
        return 0;
}

static int add_mounts(cJSON *root, const SandboxSpec *s) {
        cJSON *arr;

        if (s->n_mounts == 0)
                return 0;
        arr = cJSON_AddArrayToObject(root, "mounts");
        if (!arr)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_mounts; i++) {
                const SandboxMount *m = &s->mounts[i];
                cJSON *o = cJSON_CreateObject();

                if (!o || !cJSON_AddItemToArray(arr, o))
                        return cJSON_Delete(o), -ENOMEM;
                if (!cJSON_AddStringToObject(o, "type", sandbox_mount_type_to_string(m->type)) ||
                    (m->source && !cJSON_AddStringToObject(o, "source", m->source)) ||
                    !cJSON_AddStringToObject(o, "target", m->target) ||
                    !cJSON_AddBoolToObject(o, "readonly", m->readonly))
                        return -ENOMEM;
        }
        return 0;
}

static int add_optional(cJSON *root, const SandboxSpec *s) {
        cJSON *o;

        if (s->userns && !cJSON_AddStringToObject(root, "userns", s->userns))
                return -ENOMEM;
        if (s->n_labels > 0) {
                o = key_values_to_json(s->labels, s->n_labels);
                if (!o || !cJSON_AddItemToObject(root, "labels", o))
                        return cJSON_Delete(o), -ENOMEM;
        }
        if (s->tls_ca) {
                o = cJSON_AddObjectToObject(root, "tls");
                if (!o || !cJSON_AddStringToObject(o, "ca", s->tls_ca) ||
                    !cJSON_AddStringToObject(o, "cert", s->tls_cert) || !cJSON_AddStringToObject(o, "key", s->tls_key) ||
                    (s->tls_agent_cert && (!cJSON_AddStringToObject(o, "agent_cert", s->tls_agent_cert) ||
                                           !cJSON_AddStringToObject(o, "agent_key", s->tls_agent_key))))
                        return -ENOMEM;
        }
        if (s->gateway && !cJSON_AddStringToObject(root, "gateway", s->gateway))
                return -ENOMEM;
        if (s->gateway_socket && !cJSON_AddStringToObject(root, "gateway_socket", s->gateway_socket))
                return -ENOMEM;
        if (s->has_subnet) {
                _cleanup_free_ char *subnet = NULL;
                int r = sandbox_subnet_format(s->subnet_slot, &subnet);
                if (r < 0)
                        return r;
                if (!cJSON_AddStringToObject(root, "subnet", subnet))
                        return -ENOMEM;
        }
        return 0;
}

int sandbox_spec_to_json(const SandboxSpec *s, char **ret) {
        _cleanup_json_ cJSON *root = cJSON_CreateObject();
        _cleanup_free_ char *text = NULL;
        int r;

        if (!root || !cJSON_AddStringToObject(root, "name", s->name) ||
            !cJSON_AddStringToObject(root, "image", s->image))
                return -ENOMEM;
        if (s->command) {
                cJSON *arr = cJSON_CreateStringArray((const char *const *) s->command, (int) strv_length(s->command));
                if (!arr || !cJSON_AddItemToObject(root, "command", arr))
                        return cJSON_Delete(arr), -ENOMEM;
        }
        if (s->n_env > 0) {
                cJSON *o = key_values_to_json(s->env, s->n_env);
                if (!o || !cJSON_AddItemToObject(root, "env", o))
                        return cJSON_Delete(o), -ENOMEM;
        }
        if (!cJSON_AddStringToObject(root, "policy", s->policy))
                return -ENOMEM;
        r = add_resources(root, s);
        if (r < 0)
                return r;
        r = add_mounts(root, s);
        if (r < 0)
                return r;
        r = add_optional(root, s);
        if (r < 0)
                return r;

        text = json_print(root, true);
        if (!text)
                return -ENOMEM;
        *ret = strjoin(text, "\n");
        return *ret ? 0 : -ENOMEM;
}
