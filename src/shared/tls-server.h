/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* OpenSSL server contexts with our defaults: TLS 1.2 minimum (1.3 preferred: it is the default maximum and
 * clients that speak it get it), AEAD-only ECDHE suites for 1.2, no renegotiation, no compression, server
 * cipher preference. With a client CA the peer must present a certificate that chains to it and carries the
 * TLS client extended key usage; the verified certificate is the peer's identity. Connections on these
 * contexts are driven by tls-conn.h. */

#include <openssl/ssl.h>
#include <stdbool.h>

#include "macro.h"

#define TLS_CIPHER_LIST_TLS12 "ECDHE+AESGCM:ECDHE+CHACHA20"
/* Depth of the client certificate chain we accept: leaf + our CA. */
#define TLS_VERIFY_DEPTH 2

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(SSL_CTX *, SSL_CTX_free, SSL_CTX_freep);
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(SSL *, SSL_free, SSL_freep);
#define _cleanup_ssl_ctx_ _cleanup_(SSL_CTX_freep)

typedef struct TlsServerOptions {
        const char *cert_path;      /* PEM certificate (chain) */
        const char *key_path;       /* PEM private key */
        const char *client_ca_path; /* NULL: no client certificates are requested */
        const char *alpn;           /* e.g. "http/1.1"; NULL: no ALPN selection */
} TlsServerOptions;

/* Returns 0, -ENOENT (a file is missing), -EINVAL (bad PEM, key does not match), -EIO. */
int tls_server_context_new(const TlsServerOptions *opts, SSL_CTX **ret);

/* The verified peer certificate's subject CN, or -ENOKEY if the peer sent none or it did not verify. */
int tls_peer_common_name(SSL *ssl, char **ret);
