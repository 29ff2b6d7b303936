/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Forward-proxy request handling that needs no connection: target parsing and the upstream head. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http-message.h"

/* Splits an absolute-form target "http://authority/path?query" into the authority as sent, the host
 * (without IPv6 brackets), the port (default 80) and the origin-form target ("/path?query", fragment
 * dropped). -EPROTONOSUPPORT for other schemes (https: clients must use CONNECT), -EINVAL for origin-form,
 * an empty host or userinfo. */
int proxy_parse_absolute_uri(const char *target, char **ret_authority, char **ret_host, uint16_t *ret_port,
                             char **ret_origin);

/* True if a Host header value (RFC 9110 7.2) names host:port; the port may be omitted only for 443. Used
 * for requests inside an inspected tunnel, which must name the CONNECT target. */
bool proxy_host_header_matches(const char *value, const char *host, uint16_t port);

/* The head sent upstream: origin-form target, Host from the URI authority (RFC 9112 3.2.2), hop-by-hop
 * headers dropped (RFC 9110 7.6.1) except the Transfer-Encoding that frames the body we relay, Via added. */
int proxy_format_upstream_head(const HttpMessage *m, const char *target, const char *authority, char **ret,
                               size_t *ret_size);
