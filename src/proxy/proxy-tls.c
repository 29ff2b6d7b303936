/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <strings.h>
#include <unistd.h>

#include "alloc-util.h"
#include "proxy-tls.h"
#include "string-util.h"
#include "time-util.h"

typedef struct LeafEntry {
        char *host;
        SSL_CTX *ctx;
        uint64_t last_used;
} LeafEntry;

struct LeafCache {
        X509 *ca_cert;
        EVP_PKEY *ca_key;
        EVP_PKEY *leaf_key; /* one key for all leaves: signing is per host, key generation is not needed */
        LeafEntry *entries;
        size_t n_entries, max_entries;
        uint64_t clock;
};

static const unsigned char alpn_http11[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };

LeafCache *leaf_cache_free(LeafCache *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_entries; i++) {
                free(c->entries[i].host);
                SSL_CTX_free(c->entries[i].ctx);
        }
        free(c->entries);
        EVP_PKEY_free(c->leaf_key);
        return mfree(c);
}

int leaf_cache_new(X509 *ca_cert, EVP_PKEY *ca_key, size_t max_entries, LeafCache **ret) {
        _cleanup_(leaf_cache_freep) LeafCache *c = NULL;
        int r;

        if (!ca_cert || !ca_key || max_entries == 0)
                return -EINVAL;
        c = new0(LeafCache, 1);
        if (!c)
                return -ENOMEM;
        c->entries = new0(LeafEntry, max_entries);
        if (!c->entries)
                return -ENOMEM;
        c->ca_cert = ca_cert;
        c->ca_key = ca_key;
        c->max_entries = max_entries;
        r = x509_generate_key(&c->leaf_key);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

size_t leaf_cache_size(const LeafCache *c) {
        return c->n_entries;
}

bool leaf_sni_allowed(X509 *leaf, const char *sni) {
        /* X509_check_host() reads a leading dot as "any subdomain of": ".com" would match a leaf for
         * good.example.com. A real SNI never starts with one (found by fuzz-proxy-request). */
        return !sni || (leaf && sni[0] != '.' && X509_check_host(leaf, sni, 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1);
}

/* The client's SNI must name the host of the CONNECT it sent (or be absent): a tunnel opened for one host
 * cannot be used to talk to another. The check uses the context's own certificate, so it needs no state. */
static int servername_cb(SSL *ssl, int *alert, void *arg) {
        const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

        if (leaf_sni_allowed(SSL_CTX_get0_certificate(SSL_get_SSL_CTX(ssl)), sni))
                return SSL_TLSEXT_ERR_OK;
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                          unsigned inlen, void *arg) {
        unsigned char *sel = NULL;

        if (SSL_select_next_proto(&sel, outlen, alpn_http11, sizeof(alpn_http11), in, inlen) != OPENSSL_NPN_NEGOTIATED)
                return SSL_TLSEXT_ERR_ALERT_FATAL; /* the client offers ALPN but not http/1.1 (h2 only) */
        *out = sel;
        return SSL_TLSEXT_ERR_OK;
}

/* RFC 5280 ub-common-name: a CN holds at most 64 characters, a DNS name up to 253. Clients match the SAN
 * (RFC 6125 6.4.4), so a longer name gets a fixed CN instead of no certificate at all. */
#define LEAF_COMMON_NAME_MAX 64U
#define LEAF_COMMON_NAME_LONG "openshell inspected host"

static int make_leaf_ctx(LeafCache *c, const char *host, SSL_CTX **ret) {
        char *dns[] = { (char *) host, NULL };
        unsigned char ip[16];
        bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
        X509CertOptions o = { .common_name = strlen(host) <= LEAF_COMMON_NAME_MAX ? host : LEAF_COMMON_NAME_LONG,
                              .dns_names = is_ip ? NULL : dns, .ip_addresses = is_ip ? dns : NULL,
                              .usage = X509_USAGE_SERVER, .validity_days = PROXY_LEAF_VALIDITY_DAYS };
        _cleanup_x509_ X509 *leaf = NULL;
        SSL_CTX *ctx;
        int r;

        r = x509_make_cert(&o, c->leaf_key, c->ca_cert, c->ca_key, &leaf);
        if (r < 0)
                return r;
        ERR_clear_error();
        ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx)
                return x509_openssl_error(-ENOMEM);
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_use_certificate(ctx, leaf) != 1 ||
            SSL_CTX_add1_chain_cert(ctx, c->ca_cert) != 1 || SSL_CTX_use_PrivateKey(ctx, c->leaf_key) != 1) {
                SSL_CTX_free(ctx);
                return x509_openssl_error(-EIO);
        }
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
        SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
        SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, NULL);
        *ret = ctx;
        return 0;
}

int leaf_cache_get(LeafCache *c, const char *host, SSL_CTX **ret) {
        LeafEntry *e = NULL;
        SSL_CTX *ctx = NULL;
        int r;

        if (isempty(host) || strlen(host) > 253)
                return -EINVAL;
        c->clock++;
        for (size_t i = 0; i < c->n_entries; i++)
                if (strcasecmp(c->entries[i].host, host) == 0) {
                        c->entries[i].last_used = c->clock;
                        *ret = c->entries[i].ctx;
                        return 0;
                }
        r = make_leaf_ctx(c, host, &ctx);
        if (r < 0)
                return r;
        if (c->n_entries < c->max_entries)
                e = &c->entries[c->n_entries++];
        else {
                /* Evict the least recently used; connections using it hold their own SSL_CTX reference. */
                e = &c->entries[0];
                for (size_t i = 1; i < c->n_entries; i++)
                        if (c->entries[i].last_used < e->last_used)
                                e = &c->entries[i];
                free(e->host);
                SSL_CTX_free(e->ctx);
                *e = (LeafEntry){};
        }
        e->host = strdup(host);
        if (!e->host) {
                SSL_CTX_free(ctx);
                *e = c->entries[--c->n_entries];
                return -ENOMEM;
        }
        ascii_strlower(e->host);
        e->ctx = ctx;
        e->last_used = c->clock;
        *ret = ctx;
        return 0;
}

int proxy_upstream_tls_context_new(const char *ca_bundle, const char *extra_ca, SSL_CTX **ret) {
        SSL_CTX *ctx;

        ERR_clear_error();
        ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx)
                return x509_openssl_error(-ENOMEM);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            SSL_CTX_set_alpn_protos(ctx, alpn_http11, sizeof(alpn_http11)) != 0 ||
            (ca_bundle && access(ca_bundle, R_OK) >= 0 && SSL_CTX_load_verify_locations(ctx, ca_bundle, NULL) != 1) ||
            (extra_ca && SSL_CTX_load_verify_locations(ctx, extra_ca, NULL) != 1)) {
                SSL_CTX_free(ctx);
                return x509_openssl_error(-EINVAL);
        }
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
        *ret = ctx;
        return 0;
}
