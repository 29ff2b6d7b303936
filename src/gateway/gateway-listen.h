/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The gateway's listener set: which addresses it serves and in which role.
 *
 * The primary ("api") listeners serve the whole API; the sandbox-facing ("callback") listeners serve only
 * the routes a sandbox identity may call. Sandboxes never ask for listeners: the set comes from
 * gateway.conf only (BindAddress=, ExtraBindAddress= → api; CallbackAddress= → callback), or from the
 * socket units that the generator derives from the same file.
 *
 * Merging rules (listen_set_add()):
 *   - exact duplicates collapse into one;
 *   - "0.0.0.0:P" covers every IPv4 address on port P; "[::]:P" is bound dual-stack and covers every
 *     address on port P; covered addresses are dropped;
 *   - an address covered by (or equal to) one of the other role is an error (-EADDRINUSE): a sandbox-
 *     facing address must never silently get the full API, nor the reverse. */

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "macro.h"

/* "[ffff:...:ffff%ifname]:65535" */
#define LISTEN_ADDRESS_STRING_MAX 64U
/* More listeners than this is a configuration mistake. */
#define LISTEN_SET_MAX 64U

typedef enum ListenRole {
        LISTEN_ROLE_API,
        LISTEN_ROLE_CALLBACK,
        _LISTEN_ROLE_MAX,
        _LISTEN_ROLE_INVALID = -EINVAL,
} ListenRole;

DECLARE_STRING_TABLE_LOOKUP(listen_role, ListenRole);

typedef struct ListenAddress {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        };
        socklen_t len;
} ListenAddress;

typedef struct Listener {
        ListenAddress address;
        ListenRole role;
} Listener;

typedef struct ListenSet {
        Listener items[LISTEN_SET_MAX];
        size_t n;
} ListenSet;

/* Parses "A.B.C.D:PORT" or "[IPV6]:PORT" (numeric only, no names: nothing here may block on DNS).
 * Returns 0 or -EINVAL. */
int listen_address_parse(const char *s, ListenAddress *ret);
/* Formats as the parser accepts it (and as systemd's ListenStream= does). buf >= LISTEN_ADDRESS_STRING_MAX. */
const char *listen_address_format(const ListenAddress *a, char *buf, size_t size);
uint16_t listen_address_port(const ListenAddress *a) _pure_;
bool listen_address_is_unspecified(const ListenAddress *a) _pure_;
bool listen_address_equal(const ListenAddress *a, const ListenAddress *b) _pure_;
/* True if binding 'wide' makes 'narrow' reachable (same port, wide unspecified and of a covering family). */
bool listen_address_covers(const ListenAddress *wide, const ListenAddress *narrow) _pure_;

/* Adds an address with the merging rules above. Returns 0, -EADDRINUSE (role conflict) or -E2BIG. */
int listen_set_add(ListenSet *set, const ListenAddress *a, ListenRole role);
/* Parses and adds every string of l. */
int listen_set_add_strv(ListenSet *set, char *const *l, ListenRole role);
size_t listen_set_count_role(const ListenSet *set, ListenRole role) _pure_;

/* Creates a listening TCP socket: CLOEXEC, non-blocking, SO_REUSEADDR, IP_FREEBIND (so a bridge address
 * that does not exist yet can be bound), IPV6_V6ONLY except for "::". Returns the fd or negative errno. */
int listen_address_bind(const ListenAddress *a, int backlog);
