/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for what the proxy makes of a client's request head (proxy-conn-http.c's parse_target and
 * the inspected-tunnel checks): the head is parsed as the proxy parses it, then
 *  - CONNECT: the authority is split (proxy_split_host_port); the Host check (proxy_host_header_matches)
 *    may only accept a Host that names that host; the leaf certificate minted for it (leaf_cache_get) must
 *    exist for every plain DNS name or IP literal the policy accepts, and its SNI check (leaf_sni_allowed)
 *    may only accept that host. The SNI comes from a pseudo-header "Sni:" (fuzzing only).
 *  - anything else: the absolute-form target is split (proxy_parse_absolute_uri) into an origin-form
 *    target and an authority without userinfo, and the head sent upstream (proxy_format_upstream_head)
 *    must parse back as exactly one head with that method, target and a single Host: the authority — no
 *    request smuggling or header injection survives the rewrite.
 * Built with -fsanitize=fuzzer when -Dfuzz=true (clang); otherwise main() replays the corpus. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "fuzz.h"
#include "alloc-util.h"
#include "log.h"
#include "policy.h"
#include "proxy-request.h"
#include "proxy-settings.h"
#include "proxy-tls.h"
#include "string-util.h"

static LeafCache *leaf_cache;

static void setup(void) {
        static EVP_PKEY *ca_key;
        static X509 *ca_cert;

        if (leaf_cache)
                return;
        log_set_max_level(LOG_CRIT);
        /* A small cache: eviction runs often, and memory stays flat over millions of inputs. */
        if (x509_generate_key(&ca_key) < 0 || x509_make_ca(ca_key, "fuzz CA", 1, &ca_cert) < 0 ||
            leaf_cache_new(ca_cert, ca_key, 4, &leaf_cache) < 0)
                abort();
}

static const char *header_value(const HttpMessage *m, const char *name, size_t *ret_count) {
        const char *v = NULL;

        *ret_count = 0;
        for (size_t i = 0; i < m->n_headers; i++)
                if (strcasecmp(m->headers[i].name, name) == 0) {
                        v = v ?: m->headers[i].value;
                        (*ret_count)++;
                }
        return v;
}

/* A DNS name (RFC 1123: labels of 1..63 letters, digits and '-', at most 253 bytes) or an IP literal. */
static bool plain_host(const char *h) {
        unsigned char buf[16];
        size_t n = strlen(h);

        if (inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1)
                return true;
        if (n == 0 || n > 253)
                return false;
        for (const char *l = h; l; l = strchr(l, '.') ? strchr(l, '.') + 1 : NULL) {
                size_t k = strcspn(l, ".");
                if (k == 0 || k > 63 ||
                    strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != k)
                        return false;
        }
        return true;
}

/* "[v6]" or "name" with the port dropped, for comparing a Host or SNI with the CONNECT host. */
static bool names_host(const char *value, const char *host) {
        size_t n = strlen(host);

        if (value[0] == '[')
                return strncasecmp(value + 1, host, n) == 0 && value[1 + n] == ']';
        return strncasecmp(value, host, n) == 0 && IN_SET(value[n], 0, ':');
}

static void check_connect(const HttpMessage *m) {
        static const PolicyRequest probe = { .port = 443 };
        _cleanup_free_ char *host = NULL;
        const char *h, *sni;
        PolicyRequest req = probe;
        PolicyDecision d;
        SSL_CTX *ctx;
        uint16_t port;
        size_t n;

        if (proxy_split_host_port(m->target, &host, &port) < 0 || isempty(host))
                return; /* 400 */
        h = header_value(m, "Host", &n);
        if (h && proxy_host_header_matches(h, host, port) && !names_host(h, host))
                abort(); /* a Host for another host reached an inspected tunnel */

        req.host = host;
        req.port = port;
        if (leaf_cache_get(leaf_cache, host, &ctx) < 0) {
                /* Refusing is fine for names no certificate can carry, not for one the policy accepts. */
                if (plain_host(host) && policy_check(NULL, &req, &d) == 0)
                        abort();
                return;
        }
        sni = header_value(m, "Sni", &n);
        if (sni && leaf_sni_allowed(SSL_CTX_get0_certificate(ctx), sni) && !names_host(sni, host))
                abort(); /* a tunnel opened for one host would talk TLS to another */
}

static void check_absolute(const HttpMessage *m) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        _cleanup_free_ char *authority = NULL, *host = NULL, *origin = NULL, *out = NULL;
        HttpLimits limits = { .max_header_bytes = HTTP_MAX_HEADER_BYTES_MAX, .max_headers = 1000 };
        const HttpMessage *up;
        const char *h;
        uint16_t port;
        size_t n, consumed = 0, count;
        int r;

        if (proxy_parse_absolute_uri(m->target, &authority, &host, &port, &origin) < 0)
                return; /* 400 */
        if (isempty(host) || origin[0] != '/' || strchr(origin, '#') || strchr(authority, '@') || port == 0)
                abort();
        if (proxy_format_upstream_head(m, origin, authority, &out, &n) < 0)
                abort();
        if (http_parser_new(HTTP_PARSER_REQUEST, &limits, &p) < 0)
                abort();
        r = http_parser_feed(p, out, n, &consumed);
        if (r != HTTP_PARSE_HEAD || consumed != n)
                abort(); /* the upstream head does not parse back as one head */
        up = http_parser_message(p);
        h = header_value(up, "Host", &count);
        if (!streq(up->method, m->method) || !streq(up->target, origin) || count != 1 ||
            !streq(h, authority))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        ProxyLimits pl = { .max_header_bytes = HTTP_MAX_HEADER_BYTES_DEFAULT,
                           .max_headers = HTTP_MAX_HEADERS_DEFAULT };
        HttpLimits limits = proxy_http_limits(&pl);
        const HttpMessage *m;
        size_t consumed = 0;

        setup();
        if (http_parser_new(HTTP_PARSER_REQUEST, &limits, &p) < 0)
                abort();
        if (http_parser_feed(p, data, size, &consumed) != HTTP_PARSE_HEAD)
                return 0;
        m = http_parser_message(p);
        if (streq(m->method, "CONNECT"))
                check_connect(m);
        else
                check_absolute(m);
        return 0;
}
