/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* TLS for inspection (MITM) of CONNECT tunnels to protocol: rest endpoints:
 *  - a bounded cache of per-host server contexts whose leaf certificates (ECDSA P-256, signed by the
 *    sandbox CA) are made on first use; the SNI the client sends must match the CONNECT host;
 *  - the upstream client context: verification against the system roots plus an optional extra CA,
 *    TLS 1.2 minimum, ALPN http/1.1.
 * Both speak only HTTP/1.1 (ALPN), which is what the L7 policy inspects. */

#include <openssl/ssl.h>
#include <stdbool.h>

#include "macro.h"
#include "x509-util.h"

/* Leaf certificates kept (config key LeafCacheSize= is not offered: the cost is bounded by this). */
#define PROXY_LEAF_CACHE_MAX 256U
#define PROXY_LEAF_VALIDITY_DAYS 30U

typedef struct LeafCache LeafCache;

/* Borrows ca_cert/ca_key (they must outlive the cache). */
int leaf_cache_new(X509 *ca_cert, EVP_PKEY *ca_key, size_t max_entries, LeafCache **ret);
LeafCache *leaf_cache_free(LeafCache *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(LeafCache *, leaf_cache_free);

/* A server context presenting a certificate for host (a DNS name or an IP literal). The returned context
 * is borrowed: SSL_new() takes its own reference, so use it right away. */
int leaf_cache_get(LeafCache *c, const char *host, SSL_CTX **ret);
size_t leaf_cache_size(const LeafCache *c);
/* The SNI check of every leaf context: true if sni is NULL (not sent) or names the leaf's host exactly (no
 * wildcards). */
bool leaf_sni_allowed(X509 *leaf, const char *sni);

/* The upstream client context: system roots from ca_bundle, plus extra_ca (may be NULL). */
int proxy_upstream_tls_context_new(const char *ca_bundle, const char *extra_ca, SSL_CTX **ret);
