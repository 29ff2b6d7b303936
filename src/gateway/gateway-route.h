/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The API's routes, the identities that call them, and who may call what (docs/api.md). Identities:
 * admin (CN=openshell-admin, the CLI), sandbox NAME (CN=sandbox:NAME, the sandbox's proxy) and agent NAME
 * (CN=agent:NAME, the supervisor in the agent container).
 *
 *   route                                  admin  own sandbox  own agent  other sbx/agent  callback listener
 *   GET    /v1/health                       yes    yes          yes        yes              yes
 *   GET    /v1/sandboxes                    yes    -            -          -                -
 *   POST   /v1/sandboxes                    yes    -            -          -                -
 *   GET    /v1/sandboxes/NAME               yes    yes          -          -                yes
 *   DELETE /v1/sandboxes/NAME               yes    -            -          -                -
 *   POST   /v1/sandboxes/NAME/start|stop    yes    -            -          -                -
 *   GET    /v1/sandboxes/NAME/logs          yes    -            -          -                -
 *   GET    /v1/sandboxes/NAME/policy        yes    yes          -          -                yes
 *   PUT    /v1/sandboxes/NAME/policy        yes    -            -          -                -
 *   GET    /v1/sandboxes/NAME/credentials   -      yes          -          -                yes   (secret values)
 *   GET    /v1/sandboxes/NAME/inference     yes    yes          -          -                yes
 *   PUT    /v1/sandboxes/NAME/inference     yes    -            -          -                -
 *   GET    /v1/providers                    yes    -            -          -                -
 *   POST   /v1/providers                    yes    -            -          -                -
 *   GET    /v1/providers/NAME               yes    -            -          -                -
 *   DELETE /v1/providers/NAME               yes    -            -          -                -
 *   GET    /v1/sandboxes/NAME/session       -      -            yes        -                yes   (relay upgrade)
 *   POST   /v1/sandboxes/NAME/exec          yes    -            -          -                -     (relay upgrade)
 *
 * Secret values go only to the owning sandbox's proxy, never back to an administrator and never to the
 * agent: whatever runs in the agent container can read the agent's certificate, so it reaches nothing
 * but its own session. Callback listeners (sandbox-facing) serve only the routes marked there, whoever
 * asks. */

#include <stdbool.h>

#include "gateway-listen.h"
#include "macro.h"

/* a 63-byte sandbox name + NUL */
#define IDENTITY_NAME_MAX 64U

typedef enum IdentityKind {
        IDENTITY_ADMIN,
        IDENTITY_SANDBOX, /* the sandbox's proxy */
        IDENTITY_AGENT,   /* the supervisor in the sandbox's agent container */
        _IDENTITY_KIND_MAX,
        _IDENTITY_KIND_INVALID = -EINVAL,
} IdentityKind;

typedef struct Identity {
        IdentityKind kind;
        char sandbox[IDENTITY_NAME_MAX]; /* IDENTITY_SANDBOX and IDENTITY_AGENT: the sandbox's name */
} Identity;

/* Maps a verified certificate's CN to an identity; -EACCES for any other CN. */
int identity_from_common_name(const char *cn, Identity *ret);
/* "admin", "sandbox:NAME" or "agent:NAME", for logs. */
const char *identity_to_string(const Identity *id, char *buf, size_t size);

typedef enum GatewayRoute {
        ROUTE_HEALTH,
        ROUTE_SANDBOX_LIST,
        ROUTE_SANDBOX_CREATE,
        ROUTE_SANDBOX_GET,
        ROUTE_SANDBOX_DELETE,
        ROUTE_SANDBOX_START,
        ROUTE_SANDBOX_STOP,
        ROUTE_SANDBOX_LOGS,
        ROUTE_POLICY_GET,
        ROUTE_POLICY_SET,
        ROUTE_CREDENTIALS_GET,
        ROUTE_INFERENCE_GET,
        ROUTE_INFERENCE_SET,
        ROUTE_PROVIDER_LIST,
        ROUTE_PROVIDER_CREATE,
        ROUTE_PROVIDER_GET,
        ROUTE_PROVIDER_DELETE,
        ROUTE_SANDBOX_SESSION, /* GET  /v1/sandboxes/NAME/session, upgraded (gateway-relay.h) */
        ROUTE_SANDBOX_EXEC,    /* POST /v1/sandboxes/NAME/exec, upgraded (gateway-relay.h) */
        _ROUTE_MAX,
        _ROUTE_INVALID = -EINVAL,
} GatewayRoute;

DECLARE_STRING_TABLE_LOOKUP(gateway_route, GatewayRoute);

typedef struct RouteMatch {
        GatewayRoute route;
        char name[IDENTITY_NAME_MAX]; /* the NAME path segment, "" if none */
        char query[256];              /* raw query string without '?', "" if none */
} RouteMatch;

/* Matches method + request-target (origin-form "/v1/..."). Returns 0, -ENOENT (no such path: 404),
 * -EOPNOTSUPP (path exists, method does not: 405), -EINVAL (a NAME that is not a valid name: 400). */
int gateway_route_match(const char *method, const char *target, RouteMatch *ret);

/* 0 if identity may call route on a listener of 'role' for object 'name'; -EPERM otherwise. */
int gateway_authorize(const Identity *id, ListenRole role, const RouteMatch *m);

/* Looks up a query parameter ("watch=3&timeout=10"); returns 0 and a copy in buf, -ENOENT, or -E2BIG. */
int query_get(const char *query, const char *key, char *buf, size_t size);
