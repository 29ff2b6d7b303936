/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* inference.local: the agent calls a model at http(s)://inference.local; the proxy forwards the calls it
 * recognises to the configured backend with the caller's credentials stripped, the backend's credential
 * injected and the JSON body's "model" rewritten. The route, from --inference FILE or the gateway's
 * GET /v1/sandboxes/NAME/inference, has the gateway's shape:
 *
 *   {"base_url": "https://api.openai.com/v1", "api": "openai", "model": "gpt-4o",
 *    "credential": {"header": "Authorization", "value_file": "/run/secrets/openai"}}
 *
 * "api" is "openai" (default) or "anthropic"; "credential" is optional ({"value"} or {"value_file"}, and an
 * optional "header": by default Authorization for openai, x-api-key for anthropic; a value for
 * Authorization without a scheme gets "Bearer "). "provider" (the gateway's reference) is accepted. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http-message.h"
#include "json-util.h"
#include "macro.h"

#define INFERENCE_HOST "inference.local"
/* InferenceMaxBodyBytes=: request bodies are buffered whole to rewrite "model". */
#define PROXY_INFERENCE_MAX_BODY_DEFAULT (4U * 1024U * 1024U)
#define PROXY_INFERENCE_MAX_BODY_MAX (64U * 1024U * 1024U)
#define INFERENCE_ROUTE_MAX_BYTES (64U * 1024U)

typedef enum InferenceApi {
        INFERENCE_API_OPENAI,
        INFERENCE_API_ANTHROPIC,
        _INFERENCE_API_MAX,
        _INFERENCE_API_INVALID = -EINVAL,
} InferenceApi;

DECLARE_STRING_TABLE_LOOKUP(inference_api, InferenceApi);

typedef struct InferenceRoute {
        unsigned n_ref;
        InferenceApi api;
        bool https;
        char *host;      /* without IPv6 brackets */
        uint16_t port;
        char *authority; /* Host header: as in base_url */
        char *prefix;    /* base_url's path without a trailing '/', maybe "" */
        char *model;
        char *credential_header; /* NULL: none injected */
        char *credential_value;  /* the complete header value */
} InferenceRoute;

int inference_route_from_json(const cJSON *j, InferenceRoute **ret, char **ret_error);
int inference_route_parse(const char *text, size_t size, InferenceRoute **ret, char **ret_error);
int inference_route_load(const char *path, InferenceRoute **ret, char **ret_error);
InferenceRoute *inference_route_ref(InferenceRoute *r);
InferenceRoute *inference_route_unref(InferenceRoute *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(InferenceRoute *, inference_route_unref);

/* True for inference.local, case-insensitive, with or without a trailing dot. */
bool inference_is_host(const char *host) _pure_;

/* NULL if METHOD PATH (no query) is an inference call this api routes; else why not (static text). */
const char *inference_request_denied(InferenceApi api, const char *method, const char *path);

/* The backend's request-target for the agent's origin-form target: base_url's path + the agent's path,
 * where a base_url ending in /v1 absorbs the agent's leading /v1 (OpenAI SDK convention). */
int inference_upstream_target(const InferenceRoute *r, const char *target, char **ret);

/* Sets "model" in a JSON object body. -EINVAL (with *ret_error) if the body is not a JSON object. */
int inference_rewrite_body(const char *body, size_t size, const char *model, char **ret, size_t *ret_size,
                           char **ret_error);

/* The head sent to the backend: Host from base_url, the caller's hop-by-hop, Host, Content-Length,
 * Transfer-Encoding, Expect and credential headers (Authorization, x-api-key, api-key, Proxy-*) dropped,
 * the route's credential and Content-Length (when has_body) added. */
int inference_format_upstream_head(const InferenceRoute *r, const HttpMessage *m, const char *target, bool has_body,
                                   size_t body_size, char **ret, size_t *ret_size);
