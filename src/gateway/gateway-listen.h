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
 *     facing address must never silently get the full API, nor the reverse;
 *   - an AF_UNIX socket path is equal only to the same path; it neither covers nor is covered by a TCP
 *     address.
 *
 * A listener is a TCP address or an AF_UNIX stream socket named by an absolute path. The rootless
 * gateway's callback listener is such a socket: its directory is bind-mounted into each proxy container,
 * so sandboxes reach it without any network path to the host (docs/gateway.md). */

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "macro.h"

/* The longest socket path: sun_path less its terminating NUL (107 on Linux). */
#define LISTEN_UNIX_PATH_MAX (sizeof(((struct sockaddr_un *) NULL)->sun_path) - 1)
/* The longest formatted address: a socket path plus its NUL (IPv6 "[...]:65535" is shorter). */
#define LISTEN_ADDRESS_STRING_MAX 108U
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
                struct sockaddr_un un;
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

/* Parses "A.B.C.D:PORT" or "[IPV6]:PORT" (numeric only, no names: nothing here may block on DNS), or an
 * AF_UNIX socket path (see listen_unix_path_is_valid()). Returns 0 or -EINVAL. */
int listen_address_parse(const char *s, ListenAddress *ret);
/* Formats as the parser accepts it (and as systemd's ListenStream= does). buf >= LISTEN_ADDRESS_STRING_MAX. */
const char *listen_address_format(const ListenAddress *a, char *buf, size_t size);
/* 0 for an AF_UNIX address. */
uint16_t listen_address_port(const ListenAddress *a) _pure_;
/* 0.0.0.0 or ::; never an AF_UNIX address. */
bool listen_address_is_unspecified(const ListenAddress *a) _pure_;
bool listen_address_is_unix(const ListenAddress *a) _pure_;
/* A socket path the gateway accepts: normalized absolute, at most LISTEN_UNIX_PATH_MAX bytes, only
 * [A-Za-z0-9._/-] (it is written into unit files and, for a callback listener, into sandbox specs and a
 * Volume= line), neither "/" nor directly in "/" (a callback socket's directory is mounted). */
bool listen_unix_path_is_valid(const char *p) _pure_;
bool listen_address_equal(const ListenAddress *a, const ListenAddress *b) _pure_;
/* True if binding 'wide' makes 'narrow' reachable (same port, wide unspecified and of a covering family). */
bool listen_address_covers(const ListenAddress *wide, const ListenAddress *narrow) _pure_;

/* Adds an address with the merging rules above. Returns 0, -EADDRINUSE (role conflict) or -E2BIG. */
int listen_set_add(ListenSet *set, const ListenAddress *a, ListenRole role);
/* Parses and adds every string of l. */
int listen_set_add_strv(ListenSet *set, char *const *l, ListenRole role);
size_t listen_set_count_role(const ListenSet *set, ListenRole role) _pure_;

/* Creates a listening socket, CLOEXEC and non-blocking. TCP: SO_REUSEADDR, IP_FREEBIND (so a bridge
 * address that does not exist yet can be bound), IPV6_V6ONLY except for "::". AF_UNIX: see
 * listen_unix_bind(). Returns the fd or negative errno. */
int listen_address_bind(const ListenAddress *a, int backlog);

/* Mode of a socket the gateway binds itself, and of the directories it creates for it (as the socket units'
 * SocketMode= and DirectoryMode=). */
#define LISTEN_UNIX_SOCKET_MODE 0600
#define LISTEN_UNIX_DIRECTORY_MODE 0700

/* Binds an AF_UNIX stream socket: creates the missing parent directories (LISTEN_UNIX_DIRECTORY_MODE; an
 * existing directory keeps its mode), replaces a stale socket left by an earlier run (one nobody accepts
 * on), sets LISTEN_UNIX_SOCKET_MODE and listens. Returns the fd, -EEXIST if the path is something other
 * than a socket (never removed), -EADDRINUSE if another process is accepting on it, or negative errno. */
int listen_unix_bind(const ListenAddress *a, int backlog);
