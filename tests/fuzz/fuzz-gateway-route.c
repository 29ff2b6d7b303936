/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the gateway's router and authorization (gateway-route.c): the input is
 * "METHOD TARGET\nCOMMON-NAME" (any bytes). A matched route must be spelled exactly as the route table
 * says — "/v1/" + collection [+ "/" + valid NAME [+ "/" + suffix]] — with the query copied verbatim; an
 * identity other than admin may only reach its own sandbox, and the callback listener only the
 * sandbox-facing routes;
 * query_get() stays inside its buffer. Built with -fsanitize=fuzzer when -Dfuzz=true (clang); otherwise
 * main() replays the corpus. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "alloc-util.h"
#include "gateway-route.h"
#include "log.h"
#include "sandbox-spec.h"
#include "string-util.h"

/* The method and canonical path of each route, NAME as %s. */
static const char *const route_path[_ROUTE_MAX] = {
        [ROUTE_HEALTH] = "/v1/health",
        [ROUTE_SANDBOX_LIST] = "/v1/sandboxes",
        [ROUTE_SANDBOX_CREATE] = "/v1/sandboxes",
        [ROUTE_SANDBOX_GET] = "/v1/sandboxes/%s",
        [ROUTE_SANDBOX_DELETE] = "/v1/sandboxes/%s",
        [ROUTE_SANDBOX_START] = "/v1/sandboxes/%s/start",
        [ROUTE_SANDBOX_STOP] = "/v1/sandboxes/%s/stop",
        [ROUTE_SANDBOX_LOGS] = "/v1/sandboxes/%s/logs",
        [ROUTE_POLICY_GET] = "/v1/sandboxes/%s/policy",
        [ROUTE_POLICY_SET] = "/v1/sandboxes/%s/policy",
        [ROUTE_CREDENTIALS_GET] = "/v1/sandboxes/%s/credentials",
        [ROUTE_INFERENCE_GET] = "/v1/sandboxes/%s/inference",
        [ROUTE_INFERENCE_SET] = "/v1/sandboxes/%s/inference",
        [ROUTE_PROVIDER_LIST] = "/v1/providers",
        [ROUTE_PROVIDER_CREATE] = "/v1/providers",
        [ROUTE_PROVIDER_GET] = "/v1/providers/%s",
        [ROUTE_PROVIDER_DELETE] = "/v1/providers/%s",
        [ROUTE_SANDBOX_SESSION] = "/v1/sandboxes/%s/session",
        [ROUTE_SANDBOX_EXEC] = "/v1/sandboxes/%s/exec",
};

static const char *const route_method[_ROUTE_MAX] = {
        [ROUTE_HEALTH] = "GET",          [ROUTE_SANDBOX_LIST] = "GET",     [ROUTE_SANDBOX_CREATE] = "POST",
        [ROUTE_SANDBOX_GET] = "GET",     [ROUTE_SANDBOX_DELETE] = "DELETE", [ROUTE_SANDBOX_START] = "POST",
        [ROUTE_SANDBOX_STOP] = "POST",   [ROUTE_SANDBOX_LOGS] = "GET",     [ROUTE_POLICY_GET] = "GET",
        [ROUTE_POLICY_SET] = "PUT",      [ROUTE_CREDENTIALS_GET] = "GET",  [ROUTE_INFERENCE_GET] = "GET",
        [ROUTE_INFERENCE_SET] = "PUT",   [ROUTE_PROVIDER_LIST] = "GET",    [ROUTE_PROVIDER_CREATE] = "POST",
        [ROUTE_PROVIDER_GET] = "GET",    [ROUTE_PROVIDER_DELETE] = "DELETE", [ROUTE_SANDBOX_SESSION] = "GET",
        [ROUTE_SANDBOX_EXEC] = "POST",
};

/* The routes anyone but an administrator may call, and the only ones on the callback listener
 * (gateway-route.h's table). */
static bool sandbox_callable(GatewayRoute r) {
        return IN_SET(r, ROUTE_HEALTH, ROUTE_SANDBOX_GET, ROUTE_POLICY_GET, ROUTE_CREDENTIALS_GET,
                      ROUTE_INFERENCE_GET, ROUTE_SANDBOX_SESSION);
}

static void check_match(const char *method, const char *target, const RouteMatch *m) {
        const char *q = strchr(target, '?');
        char path[600];

        if (m->route < 0 || m->route >= _ROUTE_MAX || !gateway_route_to_string(m->route))
                abort();
        if (!streq(method, route_method[m->route]) || (!isempty(m->name) && !sandbox_name_is_valid(m->name)))
                abort();
        if (strchr(route_path[m->route], '%') == NULL && !isempty(m->name))
                abort();
        snprintf(path, sizeof(path), route_path[m->route], m->name);
        if (strlen(path) != (q ? (size_t) (q - target) : strlen(target)) ||
            strncmp(path, target, strlen(path)) != 0)
                abort(); /* another spelling of a route's path */
        if (!streq(m->query, q ? q + 1 : ""))
                abort();
}

static void check_authorize(const RouteMatch *m, const Identity *id) {
        for (ListenRole role = 0; role < _LISTEN_ROLE_MAX; role++) {
                if (gateway_authorize(id, role, m) < 0)
                        continue;
                if (role == LISTEN_ROLE_CALLBACK && !sandbox_callable(m->route))
                        abort();
                if (id->kind == IDENTITY_ADMIN) {
                        if (IN_SET(m->route, ROUTE_CREDENTIALS_GET, ROUTE_SANDBOX_SESSION))
                                abort(); /* secrets and the supervisor's session: never an administrator's */
                        continue;
                }
                /* Every other identity belongs to one sandbox and reaches that sandbox only. */
                if (!sandbox_callable(m->route) ||
                    (m->route != ROUTE_HEALTH && !streq(m->name, id->sandbox)))
                        abort();
                if (m->route == ROUTE_CREDENTIALS_GET && id->kind != IDENTITY_SANDBOX)
                        abort(); /* secret values go to the sandbox's proxy alone */
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;
        const char *method, *target, *cn;
        char *sp, *nl, buf[8];
        Identity id;
        RouteMatch m;

        log_set_max_level(LOG_CRIT);
        text = strndup_safe((const char *) data, size);
        if (!text)
                return 0;
        nl = strchr(text, '\n');
        cn = nl ? nl + 1 : "openshell-admin";
        if (nl)
                *nl = 0;
        sp = strchr(text, ' ');
        if (!sp)
                return 0;
        *sp = 0;
        method = text;
        target = sp + 1;

        if (identity_from_common_name(cn, &id) >= 0 && id.kind != IDENTITY_ADMIN &&
            !sandbox_name_is_valid(id.sandbox))
                abort();
        if (gateway_route_match(method, target, &m) < 0)
                return 0;
        check_match(method, target, &m);
        if (identity_from_common_name(cn, &id) >= 0)
                check_authorize(&m, &id);
        for (const char *k = m.query; k; k = strchr(k, '&') ? strchr(k, '&') + 1 : NULL) {
                char key[16];
                size_t n = MIN(strcspn(k, "=&"), sizeof(key) - 1);

                memcpy(key, k, n);
                key[n] = 0;
                if (query_get(m.query, key, buf, sizeof(buf)) >= 0 && strlen(buf) >= sizeof(buf))
                        abort();
        }
        return 0;
}
