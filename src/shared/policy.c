/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <ctype.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>

#include "alloc-util.h"
#include "fileio.h"
#include "json-util.h"
#include "policy.h"
#include "string-util.h"

static const char *const policy_protocol_table[_POLICY_PROTOCOL_MAX] = {
        [POLICY_PROTOCOL_L4] = "l4",
        [POLICY_PROTOCOL_REST] = "rest",
};
static const char *const policy_enforcement_table[_POLICY_ENFORCEMENT_MAX] = {
        [POLICY_ENFORCEMENT_ENFORCE] = "enforce",
        [POLICY_ENFORCEMENT_AUDIT] = "audit",
};
static const char *const policy_access_table[_POLICY_ACCESS_MAX] = {
        [POLICY_ACCESS_NONE] = "none",
        [POLICY_ACCESS_READ_ONLY] = "read-only",
        [POLICY_ACCESS_READ_WRITE] = "read-write",
        [POLICY_ACCESS_FULL] = "full",
};
static const char *const policy_tls_table[_POLICY_TLS_MAX] = {
        [POLICY_TLS_INSPECT] = "inspect",
        [POLICY_TLS_SKIP] = "skip",
};
static const char *const policy_layer_table[_POLICY_LAYER_MAX] = {
        [POLICY_LAYER_L4] = "l4",
        [POLICY_LAYER_L7] = "l7",
};
static const char *const policy_seccomp_profile_table[_POLICY_SECCOMP_PROFILE_MAX] = {
        [POLICY_SECCOMP_PROFILE_BASELINE] = "baseline",
        [POLICY_SECCOMP_PROFILE_NONE] = "none",
};

DEFINE_STRING_TABLE_LOOKUP(policy_protocol, PolicyProtocol, _POLICY_PROTOCOL_MAX);
DEFINE_STRING_TABLE_LOOKUP(policy_enforcement, PolicyEnforcement, _POLICY_ENFORCEMENT_MAX);
DEFINE_STRING_TABLE_LOOKUP(policy_access, PolicyAccess, _POLICY_ACCESS_MAX);
DEFINE_STRING_TABLE_LOOKUP(policy_tls, PolicyTls, _POLICY_TLS_MAX);
DEFINE_STRING_TABLE_LOOKUP(policy_layer, PolicyLayer, _POLICY_LAYER_MAX);
DEFINE_STRING_TABLE_LOOKUP(policy_seccomp_profile, PolicySeccompProfile, _POLICY_SECCOMP_PROFILE_MAX);

typedef struct Ctx {
        const PolicyLineMap *lines;
        char *error;
} Ctx;

/* Records the first error as "line N: PATH: message" (the line when known) and returns -EINVAL. */
_printf_(4, 5) static int fail(Ctx *c, const cJSON *node, const char *path, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        unsigned line = node ? policy_line_map_lookup(c->lines, node) : 0;
        va_list ap;

        if (c->error)
                return -EINVAL;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (line > 0)
                c->error = asprintf_safe("line %u: %s: %s", line, path, strempty(msg));
        else
                c->error = asprintf_safe("%s: %s", path, strempty(msg));
        return -EINVAL;
}

/* Field paths for messages; truncation of absurdly deep paths is fine. */
_printf_(3, 4) static void pathf(char *buf, size_t size, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(buf, size, fmt, ap);
        va_end(ap);
}

static void rule_done(PolicyHttpRule *r) {
        strv_free(r->methods);
        free(r->path);
        for (size_t i = 0; i < r->n_query; i++) {
                free(r->query[i].key);
                free(r->query[i].glob);
        }
        free(r->query);
}

static void endpoint_done(PolicyEndpoint *e) {
        free(e->host);
        free(e->ports);
        for (size_t i = 0; i < e->n_rules; i++)
                rule_done(&e->rules[i]);
        free(e->rules);
        for (size_t i = 0; i < e->n_deny_rules; i++)
                rule_done(&e->deny_rules[i]);
        free(e->deny_rules);
        free(e->allowed_ips);
}

Policy *policy_free(Policy *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_entries; i++) {
                PolicyEntry *en = &p->entries[i];
                for (size_t j = 0; j < en->n_endpoints; j++)
                        endpoint_done(&en->endpoints[j]);
                free(en->endpoints);
                free(en->id);
                free(en->name);
        }
        free(p->entries);
        cJSON_Delete(p->filesystem_policy);
        cJSON_Delete(p->landlock);
        cJSON_Delete(p->process);
        strv_free(p->seccomp.deny);
        return mfree(p);
}

/* Rejects keys not in 'allowed' (NULL-terminated). */
static int check_keys(Ctx *c, const cJSON *obj, const char *path, const char *const *allowed) {
        const cJSON *it;

        cJSON_ArrayForEach(it, obj) {
                bool ok = false;
                for (const char *const *a = allowed; *a; a++)
                        if (streq(*a, it->string))
                                ok = true;
                if (!ok)
                        return fail(c, it, path, "unknown key \"%s\"", it->string);
        }
        return 0;
}

static int get_string(Ctx *c, const cJSON *j, const char *path, size_t max, const char **ret) {
        if (!cJSON_IsString(j))
                return fail(c, j, path, "expected a string, got %s", json_type_name(j));
        if (strlen(j->valuestring) > max || string_has_cc(j->valuestring, NULL))
                return fail(c, j, path, "string too long or contains control characters");
        *ret = j->valuestring;
        return 0;
}

static int get_port(Ctx *c, const cJSON *j, const char *path, uint16_t *ret) {
        /* YAML gives numbers; accept numeric strings too ("443"). */
        double v;

        if (cJSON_IsString(j)) {
                char *end = NULL;
                v = strtod(j->valuestring, &end);
                if (!end || *end || end == j->valuestring)
                        return fail(c, j, path, "expected a port number, got \"%s\"", j->valuestring);
        } else if (cJSON_IsNumber(j))
                v = j->valuedouble;
        else
                return fail(c, j, path, "expected a port number, got %s", json_type_name(j));
        if (v < 1 || v > 65535 || v != (double) (uint16_t) v)
                return fail(c, j, path, "expected a port number 1..65535");
        *ret = (uint16_t) v;
        return 0;
}

static bool host_label_chars_ok(const char *s) {
        for (; *s; s++)
                if (!(isalnum((unsigned char) *s) || IN_SET(*s, '-', '.', '_', ':')))
                        return false;
        return true;
}

static int parse_host(Ctx *c, const cJSON *j, const char *path, char **ret) {
        const char *s, *rest;
        char *h;
        int r;

        r = get_string(c, j, path, 253 + 3, &s);
        if (r < 0)
                return r;
        rest = startswith(s, "**.") ?: startswith(s, "*.") ?: s;
        if (isempty(rest) || strchr(rest, '*') || !host_label_chars_ok(rest) || rest[0] == '.' ||
            endswith(rest, "..") || strstr(rest, ".."))
                return fail(c, j, path, "invalid host pattern \"%s\" (use a name, \"*.domain\" or \"**.domain\")", s);
        h = strdup(s);
        if (!h)
                return -ENOMEM;
        *ret = ascii_strlower(h);
        return 0;
}

static int parse_ports(Ctx *c, const cJSON *ep, const char *path, PolicyEndpoint *e) {
        const cJSON *port = cJSON_GetObjectItemCaseSensitive(ep, "port");
        const cJSON *ports = cJSON_GetObjectItemCaseSensitive(ep, "ports"), *it;
        char p[300];
        int r;

        if (!port == !ports)
                return fail(c, ep, path, "exactly one of \"port\" or \"ports\" is required");
        if (port) {
                e->ports = new(uint16_t, 1);
                if (!e->ports)
                        return -ENOMEM;
                e->n_ports = 1;
                pathf(p, sizeof(p), "%s.port", path);
                return get_port(c, port, p, &e->ports[0]);
        }
        if (!cJSON_IsArray(ports) || cJSON_GetArraySize(ports) == 0)
                return fail(c, ports, path, "\"ports\" must be a non-empty array");
        e->ports = new(uint16_t, cJSON_GetArraySize(ports));
        if (!e->ports)
                return -ENOMEM;
        cJSON_ArrayForEach(it, ports) {
                pathf(p, sizeof(p), "%s.ports[%zu]", path, e->n_ports);
                r = get_port(c, it, p, &e->ports[e->n_ports]);
                if (r < 0)
                        return r;
                e->n_ports++;
        }
        return 0;
}

static bool method_valid(const char *m) {
        if (streq(m, "*"))
                return true;
        if (isempty(m) || strlen(m) > 32)
                return false;
        for (; *m; m++)
                if (!isupper((unsigned char) *m) && *m != '-' && *m != '_')
                        return false;
        return true;
}

static int parse_methods(Ctx *c, const cJSON *j, const char *path, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const cJSON *it;
        int r;

        if (cJSON_IsString(j))
                r = strv_extend(&l, j->valuestring);
        else if (cJSON_IsArray(j) && cJSON_GetArraySize(j) > 0) {
                r = 0;
                cJSON_ArrayForEach(it, j) {
                        if (!cJSON_IsString(it))
                                return fail(c, it, path, "expected method strings, got %s", json_type_name(it));
                        r = strv_extend(&l, it->valuestring);
                        if (r < 0)
                                break;
                }
        } else
                return fail(c, j, path, "expected a method or a list of methods");
        if (r < 0)
                return r;
        STRV_FOREACH(m, l) {
                for (char *q = *m; *q; q++)
                        *q = (char) toupper((unsigned char) *q);
                if (!method_valid(*m))
                        return fail(c, j, path, "invalid HTTP method \"%s\"", *m);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int parse_path_glob(Ctx *c, const cJSON *j, const char *path, char **ret) {
        const char *s;
        int r;

        r = get_string(c, j, path, 2048, &s);
        if (r < 0)
                return r;
        if (s[0] != '/' && !streq(s, "**") && !streq(s, "*"))
                return fail(c, j, path, "path pattern must start with '/'");
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int parse_query(Ctx *c, const cJSON *j, const char *path, PolicyHttpRule *rule) {
        const cJSON *it;
        char p[400];
        int r;

        if (!cJSON_IsObject(j))
                return fail(c, j, path, "expected an object of parameter: glob");
        rule->query = new0(PolicyQueryMatch, cJSON_GetArraySize(j));
        if (!rule->query)
                return -ENOMEM;
        cJSON_ArrayForEach(it, j) {
                const char *g;

                pathf(p, sizeof(p), "%s.%s", path, it->string);
                r = get_string(c, it, p, 1024, &g);
                if (r < 0)
                        return r;
                rule->query[rule->n_query].key = strdup(it->string);
                rule->query[rule->n_query].glob = strdup(g);
                rule->n_query++;
                if (!rule->query[rule->n_query - 1].key || !rule->query[rule->n_query - 1].glob)
                        return -ENOMEM;
        }
        return 0;
}

/* One rule: {allow: {method, path, query}} in "rules", {deny: {...}} or a bare {method, path, query} in
 * "deny_rules". */
static int parse_rule(Ctx *c, const cJSON *j, const char *path, const char *wrapper, PolicyHttpRule *rule) {
        static const char *const keys[] = { "method", "methods", "path", "query", NULL };
        const cJSON *body = j, *m;
        char p[400];
        int r;

        if (!cJSON_IsObject(j))
                return fail(c, j, path, "expected an object");
        if (cJSON_GetObjectItemCaseSensitive(j, wrapper)) {
                const char *const w[] = { wrapper, NULL };
                r = check_keys(c, j, path, w);
                if (r < 0)
                        return r;
                body = cJSON_GetObjectItemCaseSensitive(j, wrapper);
                pathf(p, sizeof(p), "%s.%s", path, wrapper);
                if (!cJSON_IsObject(body))
                        return fail(c, body, p, "expected an object");
        } else if (streq(wrapper, "allow"))
                return fail(c, j, path, "a rule needs \"allow\": {method, path, query}");
        else
                pathf(p, sizeof(p), "%s", path);
        r = check_keys(c, body, p, keys);
        if (r < 0)
                return r;
        m = cJSON_GetObjectItemCaseSensitive(body, "method") ?: cJSON_GetObjectItemCaseSensitive(body, "methods");
        if (m && (r = parse_methods(c, m, p, &rule->methods)) < 0)
                return r;
        if ((m = cJSON_GetObjectItemCaseSensitive(body, "path")) && (r = parse_path_glob(c, m, p, &rule->path)) < 0)
                return r;
        if ((m = cJSON_GetObjectItemCaseSensitive(body, "query")) && (r = parse_query(c, m, p, rule)) < 0)
                return r;
        return 0;
}

static int parse_rules(Ctx *c, const cJSON *j, const char *path, const char *wrapper, PolicyHttpRule **ret,
                       size_t *ret_n) {
        const cJSON *it;
        char p[400];
        int r;

        if (!cJSON_IsArray(j))
                return fail(c, j, path, "expected a list of rules");
        *ret = new0(PolicyHttpRule, cJSON_GetArraySize(j));
        if (!*ret)
                return -ENOMEM;
        cJSON_ArrayForEach(it, j) {
                pathf(p, sizeof(p), "%s[%zu]", path, *ret_n);
                r = parse_rule(c, it, p, wrapper, &(*ret)[*ret_n]);
                (*ret_n)++;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_allowed_ips(Ctx *c, const cJSON *j, const char *path, PolicyEndpoint *e) {
        const cJSON *it;
        char p[400];

        if (!cJSON_IsArray(j))
                return fail(c, j, path, "expected a list of addresses or CIDRs");
        e->allowed_ips = new0(PolicyCidr, cJSON_GetArraySize(j));
        if (!e->allowed_ips)
                return -ENOMEM;
        cJSON_ArrayForEach(it, j) {
                pathf(p, sizeof(p), "%s[%zu]", path, e->n_allowed_ips);
                if (!cJSON_IsString(it) || policy_cidr_parse(it->valuestring, &e->allowed_ips[e->n_allowed_ips]) < 0)
                        return fail(c, it, p, "expected an IP address or CIDR like \"10.0.0.0/8\"");
                e->n_allowed_ips++;
        }
        return 0;
}

#define PARSE_ENUM(c, j, path, name, field, what)                                                          \
        ({                                                                                                 \
                const cJSON *_v_ = cJSON_GetObjectItemCaseSensitive(j, name);                              \
                int _r_ = 0;                                                                               \
                if (_v_) {                                                                                 \
                        if (!cJSON_IsString(_v_) || (int) (field = what##_from_string(_v_->valuestring)) < 0) \
                                _r_ = fail(c, _v_, path, "invalid \"%s\" value", name);                    \
                }                                                                                          \
                _r_;                                                                                       \
        })

static int parse_endpoint(Ctx *c, const cJSON *j, const char *path, PolicyEndpoint *e) {
        static const char *const keys[] = { "host", "port", "ports", "protocol", "tls", "enforcement", "access",
                                            "rules", "deny_rules", "allowed_ips", "binaries", NULL };
        const cJSON *v;
        char p[400];
        int r;

        if (!cJSON_IsObject(j))
                return fail(c, j, path, "expected an endpoint object");
        if ((r = check_keys(c, j, path, keys)) < 0)
                return r;
        pathf(p, sizeof(p), "%s.host", path);
        v = cJSON_GetObjectItemCaseSensitive(j, "host");
        if (!v)
                return fail(c, j, path, "\"host\" is required");
        if ((r = parse_host(c, v, p, &e->host)) < 0 || (r = parse_ports(c, j, path, e)) < 0)
                return r;
        pathf(p, sizeof(p), "%s.protocol", path);
        if ((r = PARSE_ENUM(c, j, p, "protocol", e->protocol, policy_protocol)) < 0)
                return r;
        pathf(p, sizeof(p), "%s.tls", path);
        if ((r = PARSE_ENUM(c, j, p, "tls", e->tls, policy_tls)) < 0)
                return r;
        pathf(p, sizeof(p), "%s.enforcement", path);
        if ((r = PARSE_ENUM(c, j, p, "enforcement", e->enforcement, policy_enforcement)) < 0)
                return r;
        pathf(p, sizeof(p), "%s.access", path);
        if ((r = PARSE_ENUM(c, j, p, "access", e->access, policy_access)) < 0)
                return r;
        if ((v = cJSON_GetObjectItemCaseSensitive(j, "rules"))) {
                pathf(p, sizeof(p), "%s.rules", path);
                if ((r = parse_rules(c, v, p, "allow", &e->rules, &e->n_rules)) < 0)
                        return r;
        }
        if ((v = cJSON_GetObjectItemCaseSensitive(j, "deny_rules"))) {
                pathf(p, sizeof(p), "%s.deny_rules", path);
                if ((r = parse_rules(c, v, p, "deny", &e->deny_rules, &e->n_deny_rules)) < 0)
                        return r;
        }
        if ((v = cJSON_GetObjectItemCaseSensitive(j, "allowed_ips"))) {
                pathf(p, sizeof(p), "%s.allowed_ips", path);
                if ((r = parse_allowed_ips(c, v, p, e)) < 0)
                        return r;
        }
        if (e->protocol == POLICY_PROTOCOL_REST && e->access == POLICY_ACCESS_NONE && e->n_rules == 0)
                return fail(c, j, path, "protocol \"rest\" needs \"access\" or \"rules\"");
        if (e->protocol == POLICY_PROTOCOL_L4 && (e->access != POLICY_ACCESS_NONE || e->n_rules > 0))
                return fail(c, j, path, "\"access\" and \"rules\" need \"protocol\": \"rest\"");
        if (e->access != POLICY_ACCESS_NONE && e->n_rules > 0)
                return fail(c, j, path, "use either \"access\" or \"rules\", not both");
        return 0;
}

static bool policy_id_valid(const char *s) {
        if (isempty(s) || strlen(s) > 128)
                return false;
        for (; *s; s++)
                if (!(isalnum((unsigned char) *s) || IN_SET(*s, '-', '_', '.')))
                        return false;
        return true;
}

static int parse_entry(Ctx *c, const cJSON *j, const char *path, PolicyEntry *en) {
        static const char *const keys[] = { "name", "endpoints", "binaries", NULL };
        const cJSON *v, *it;
        const char *s;
        char p[400];
        int r;

        if (!policy_id_valid(j->string))
                return fail(c, j, path, "policy id must be [A-Za-z0-9._-]{1,128}");
        en->id = strdup(j->string);
        if (!en->id)
                return -ENOMEM;
        if (!cJSON_IsObject(j))
                return fail(c, j, path, "expected an object with \"name\" and \"endpoints\"");
        if ((r = check_keys(c, j, path, keys)) < 0)
                return r;
        if ((v = cJSON_GetObjectItemCaseSensitive(j, "name"))) {
                pathf(p, sizeof(p), "%s.name", path);
                if ((r = get_string(c, v, p, 256, &s)) < 0)
                        return r;
                en->name = strdup(s);
                if (!en->name)
                        return -ENOMEM;
        }
        v = cJSON_GetObjectItemCaseSensitive(j, "endpoints");
        if (!cJSON_IsArray(v))
                return fail(c, v ?: j, path, "\"endpoints\" must be a list");
        en->endpoints = new0(PolicyEndpoint, cJSON_GetArraySize(v) ?: 1);
        if (!en->endpoints)
                return -ENOMEM;
        cJSON_ArrayForEach(it, v) {
                pathf(p, sizeof(p), "%s.endpoints[%zu]", path, en->n_endpoints);
                r = parse_endpoint(c, it, p, &en->endpoints[en->n_endpoints]);
                en->n_endpoints++;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int take_section(Ctx *c, const cJSON *root, const char *name, cJSON **ret) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);

        if (!v)
                return 0;
        if (!cJSON_IsObject(v) && !cJSON_IsNull(v))
                return fail(c, v, name, "expected an object, got %s", json_type_name(v));
        *ret = cJSON_Duplicate(v, true);
        return *ret ? 0 : -ENOMEM;
}

bool policy_syscall_name_valid(const char *name) {
        if (isempty(name) || strlen(name) > POLICY_SYSCALL_NAME_MAX)
                return false;
        for (const char *s = name; *s; s++)
                if (!(islower((unsigned char) *s) || isdigit((unsigned char) *s) || *s == '_'))
                        return false;
        /* A name the native architecture lacks resolves to a negative pseudo number, not the error. */
        return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

static int parse_seccomp(Ctx *c, const cJSON *j, PolicySeccomp *ret) {
        static const char *const keys[] = { "profile", "deny", NULL };
        const cJSON *v, *it;
        char p[300];
        size_t i = 0;
        int r;

        if (!cJSON_IsObject(j))
                return fail(c, j, "process.seccomp", "expected an object {profile, deny}, got %s", json_type_name(j));
        if ((r = check_keys(c, j, "process.seccomp", keys)) < 0)
                return r;
        ret->enabled = true;
        ret->profile = POLICY_SECCOMP_PROFILE_BASELINE;
        if ((v = cJSON_GetObjectItemCaseSensitive(j, "profile"))) {
                PolicySeccompProfile profile = cJSON_IsString(v) ? policy_seccomp_profile_from_string(v->valuestring)
                                                                 : _POLICY_SECCOMP_PROFILE_INVALID;
                if (profile < 0)
                        return fail(c, v, "process.seccomp.profile", "expected baseline or none");
                ret->profile = profile;
        }
        v = cJSON_GetObjectItemCaseSensitive(j, "deny");
        if (!v)
                return 0;
        if (!cJSON_IsArray(v))
                return fail(c, v, "process.seccomp.deny", "expected a list of system call names");
        if ((size_t) cJSON_GetArraySize(v) > POLICY_SECCOMP_DENY_MAX)
                return fail(c, v, "process.seccomp.deny", "more than %u names", POLICY_SECCOMP_DENY_MAX);
        cJSON_ArrayForEach(it, v) {
                pathf(p, sizeof(p), "process.seccomp.deny[%zu]", i++);
                if (!cJSON_IsString(it))
                        return fail(c, it, p, "expected a system call name, got %s", json_type_name(it));
                if (!policy_syscall_name_valid(it->valuestring))
                        return fail(c, it, p, "unknown system call \"%.64s\"", it->valuestring);
                if (!strv_contains(ret->deny, it->valuestring) && strv_extend(&ret->deny, it->valuestring) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* process: OpenShell's run_as_user/run_as_group (accepted, not applied: the agent runs as the image's
 * user) and our seccomp. */
static int parse_process(Ctx *c, const cJSON *j, Policy *p) {
        static const char *const keys[] = { "run_as_user", "run_as_group", "seccomp", NULL };
        const cJSON *v;
        const char *s;
        int r;

        if (!j || cJSON_IsNull(j))
                return 0;
        if ((r = check_keys(c, j, "process", keys)) < 0)
                return r;
        if ((v = cJSON_GetObjectItemCaseSensitive(j, "run_as_user")) &&
            (r = get_string(c, v, "process.run_as_user", 256, &s)) < 0)
                return r;
        if ((v = cJSON_GetObjectItemCaseSensitive(j, "run_as_group")) &&
            (r = get_string(c, v, "process.run_as_group", 256, &s)) < 0)
                return r;
        v = cJSON_GetObjectItemCaseSensitive(j, "seccomp");
        if (!v || cJSON_IsNull(v))
                return 0;
        return parse_seccomp(c, v, &p->seccomp);
}

static int parse_root(Ctx *c, const cJSON *root, Policy *p) {
        static const char *const keys[] = { "version", "network_policies", "filesystem_policy", "landlock",
                                             "process", "inference", NULL };
        const cJSON *v, *it;
        char path[300];
        int r;

        if (!cJSON_IsObject(root))
                return fail(c, root, "policy", "expected an object at the top level");
        if ((r = check_keys(c, root, "policy", keys)) < 0)
                return r;
        v = cJSON_GetObjectItemCaseSensitive(root, "version");
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > POLICY_VERSION_MAX ||
            v->valuedouble != (double) (unsigned) v->valuedouble)
                return fail(c, v ?: root, "version", "expected version 1");
        p->version = (unsigned) v->valuedouble;
        v = cJSON_GetObjectItemCaseSensitive(root, "network_policies");
        if (v && !cJSON_IsObject(v) && !cJSON_IsNull(v))
                return fail(c, v, "network_policies", "expected an object of id: {name, endpoints}");
        p->entries = new0(PolicyEntry, cJSON_GetArraySize(v) ?: 1);
        if (!p->entries)
                return -ENOMEM;
        v = cJSON_IsObject(v) ? v : NULL;
        cJSON_ArrayForEach(it, v) {
                pathf(path, sizeof(path), "network_policies.%.128s", it->string);
                r = parse_entry(c, it, path, &p->entries[p->n_entries]);
                p->n_entries++;
                if (r < 0)
                        return r;
        }
        if ((r = take_section(c, root, "filesystem_policy", &p->filesystem_policy)) < 0 ||
            (r = take_section(c, root, "landlock", &p->landlock)) < 0 ||
            (r = take_section(c, root, "process", &p->process)) < 0)
                return r;
        /* The original node, not the copy: YAML messages need its line. */
        return parse_process(c, cJSON_GetObjectItemCaseSensitive(root, "process"), p);
}

int policy_from_json(const cJSON *root, const PolicyLineMap *lines, Policy **ret, char **ret_error) {
        _cleanup_(policy_freep) Policy *p = new0(Policy, 1);
        Ctx c = { .lines = lines };
        int r;

        if (!p)
                return -ENOMEM;
        r = parse_root(&c, root, p);
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(c.error);
                free(c.error);
                return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

int policy_parse(const char *text, size_t size, Policy **ret, char **ret_error) {
        _cleanup_(policy_line_map_freep) PolicyLineMap *lines = NULL;
        _cleanup_json_ cJSON *root = NULL;
        size_t skip = strspn(text, " \t\r\n");
        unsigned line = 0, col = 0;
        int r;

        if (size > POLICY_MAX_BYTES) {
                if (ret_error)
                        *ret_error = asprintf_safe("policy larger than %u bytes", POLICY_MAX_BYTES);
                return -EFBIG;
        }
        if (skip < size && text[skip] == '{') {
                r = json_parse(text, size, &root, &line, &col);
                if (r < 0) {
                        if (ret_error)
                                *ret_error = asprintf_safe("line %u, column %u: invalid JSON", line, col);
                        return r;
                }
        } else {
                r = policy_yaml_to_json(text, size, &root, &lines, ret_error);
                if (r < 0)
                        return r;
        }
        return policy_from_json(root, lines, ret, ret_error);
}

int policy_load(const char *path, Policy **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file(path, POLICY_MAX_BYTES, &text, &size);
        if (r < 0) {
                if (ret_error)
                        *ret_error = asprintf_safe("cannot read %s: %s", path, strerror(-r));
                return r;
        }
        if (memchr(text, 0, size)) {
                if (ret_error)
                        *ret_error = strdup("policy contains NUL bytes");
                return -EINVAL;
        }
        return policy_parse(text, size, ret, ret_error);
}
