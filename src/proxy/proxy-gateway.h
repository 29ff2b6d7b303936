/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Gateway mode: the proxy fetches its sandbox's policy, credentials and inference route from the gateway
 * over mTLS (the sandbox's client certificate, CN=sandbox:NAME) and follows the policy watch:
 *
 *   GET /v1/sandboxes/NAME/policy            once, then ?watch=REV&timeout=30s in a loop (long poll)
 *   GET /v1/sandboxes/NAME/credentials       after each policy answer (changed or not)
 *   GET /v1/sandboxes/NAME/inference         likewise; 404 means "no route"
 *
 * One keep-alive connection, one request at a time, all on sd-event (async DNS via the connector, the
 * shared TlsConn client side, http-message for the responses). With a socket path (--gateway-socket) the
 * connection goes to the gateway's AF_UNIX callback listener instead of the URL's host, while SNI and the
 * certificate's host check still use that host. A document is handed to the owner only when
 * it differs from the last one delivered. Errors close the connection and reconnect with exponential
 * backoff; the owner keeps whatever it last applied (or its local files) meanwhile. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "dns-async.h"
#include "http-message.h"
#include "json-util.h"
#include "macro.h"
#include "time-util.h"

#define PROXY_GATEWAY_WATCH_TIMEOUT_SEC 30U                      /* ?timeout= of each watch */
#define PROXY_GATEWAY_REQUEST_SLACK_USEC (15 * USEC_PER_SEC)     /* answer deadline beyond the watch timeout */
#define PROXY_GATEWAY_MAX_RESPONSE_BYTES (4U * 1024U * 1024U)    /* a response body larger than this is refused */
#define PROXY_GATEWAY_BACKOFF_MIN_USEC (250 * USEC_PER_MSEC)
#define PROXY_GATEWAY_BACKOFF_MAX_USEC (30 * USEC_PER_SEC)

typedef enum GatewayResource {
        GATEWAY_POLICY,
        GATEWAY_CREDENTIALS,
        GATEWAY_INFERENCE,
        _GATEWAY_RESOURCE_MAX,
        _GATEWAY_RESOURCE_INVALID = -EINVAL,
} GatewayResource;

DECLARE_STRING_TABLE_LOOKUP(gateway_resource, GatewayResource);

/* A new document: the policy answer ({"revision", "policy", …}), the credentials answer
 * ({"credentials": {…}}) or the inference route (NULL: the gateway has none). */
typedef void (*gateway_update_t)(GatewayResource what, const cJSON *doc, void *userdata);

typedef struct GatewayClientOptions {
        const char *url;     /* https://HOST[:PORT] (http:// only for a DisableTLS=yes gateway) */
        const char *socket_path; /* NULL, or connect to this AF_UNIX socket; url still names the TLS host */
        const char *sandbox; /* NAME */
        const char *ca, *cert, *key;
        HttpLimits limits;
        usec_t handshake_timeout;
} GatewayClientOptions;

typedef struct GatewayClient GatewayClient;

/* Validates the options (-EINVAL with *ret_error) and loads the client certificate; nothing is sent yet. */
int gateway_client_new(sd_event *event, DnsResolver *resolver, const GatewayClientOptions *o, gateway_update_t cb,
                       void *userdata, GatewayClient **ret, char **ret_error);
GatewayClient *gateway_client_free(GatewayClient *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(GatewayClient *, gateway_client_free);
int gateway_client_start(GatewayClient *g);

/* The request head for one resource; watch_revision 0: a plain GET. */
int gateway_request_format(const char *authority, const char *sandbox, GatewayResource what, uint64_t watch_revision,
                           char **ret);
/* The next reconnect delay after one more failure. */
usec_t gateway_backoff_next(usec_t current) _const_;
/* The "revision" of a policy answer: >0, or -EINVAL. */
int gateway_policy_revision(const cJSON *doc, uint64_t *ret);
