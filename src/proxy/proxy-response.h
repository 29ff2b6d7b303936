/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Responses the proxy itself generates: policy denials (403 + X-OpenShell-Policy + JSON body) and errors
 * (400, 408, 431, 502, 503, 504) with a small JSON body. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

typedef struct ProxyDenial {
        const char *error; /* NULL: "policy_denied" */
        PolicyLayer layer;
        const char *host;
        uint16_t port;
        const char *method;
        const char *path; /* NULL for CONNECT */
        const char *policy;
        const char *rule;
        const char *detail;
} ProxyDenial;

/* The JSON body alone (also used by tests and the gateway's policy dry-run later). */
int proxy_denial_json(const ProxyDenial *d, char **ret);

/* A complete 403 response. keep_alive=false adds "Connection: close". */
int proxy_response_denied(const ProxyDenial *d, bool keep_alive, char **ret, size_t *ret_size);

/* A complete error response: {"error": code, "detail": detail}; always "Connection: close". */
int proxy_response_error(unsigned status, const char *code, const char *detail, char **ret, size_t *ret_size);
