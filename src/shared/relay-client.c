/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include "alloc-util.h"
#include "parse-util.h"
#include "relay-client.h"
#include "relay-proto.h"
#include "string-util.h"
#include "x509-util.h"

static int endpoint_split_host(const char *s, RelayEndpoint *e, const char **ret_rest) {
        const char *end;
        size_t n;
        bool v6 = *s == '[';

        if (v6) {
                end = strchr(s, ']');
                if (!end)
                        return -EINVAL;
                n = (size_t) (end - s - 1);
                s++;
                end++;
        } else {
                end = s + strcspn(s, ":/");
                n = (size_t) (end - s);
        }
        if (n == 0 || n > RELAY_ENDPOINT_HOST_MAX)
                return -EINVAL;
        memcpy(e->host, s, n);
        e->host[n] = 0;
        if (string_has_cc(e->host, NULL) || strpbrk(e->host, " @?#[]"))
                return -EINVAL;
        /* Brackets hold an IPv6 literal and nothing else ("[/x]" is no host). */
        if (v6 && inet_pton(AF_INET6, e->host, &(struct in6_addr) {}) != 1)
                return -EINVAL;
        *ret_rest = end;
        return 0;
}

int relay_endpoint_parse(const char *url, RelayEndpoint *ret) {
        RelayEndpoint e = {};
        const char *p, *rest;
        int r;

        if ((p = startswith(url, "https://")))
                e.tls = true;
        else if ((p = startswith(url, "http://")))
                e.tls = false;
        else
                return -EINVAL;
        r = endpoint_split_host(p, &e, &rest);
        if (r < 0)
                return r;
        e.port = e.tls ? 443 : 80;
        if (*rest == ':') {
                char port[8];
                size_t n = strcspn(rest + 1, "/");

                if (n == 0 || n >= sizeof(port))
                        return -EINVAL;
                memcpy(port, rest + 1, n);
                port[n] = 0;
                if (parse_ip_port(port, &e.port) < 0)
                        return -EINVAL;
                rest += 1 + n;
        }
        if (!isempty(rest) && !streq(rest, "/"))
                return -EINVAL;
        *ret = e;
        return 0;
}

int relay_client_context_new(const char *ca_path, const char *cert_path, const char *key_path, SSL_CTX **ret) {
        SSL_CTX *ctx;

        if (access(ca_path, R_OK) < 0 || access(cert_path, R_OK) < 0 || access(key_path, R_OK) < 0)
                return negative_errno();
        ERR_clear_error();
        ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx)
                return x509_openssl_error(-ENOMEM);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1 ||
            SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
                SSL_CTX_free(ctx);
                return x509_openssl_error(-EINVAL);
        }
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
        /* Callers write from a buffer that grows (and may move) between an SSL_write() that wanted to
         * be retried and its retry: without these OpenSSL fails the retry ("bad write retry"), which
         * broke large exec stdin streams now and then. */
        SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        *ret = ctx;
        return 0;
}

int relay_client_set_server_name(SSL *ssl, const char *name) {
        struct in6_addr a;
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);

        ERR_clear_error();
        if (inet_pton(AF_INET, name, &a) == 1 || inet_pton(AF_INET6, name, &a) == 1)
                return X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1 ? 0 : x509_openssl_error(-EINVAL);
        if (SSL_set_tlsext_host_name(ssl, name) != 1 || SSL_set1_host(ssl, name) != 1)
                return x509_openssl_error(-EINVAL);
        return 0;
}

char *relay_upgrade_request(const char *method, const char *path, const RelayEndpoint *e) {
        bool v6 = strchr(e->host, ':');

        return asprintf_safe("%s %s HTTP/1.1\r\n"
                             "Host: %s%s%s:%u\r\n"
                             "Connection: Upgrade\r\n"
                             "Upgrade: " RELAY_PROTOCOL "\r\n"
                             "Content-Length: 0\r\n"
                             "\r\n",
                             method, path, v6 ? "[" : "", e->host, v6 ? "]" : "", e->port);
}

int relay_upgrade_check_response(const HttpMessage *m) {
        const char *u = http_message_header(m, "Upgrade");

        if (m->status != 101 || !u || !http_token_list_contains(u, RELAY_PROTOCOL))
                return -EPROTO;
        return 0;
}

bool relay_upgrade_requested(const HttpMessage *m) {
        const char *u = http_message_header(m, "Upgrade"), *c = http_message_header(m, "Connection");

        return u && c && http_token_list_contains(u, RELAY_PROTOCOL) && http_token_list_contains(c, "upgrade");
}
