/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The client end of a relay session: where the gateway is (an endpoint URL), the mTLS client context, and
 * the HTTP/1.1 upgrade request/response around it (RFC 9110 7.8). Used by the supervisor (on sd-event) and
 * by the CLI (blocking). */

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "http-message.h"
#include "macro.h"

#define RELAY_ENDPOINT_HOST_MAX 253U
/* The name the gateway's server certificate always carries (gateway-pki): used to verify it when the
 * endpoint is reached through an address that is not in the certificate (the proxy's TCP forward). */
#define RELAY_GATEWAY_SERVER_NAME "host.openshell.internal"

typedef struct RelayEndpoint {
        bool tls;
        char host[RELAY_ENDPOINT_HOST_MAX + 1]; /* without brackets for IPv6 */
        uint16_t port;
} RelayEndpoint;

/* "https://host:port" or "http://host:port", optional trailing '/'; IPv6 literals in brackets. A missing
 * port means 443/80. Returns 0 or -EINVAL (anything else: a path, a query, userinfo, bad port). */
int relay_endpoint_parse(const char *url, RelayEndpoint *ret);

/* A TLS 1.2+ client context that verifies the server against ca_path and presents cert_path/key_path.
 * -ENOENT: a file is missing; -EINVAL: bad PEM or the key does not match the certificate. */
int relay_client_context_new(const char *ca_path, const char *cert_path, const char *key_path, SSL_CTX **ret);

/* Verify the server certificate against 'name' (a DNS name or an IP literal) on this SSL. */
int relay_client_set_server_name(SSL *ssl, const char *name);

/* "METHOD PATH HTTP/1.1" with Host, Connection: Upgrade, Upgrade: openshell-relay/1. */
char *relay_upgrade_request(const char *method, const char *path, const RelayEndpoint *e);

/* Checks a response head: 0 for "101" with Upgrade: openshell-relay/1; -EPROTO otherwise. */
int relay_upgrade_check_response(const HttpMessage *m);

/* True if a request head asks for the relay protocol. */
bool relay_upgrade_requested(const HttpMessage *m) _pure_;
