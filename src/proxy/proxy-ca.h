/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The sandbox's MITM CA on the TLS volume:
 *   DIR/private/ca.key   ECDSA P-256, 0600, directory 0700 (the agent never mounts it)
 *   DIR/ca/ca.crt        our CA
 *   DIR/ca/ca-bundle.crt system roots + our CA, for the agent's SSL_CERT_FILE & co.
 *   DIR/ca/.ready        written last; contains the CA's SHA-256 fingerprint
 * An existing valid key and certificate are always reused, so the CA survives restarts. */

#include <stdbool.h>

#include "x509-util.h"

#define PROXY_CA_COMMON_NAME "openshell sandbox CA"

typedef struct ProxyCA {
        X509 *cert;
        EVP_PKEY *key;
        char *fingerprint;
        bool created; /* key newly generated */
} ProxyCA;

void proxy_ca_done(ProxyCA *ca);

/* system_bundle may be missing (then the bundle is our CA alone). */
int proxy_ca_ensure(const char *dir, const char *system_bundle, ProxyCA *ret);
