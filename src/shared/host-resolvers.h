/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The host's upstream DNS resolvers, for the proxy container's DNS= lines. Loopback (127.0.0.0/8, ::1),
 * link-local (169.254.0.0/16, fe80::/10) and unspecified addresses are skipped: they mean "a stub on the
 * host" and are unreachable from a container. */

#include "macro.h"

#define HOST_RESOLVERS_MAX 3U /* glibc's MAXNS: more would be ignored anyway */
#define HOST_RESOLV_CONF_MAX (64U * 1024U)
#define HOST_RESOLVED_RESOLV_CONF "/run/systemd/resolve/resolv.conf"
#define HOST_RESOLV_CONF "/etc/resolv.conf"

/* Parses resolv.conf text: the "nameserver" addresses in order, usable ones only, deduplicated, at most
 * HOST_RESOLVERS_MAX. Returns a NULL-terminated (possibly empty) list. */
int host_resolvers_parse(const char *text, char ***ret);

/* Reads the first of the given files that exists (systemd-resolved's upstream list, then
 * /etc/resolv.conf when paths is NULL) and parses it. A missing file moves on to the next; none at all
 * gives an empty list. */
int host_resolvers_read(const char *const *paths, char ***ret);
