/* SPDX-License-Identifier: Apache-2.0 */
/* The spec's gateway fields: "gateway" (the URL the proxy and the supervisor talk to) and
 * "gateway_socket" (the host path of the gateway's AF_UNIX callback listener, bind-mounted into the proxy
 * container). docs/spec.md describes both. */
#include <arpa/inet.h>
#include <stdio.h>

#include "alloc-util.h"
#include "parse-util.h"
#include "path-util.h"
#include "sandbox-spec-internal.h"
#include "sandbox-spec.h"
#include "string-util.h"

/* A host name, IPv4 address or bracketed IPv6 address. */
static bool gateway_host_is_valid(const char *h) {
        unsigned char buf[16];
        size_t len = strlen(h), label = 0;

        if (h[0] == '[') {
                _cleanup_free_ char *inner = NULL;
                if (len < 3 || h[len - 1] != ']')
                        return false;
                inner = strndup(h + 1, len - 2);
                return inner && inet_pton(AF_INET6, inner, buf) == 1;
        }
        if (len == 0 || len > 253)
                return false;
        if (strspn(h, "0123456789.") == len)
                return inet_pton(AF_INET, h, buf) == 1 && !streq(h, "0.0.0.0");
        for (const char *p = h;; p++) {
                if (*p == '.' || *p == 0) {
                        /* *(p - label), not p[-label]: negating a size_t wraps (UB in the pointer sum). */
                        if (label == 0 || p[-1] == '-' || *(p - label) == '-')
                                return false;
                        if (*p == 0)
                                return true;
                        label = 0;
                        continue;
                }
                if (!ascii_isalnum(*p) && *p != '-')
                        return false;
                if (++label > 63)
                        return false;
        }
}

/* The ':' that starts the port in "HOST[:PORT]" (rest..end), or NULL: with an IPv6 literal only a colon
 * after the closing bracket counts. */
static const char *find_port_colon(const char *rest, const char *end) {
        const char *from = rest;

        if (rest[0] == '[') {
                from = memchr(rest, ']', (size_t) (end - rest));
                if (!from)
                        return NULL;
        }
        return memchr(from, ':', (size_t) (end - from));
}

/* "http(s)://HOST[:PORT][/]": a missing port is the scheme's default (443 or 80, RFC 3986 section 3.2.3),
 * as everywhere else the gateway URL is parsed (relay_endpoint_parse()). */
int spec_parse_gateway(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        _cleanup_free_ char *host = NULL, *url = NULL;
        const char *s, *rest, *colon, *end;
        uint16_t port;
        bool https;
        int r;

        r = spec_get_string("gateway", j, SANDBOX_GATEWAY_MAX, false, &s, ret_error);
        if (r < 0)
                return r;
        if ((rest = startswith(s, "http://")))
                https = false;
        else if ((rest = startswith(s, "https://")))
                https = true;
        else
                return spec_fail(ret_error, "gateway: '%s' must start with http:// or https://", spec_printable(s));

        url = strdup(s);
        if (!url)
                return -ENOMEM;
        end = rest + strlen(rest);
        if (end > rest && end[-1] == '/')
                url[(end - 1) - s] = 0, end--;
        for (const char *p = rest; p < end; p++)
                if (*p == '/' || *p == '?' || *p == '#' || *p == '@')
                        return spec_fail(ret_error, "gateway: '%s' must be scheme://HOST[:PORT], without a path or user",
                                         spec_printable(s));
        if (rest[0] == '[' && !memchr(rest, ']', (size_t) (end - rest)))
                return spec_fail(ret_error, "gateway: '%s' has an unterminated IPv6 address", spec_printable(s));

        colon = find_port_colon(rest, end);
        host = strndup(rest, (size_t) ((colon ?: end) - rest));
        if (!host)
                return -ENOMEM;
        if (!gateway_host_is_valid(host))
                return spec_fail(ret_error, "gateway: '%s' is not a valid host name or address", spec_printable(host));
        if (colon) {
                _cleanup_free_ char *p = strndup(colon + 1, (size_t) (end - colon - 1));
                if (!p)
                        return -ENOMEM;
                if (parse_ip_port(p, &port) < 0)
                        return spec_fail(ret_error, "gateway: '%s' is not a port (1-65535)", spec_printable(p));
        } else
                port = https ? 443 : 80;

        free_and_replace(spec->gateway, url);
        free_and_replace(spec->gateway_host, host);
        spec->gateway_port = port;
        spec->gateway_https = https;
        return 0;
}

/* The host path of the gateway's AF_UNIX callback socket. Its directory is bind-mounted into the proxy
 * container at QUADLET_GATEWAY_SOCKET_DIR with a Volume= line, which splits on ':' and knows no quoting:
 * hence the narrow charset. */
int spec_parse_gateway_socket(SandboxSpec *spec, const cJSON *j, char **ret_error) {
        const char *s, *base;
        int r;

        r = spec_get_string("gateway_socket", j, SANDBOX_PATH_MAX, false, &s, ret_error);
        if (r < 0)
                return r;
        if (s[0] != '/')
                return spec_fail(ret_error, "gateway_socket: '%s' is not an absolute path", spec_printable(s));
        for (const char *p = s; *p; p++)
                if (!ascii_isalnum(*p) && !strchr("/._-", *p))
                        return spec_fail(ret_error,
                                         "gateway_socket: '%s' contains '%c'; socket paths may contain letters, digits and /._-",
                                         spec_printable(s), *p);
        if (strlen(s) > SANDBOX_SOCKET_PATH_MAX)
                return spec_fail(ret_error, "gateway_socket: '%s' is longer than %u bytes (an AF_UNIX socket path)",
                                 spec_printable(s), SANDBOX_SOCKET_PATH_MAX);
        if (!path_is_normalized_absolute(s))
                return spec_fail(ret_error, "gateway_socket: '%s' is not normalized (no '.', '..', '//' or trailing '/')",
                                 spec_printable(s));
        if (streq(s, "/"))
                return spec_fail(ret_error, "gateway_socket: '/' is not a socket path");
        base = strrchr(s, '/') + 1;
        if (base == s + 1)
                return spec_fail(ret_error,
                                 "gateway_socket: '%s' is directly in '/'; the socket's directory is mounted into the "
                                 "proxy, so it needs a directory of its own",
                                 spec_printable(s));
        if (strlen(base) > SANDBOX_GATEWAY_SOCKET_NAME_MAX)
                return spec_fail(ret_error,
                                 "gateway_socket: the file name '%s' is longer than %u bytes (it must also fit the "
                                 "socket path inside the proxy container)",
                                 spec_printable(base), SANDBOX_GATEWAY_SOCKET_NAME_MAX);
        return spec_dup_string(s, &spec->gateway_socket);
}
