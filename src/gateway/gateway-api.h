/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The JSON API's request handlers (docs/api.md). A pure layer: a request (method, target, body, the
 * caller's identity and the listener's role) in, a status and a JSON document out, so that routing,
 * authorization and every handler are unit-tested without sockets or systemd. Errors are
 * {"error": "code", "message": "..."} with stable codes. A policy watch that must wait is returned as
 * "park this request" (ApiResponse.watch); the connection layer completes it with api_policy_response(). */

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "gateway-listen.h"
#include "gateway-route.h"
#include "gateway-sandbox-ops.h"
#include "gateway-store.h"
#include "time-util.h"

typedef struct ApiContext {
        Store *store;
        const SandboxOps *ops;
        void *ops_userdata;
        const char *tls_dir;      /* CA that signs sandbox certificates; NULL when TLS is disabled */
        const char *callback_url; /* default "gateway" for specs that do not name one; may be NULL */
        const char *callback_socket; /* with it, "gateway_socket" (host path of a Unix callback listener); may be NULL */
        /* Whether sandbox 'name' has a supervisor session up (gateway-relay.h); NULL: never. */
        bool (*has_session)(void *userdata, const char *name);
        void *session_userdata;
        usec_t watch_timeout_default;
        usec_t watch_timeout_max;
} ApiContext;

typedef struct ApiRequest {
        const char *method;
        const char *target;
        const char *body;
        size_t body_size;
        const Identity *identity; /* NULL: the certificate verified but names no known identity */
        ListenRole role;
} ApiRequest;

typedef struct ApiResponse {
        unsigned status;
        cJSON *json;
        /* Park the request until the policy of watch_name moves past watch_revision or the timeout. */
        bool watch;
        char watch_name[IDENTITY_NAME_MAX];
        uint64_t watch_revision;
        usec_t watch_timeout;
        /* Wake the watchers of this sandbox's policy ("" if none). */
        char notify_policy[IDENTITY_NAME_MAX];
} ApiResponse;

void api_response_done(ApiResponse *r);

/* Fills *ret (call api_response_done() afterwards); returns 0, or -ENOMEM when not even an error
 * response could be built. */
int api_handle(const ApiContext *ctx, const ApiRequest *req, ApiResponse *ret);

/* The policy document for a sandbox: {"name", "revision", "changed", "policy"}. */
int api_policy_response(const ApiContext *ctx, const char *name, bool changed, ApiResponse *ret);

/* {"error": code, "message": message} with status. */
int api_error(ApiResponse *r, unsigned status, const char *code, const char *message);
