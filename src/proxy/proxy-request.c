/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <strings.h>

#include "alloc-util.h"
#include "proxy-request.h"
#include "proxy-settings.h"
#include "string-util.h"

/* absolute-form (RFC 9112 3.2.2): http://authority[/path][?query]. Only http: https goes through CONNECT. */
int proxy_parse_absolute_uri(const char *target, char **ret_authority, char **ret_host, uint16_t *ret_port,
                              char **ret_origin) {
        _cleanup_free_ char *authority = NULL, *host = NULL, *origin = NULL;
        const char *a, *e;
        uint16_t port = 80;
        int r;

        a = startswith_no_case(target, "http://");
        if (!a)
                return strstr(target, "://") ? -EPROTONOSUPPORT : -EINVAL;
        e = a + strcspn(a, "/?#");
        if (e == a || memchr(a, '@', (size_t) (e - a)))
                return -EINVAL; /* empty host, or userinfo (RFC 9110 4.2.4: must not be sent) */
        authority = strndup_safe(a, (size_t) (e - a));
        if (!authority)
                return -ENOMEM;
        if (authority[0] == '[' ? !!endswith(authority, "]") : !strchr(authority, ':'))
                /* No port: "[V6]" or "name". */
                host = authority[0] == '[' ? strndup_safe(authority + 1, strlen(authority) - 2) : strdup(authority);
        else {
                r = proxy_split_host_port(authority, &host, &port);
                if (r < 0)
                        return -EINVAL;
        }
        if (!host)
                return -ENOMEM;
        if (isempty(host) || strpbrk(host, "[]"))
                return -EINVAL; /* "[", "[]", "a]:80": brackets only around an IPv6 literal */
        origin = *e == '?' ? strjoin("/", e) : strdup(*e ? e : "/");
        if (!origin)
                return -ENOMEM;
        origin[strcspn(origin, "#")] = 0;
        *ret_authority = TAKE_PTR(authority);
        *ret_host = TAKE_PTR(host);
        *ret_port = port;
        *ret_origin = TAKE_PTR(origin);
        return 0;
}

/* Host (RFC 9110 7.2) names the tunnel's host; the port may be omitted only for 443. */
bool proxy_host_header_matches(const char *value, const char *host, uint16_t port) {
        _cleanup_free_ char *h = NULL;
        uint16_t p = 443;

        if (!value)
                return false;
        if ((value[0] == '[' && strstr(value, "]:")) || (value[0] != '[' && strchr(value, ':'))) {
                if (proxy_split_host_port(value, &h, &p) < 0)
                        return false;
        } else {
                h = value[0] == '[' ? strndup_safe(value + 1, strcspn(value + 1, "]")) : strdup(value);
                if (!h)
                        return false;
        }
        return strcasecmp(h, host) == 0 && p == port;
}

int proxy_format_upstream_head(const HttpMessage *m, const char *target, const char *authority, char **ret,
                               size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s %s HTTP/%u.%u\r\nHost: %s\r\n", m->method, target, m->version_major, m->version_minor,
                authority);
        for (size_t i = 0; i < m->n_headers; i++) {
                const HttpHeader *h = &m->headers[i];
                /* RFC 9112 3.2.2: the target URI's authority replaces any Host the client sent. */
                if (strcasecmp(h->name, "Host") == 0 ||
                    (strcasecmp(h->name, "Transfer-Encoding") != 0 && http_message_header_is_hop_by_hop(m, h->name)))
                        continue;
                fprintf(f, "%s: %s\r\n", h->name, h->value);
        }
        if (m->version_minor == 0 && m->keep_alive)
                fputs("Connection: keep-alive\r\n", f);
        fputs("Via: 1.1 openshell-proxy\r\n\r\n", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

