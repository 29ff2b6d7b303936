/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <unistd.h>

#include "alloc-util.h"
#include "log.h"
#include "string-util.h"
#include "tls-server.h"
#include "x509-util.h"

/* Sessions are only resumable within our own contexts. */
static const unsigned char tls_session_id_context[] = "openshell";

/* Picks our one protocol (arg) from the client's ALPN list. *out must stay valid after we return: it
 * points into the client's list 'in' (SSL_select_next_proto() would point into our own list, which is
 * not static here). */
static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                          unsigned inlen, void *arg) {
        const char *want = arg;
        size_t n = strlen(want);

        if (n == 0 || n > 255)
                return SSL_TLSEXT_ERR_NOACK;
        for (unsigned i = 0; i < inlen; i += 1U + in[i])
                if (in[i] == n && i + 1 + n <= inlen && memcmp(in + i + 1, want, n) == 0) {
                        *out = in + i + 1;
                        *outlen = (unsigned char) n;
                        return SSL_TLSEXT_ERR_OK;
                }
        return SSL_TLSEXT_ERR_NOACK;
}

static int context_load_files(SSL_CTX *ctx, const TlsServerOptions *opts) {
        if (access(opts->cert_path, R_OK) < 0 || access(opts->key_path, R_OK) < 0 ||
            (opts->client_ca_path && access(opts->client_ca_path, R_OK) < 0))
                return -errno;
        if (SSL_CTX_use_certificate_chain_file(ctx, opts->cert_path) != 1)
                return x509_openssl_error(-EINVAL);
        if (SSL_CTX_use_PrivateKey_file(ctx, opts->key_path, SSL_FILETYPE_PEM) != 1)
                return x509_openssl_error(-EINVAL);
        if (SSL_CTX_check_private_key(ctx) != 1)
                return x509_openssl_error(-EINVAL);
        if (!opts->client_ca_path)
                return 0;

        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(opts->client_ca_path);
        if (!names)
                return x509_openssl_error(-EINVAL);
        SSL_CTX_set_client_CA_list(ctx, names);
        if (SSL_CTX_load_verify_locations(ctx, opts->client_ca_path, NULL) != 1)
                return x509_openssl_error(-EINVAL);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);
        /* A server certificate signed by the same CA must not pass as a client identity. */
        if (SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1)
                return x509_openssl_error(-EIO);
        return 0;
}

int tls_server_context_new(const TlsServerOptions *opts, SSL_CTX **ret) {
        _cleanup_ssl_ctx_ SSL_CTX *ctx = NULL;
        int r;

        ERR_clear_error();
        ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx)
                return x509_openssl_error(-ENOMEM);
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            SSL_CTX_set_cipher_list(ctx, TLS_CIPHER_LIST_TLS12) != 1)
                return x509_openssl_error(-EIO);
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                         SSL_OP_IGNORE_UNEXPECTED_EOF);
        SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                      SSL_MODE_RELEASE_BUFFERS);
        if (SSL_CTX_set_session_id_context(ctx, tls_session_id_context, sizeof(tls_session_id_context) - 1) != 1)
                return x509_openssl_error(-EIO);

        r = context_load_files(ctx, opts);
        if (r < 0)
                return r;
        if (opts->alpn)
                SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, (void *) opts->alpn);
        *ret = TAKE_PTR(ctx);
        return 0;
}

int tls_peer_common_name(SSL *ssl, char **ret) {
        X509 *cert = SSL_get0_peer_certificate(ssl);
        X509_NAME *subject;
        char buf[256];
        int n;

        if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
                return -ENOKEY;
        subject = X509_get_subject_name(cert);
        n = subject ? X509_NAME_get_text_by_NID(subject, NID_commonName, buf, sizeof(buf)) : -1;
        if (n <= 0 || (size_t) n != strlen(buf))
                return -ENOKEY; /* absent, or an embedded NUL */
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}
