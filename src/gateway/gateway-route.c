/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway-pki.h"
#include "gateway-route.h"
#include "string-util.h"

static const char *const gateway_route_table[_ROUTE_MAX] = {
        [ROUTE_HEALTH] = "health",
        [ROUTE_SANDBOX_LIST] = "sandbox-list",
        [ROUTE_SANDBOX_CREATE] = "sandbox-create",
        [ROUTE_SANDBOX_GET] = "sandbox-get",
        [ROUTE_SANDBOX_DELETE] = "sandbox-delete",
        [ROUTE_SANDBOX_START] = "sandbox-start",
        [ROUTE_SANDBOX_STOP] = "sandbox-stop",
        [ROUTE_SANDBOX_LOGS] = "sandbox-logs",
        [ROUTE_POLICY_GET] = "policy-get",
        [ROUTE_POLICY_SET] = "policy-set",
        [ROUTE_CREDENTIALS_GET] = "credentials-get",
        [ROUTE_INFERENCE_GET] = "inference-get",
        [ROUTE_INFERENCE_SET] = "inference-set",
        [ROUTE_PROVIDER_LIST] = "provider-list",
        [ROUTE_PROVIDER_CREATE] = "provider-create",
        [ROUTE_PROVIDER_GET] = "provider-get",
        [ROUTE_PROVIDER_DELETE] = "provider-delete",
        [ROUTE_SANDBOX_SESSION] = "sandbox-session",
        [ROUTE_SANDBOX_EXEC] = "sandbox-exec",
};

DEFINE_STRING_TABLE_LOOKUP(gateway_route, GatewayRoute, _ROUTE_MAX);

/* Who may call what: see the table in gateway-route.h. own_*: only for the NAME in the path. */
typedef struct RouteAccess {
        bool admin;
        bool own_sandbox; /* the proxy of sandbox NAME */
        bool own_agent;   /* the supervisor of sandbox NAME */
        bool anyone;      /* every known identity, whatever the name */
        bool callback;
} RouteAccess;

static const RouteAccess route_access[_ROUTE_MAX] = {
        [ROUTE_HEALTH] = { .admin = true, .own_sandbox = true, .own_agent = true, .anyone = true, .callback = true },
        [ROUTE_SANDBOX_LIST] = { .admin = true },
        [ROUTE_SANDBOX_CREATE] = { .admin = true },
        [ROUTE_SANDBOX_GET] = { .admin = true, .own_sandbox = true, .callback = true },
        [ROUTE_SANDBOX_DELETE] = { .admin = true },
        [ROUTE_SANDBOX_START] = { .admin = true },
        [ROUTE_SANDBOX_STOP] = { .admin = true },
        [ROUTE_SANDBOX_LOGS] = { .admin = true },
        [ROUTE_POLICY_GET] = { .admin = true, .own_sandbox = true, .callback = true },
        [ROUTE_POLICY_SET] = { .admin = true },
        [ROUTE_CREDENTIALS_GET] = { .own_sandbox = true, .callback = true },
        [ROUTE_INFERENCE_GET] = { .admin = true, .own_sandbox = true, .callback = true },
        [ROUTE_INFERENCE_SET] = { .admin = true },
        [ROUTE_PROVIDER_LIST] = { .admin = true },
        [ROUTE_PROVIDER_CREATE] = { .admin = true },
        [ROUTE_PROVIDER_GET] = { .admin = true },
        [ROUTE_PROVIDER_DELETE] = { .admin = true },
        [ROUTE_SANDBOX_SESSION] = { .own_agent = true, .callback = true },
        [ROUTE_SANDBOX_EXEC] = { .admin = true },
};

int identity_from_common_name(const char *cn, Identity *ret) {
        IdentityKind kind = IDENTITY_SANDBOX;
        const char *name;

        if (streq_ptr(cn, PKI_ADMIN_COMMON_NAME)) {
                *ret = (Identity) { .kind = IDENTITY_ADMIN };
                return 0;
        }
        name = cn ? startswith(cn, PKI_SANDBOX_CN_PREFIX) : NULL;
        if (!name && cn) {
                name = startswith(cn, PKI_AGENT_CN_PREFIX);
                kind = IDENTITY_AGENT;
        }
        if (!name || !sandbox_name_is_valid(name))
                return -EACCES;
        *ret = (Identity) { .kind = kind };
        strcpy(ret->sandbox, name); /* valid names are at most 63 bytes */
        return 0;
}

const char *identity_to_string(const Identity *id, char *buf, size_t size) {
        switch (id->kind) {
        case IDENTITY_ADMIN:
                snprintf(buf, size, "admin");
                break;
        case IDENTITY_SANDBOX:
                snprintf(buf, size, "%s%s", PKI_SANDBOX_CN_PREFIX, id->sandbox);
                break;
        case IDENTITY_AGENT:
                snprintf(buf, size, "%s%s", PKI_AGENT_CN_PREFIX, id->sandbox);
                break;
        case _IDENTITY_KIND_MAX:
        case _IDENTITY_KIND_INVALID:
        default:
                snprintf(buf, size, "invalid");
                break;
        }
        return buf;
}

typedef struct RouteRule {
        const char *method;
        const char *prefix; /* "/v1/sandboxes" */
        bool has_name;
        const char *suffix; /* after the name: NULL, "policy", ... */
        GatewayRoute route;
} RouteRule;

static const RouteRule route_rules[] = {
        { "GET", "/v1/health", false, NULL, ROUTE_HEALTH },
        { "GET", "/v1/sandboxes", false, NULL, ROUTE_SANDBOX_LIST },
        { "POST", "/v1/sandboxes", false, NULL, ROUTE_SANDBOX_CREATE },
        { "GET", "/v1/sandboxes", true, NULL, ROUTE_SANDBOX_GET },
        { "DELETE", "/v1/sandboxes", true, NULL, ROUTE_SANDBOX_DELETE },
        { "POST", "/v1/sandboxes", true, "start", ROUTE_SANDBOX_START },
        { "POST", "/v1/sandboxes", true, "stop", ROUTE_SANDBOX_STOP },
        { "GET", "/v1/sandboxes", true, "logs", ROUTE_SANDBOX_LOGS },
        { "GET", "/v1/sandboxes", true, "policy", ROUTE_POLICY_GET },
        { "PUT", "/v1/sandboxes", true, "policy", ROUTE_POLICY_SET },
        { "GET", "/v1/sandboxes", true, "credentials", ROUTE_CREDENTIALS_GET },
        { "GET", "/v1/sandboxes", true, "inference", ROUTE_INFERENCE_GET },
        { "PUT", "/v1/sandboxes", true, "inference", ROUTE_INFERENCE_SET },
        { "GET", "/v1/providers", false, NULL, ROUTE_PROVIDER_LIST },
        { "POST", "/v1/providers", false, NULL, ROUTE_PROVIDER_CREATE },
        { "GET", "/v1/providers", true, NULL, ROUTE_PROVIDER_GET },
        { "DELETE", "/v1/providers", true, NULL, ROUTE_PROVIDER_DELETE },
        { "GET", "/v1/sandboxes", true, "session", ROUTE_SANDBOX_SESSION },
        { "POST", "/v1/sandboxes", true, "exec", ROUTE_SANDBOX_EXEC },
};

/* Splits "/v1/x/NAME/suffix" after prefix into name and suffix. An overlong NAME becomes "!", which no
 * name validation accepts. */
static bool split_path(const char *path, const char *prefix, char *name, size_t name_size, const char **ret_suffix) {
        const char *rest = startswith(path, prefix), *slash;
        size_t n;

        if (!rest)
                return false;
        name[0] = 0;
        *ret_suffix = NULL;
        if (*rest == 0)
                return true;
        if (*rest != '/')
                return false;
        rest++;
        slash = strchr(rest, '/');
        n = slash ? (size_t) (slash - rest) : strlen(rest);
        if (n == 0)
                return false;
        if (n >= name_size) {
                rest = "!";
                n = 1;
        }
        memcpy(name, rest, n);
        name[n] = 0;
        *ret_suffix = slash ? slash + 1 : NULL;
        return true;
}

int gateway_route_match(const char *method, const char *target, RouteMatch *ret) {
        char path[512];
        const char *q = strchr(target, '?');
        size_t n = q ? (size_t) (q - target) : strlen(target);
        bool path_known = false;

        if (n == 0 || n >= sizeof(path) || target[0] != '/' || (q && strlen(q + 1) >= sizeof(ret->query)))
                return -ENOENT;
        memcpy(path, target, n);
        path[n] = 0;
        *ret = (RouteMatch) {};
        if (q)
                strcpy(ret->query, q + 1);

        for (size_t i = 0; i < ELEMENTSOF(route_rules); i++) {
                const RouteRule *rule = &route_rules[i];
                const char *suffix;
                char name[IDENTITY_NAME_MAX + 1];

                if (!split_path(path, rule->prefix, name, sizeof(name), &suffix))
                        continue;
                if (rule->has_name != !isempty(name) || !streq_ptr(suffix, rule->suffix))
                        continue;
                path_known = true;
                if (!streq(method, rule->method))
                        continue;
                if (rule->has_name && !sandbox_name_is_valid(name))
                        return -EINVAL;
                if (rule->has_name)
                        strcpy(ret->name, name);
                ret->route = rule->route;
                return 0;
        }
        return path_known ? -EOPNOTSUPP : -ENOENT;
}

int gateway_authorize(const Identity *id, ListenRole role, const RouteMatch *m) {
        const RouteAccess *a;

        if ((int) m->route < 0 || m->route >= _ROUTE_MAX)
                return -EPERM;
        a = &route_access[m->route];
        if (role == LISTEN_ROLE_CALLBACK && !a->callback)
                return -EPERM;
        switch (id->kind) {
        case IDENTITY_ADMIN:
                return a->admin ? 0 : -EPERM;
        case IDENTITY_SANDBOX:
                if (a->anyone)
                        return 0;
                return a->own_sandbox && streq(m->name, id->sandbox) ? 0 : -EPERM;
        case IDENTITY_AGENT:
                if (a->anyone)
                        return 0;
                return a->own_agent && streq(m->name, id->sandbox) ? 0 : -EPERM;
        case _IDENTITY_KIND_MAX:
        case _IDENTITY_KIND_INVALID:
        default:
                return -EPERM;
        }
}

int query_get(const char *query, const char *key, char *buf, size_t size) {
        size_t kl = strlen(key);

        for (const char *p = query; p && *p;) {
                const char *amp = strchr(p, '&');
                size_t len = amp ? (size_t) (amp - p) : strlen(p);

                if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
                        if (len - kl - 1 >= size)
                                return -E2BIG;
                        memcpy(buf, p + kl + 1, len - kl - 1);
                        buf[len - kl - 1] = 0;
                        return 0;
                }
                if (len == kl && strncmp(p, key, kl) == 0) {
                        if (size < 1)
                                return -E2BIG;
                        buf[0] = 0;
                        return 0;
                }
                p = amp ? amp + 1 : NULL;
        }
        return -ENOENT;
}
