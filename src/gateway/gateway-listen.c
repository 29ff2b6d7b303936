/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "fileio.h"
#include "gateway-listen.h"
#include "parse-util.h"
#include "path-util.h"
#include "string-util.h"

#define LISTEN_UNIX_PATH_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-"

static const char *const listen_role_table[_LISTEN_ROLE_MAX] = {
        [LISTEN_ROLE_API] = "api",
        [LISTEN_ROLE_CALLBACK] = "callback",
};

DEFINE_STRING_TABLE_LOOKUP(listen_role, ListenRole, _LISTEN_ROLE_MAX);

bool listen_unix_path_is_valid(const char *p) {
        if (isempty(p) || strlen(p) > LISTEN_UNIX_PATH_MAX || !path_is_normalized_absolute(p))
                return false;
        if (p[strspn(p, LISTEN_UNIX_PATH_CHARS)] != 0)
                return false;
        /* "/" itself, or a socket directly in "/": its directory would be the whole root. */
        return strrchr(p, '/') != p;
}

static int listen_unix_parse(const char *s, ListenAddress *ret) {
        ListenAddress a = {};
        size_t n = strlen(s);

        if (!listen_unix_path_is_valid(s))
                return -EINVAL;
        a.un.sun_family = AF_UNIX;
        memcpy(a.un.sun_path, s, n + 1);
        a.len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1);
        *ret = a;
        return 0;
}

int listen_address_parse(const char *s, ListenAddress *ret) {
        char host[INET6_ADDRSTRLEN];
        const char *port_str, *colon;
        ListenAddress a = {};
        uint16_t port;
        size_t n;

        if (s && s[0] == '/')
                return listen_unix_parse(s, ret);
        if (isempty(s) || strlen(s) >= LISTEN_ADDRESS_STRING_MAX)
                return -EINVAL;

        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || close[1] != ':')
                        return -EINVAL;
                n = (size_t) (close - s - 1);
                port_str = close + 2;
        } else {
                colon = strrchr(s, ':');
                if (!colon || memchr(s, ':', (size_t) (colon - s)))
                        return -EINVAL; /* IPv6 literals need brackets */
                n = (size_t) (colon - s);
                port_str = colon + 1;
        }
        if (n == 0 || n >= sizeof(host))
                return -EINVAL;
        memcpy(host, s + (s[0] == '[' ? 1 : 0), n);
        host[n] = 0;

        if (parse_ip_port(port_str, &port) < 0)
                return -EINVAL;

        if (s[0] == '[') {
                if (inet_pton(AF_INET6, host, &a.in6.sin6_addr) != 1)
                        return -EINVAL;
                a.in6.sin6_family = AF_INET6;
                a.in6.sin6_port = htons(port);
                a.len = sizeof(a.in6);
        } else {
                if (inet_pton(AF_INET, host, &a.in.sin_addr) != 1)
                        return -EINVAL;
                a.in.sin_family = AF_INET;
                a.in.sin_port = htons(port);
                a.len = sizeof(a.in);
        }
        *ret = a;
        return 0;
}

const char *listen_address_format(const ListenAddress *a, char *buf, size_t size) {
        char host[INET6_ADDRSTRLEN] = "?";

        if (listen_address_is_unix(a))
                snprintf(buf, size, "%s", a->un.sun_path);
        else if (a->sa.sa_family == AF_INET6) {
                inet_ntop(AF_INET6, &a->in6.sin6_addr, host, sizeof(host));
                snprintf(buf, size, "[%s]:%u", host, listen_address_port(a));
        } else {
                inet_ntop(AF_INET, &a->in.sin_addr, host, sizeof(host));
                snprintf(buf, size, "%s:%u", host, listen_address_port(a));
        }
        return buf;
}

bool listen_address_is_unix(const ListenAddress *a) {
        return a->sa.sa_family == AF_UNIX;
}

uint16_t listen_address_port(const ListenAddress *a) {
        if (listen_address_is_unix(a))
                return 0;
        return ntohs(a->sa.sa_family == AF_INET6 ? a->in6.sin6_port : a->in.sin_port);
}

bool listen_address_is_unspecified(const ListenAddress *a) {
        if (listen_address_is_unix(a))
                return false;
        if (a->sa.sa_family == AF_INET6)
                return IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr);
        return a->in.sin_addr.s_addr == htonl(INADDR_ANY);
}

bool listen_address_equal(const ListenAddress *a, const ListenAddress *b) {
        if (a->sa.sa_family != b->sa.sa_family || listen_address_port(a) != listen_address_port(b))
                return false;
        if (listen_address_is_unix(a))
                return streq(a->un.sun_path, b->un.sun_path);
        if (a->sa.sa_family == AF_INET6)
                return IN6_ARE_ADDR_EQUAL(&a->in6.sin6_addr, &b->in6.sin6_addr);
        return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
}

bool listen_address_covers(const ListenAddress *wide, const ListenAddress *narrow) {
        /* A socket path is reachable only through itself. */
        if (listen_address_is_unix(wide) || listen_address_is_unix(narrow))
                return false;
        if (!listen_address_is_unspecified(wide) || listen_address_port(wide) != listen_address_port(narrow))
                return false;
        /* "::" is bound dual-stack and covers both families; "0.0.0.0" only IPv4. */
        return wide->sa.sa_family == AF_INET6 || narrow->sa.sa_family == AF_INET;
}

static void listen_set_remove(ListenSet *set, size_t i) {
        memmove(&set->items[i], &set->items[i + 1], (set->n - i - 1) * sizeof(Listener));
        set->n--;
}

int listen_set_add(ListenSet *set, const ListenAddress *a, ListenRole role) {
        /* Already reachable through an existing listener? */
        for (size_t i = 0; i < set->n; i++) {
                Listener *l = &set->items[i];
                if (listen_address_equal(&l->address, a) || listen_address_covers(&l->address, a))
                        return l->role == role ? 0 : -EADDRINUSE;
        }
        /* Does the new one cover existing listeners? Those must share its role and go away. */
        for (size_t i = 0; i < set->n; i++)
                if (listen_address_covers(a, &set->items[i].address) && set->items[i].role != role)
                        return -EADDRINUSE;
        for (size_t i = set->n; i > 0; i--)
                if (listen_address_covers(a, &set->items[i - 1].address))
                        listen_set_remove(set, i - 1);

        if (set->n >= LISTEN_SET_MAX)
                return -E2BIG;
        set->items[set->n++] = (Listener) { .address = *a, .role = role };
        return 0;
}

int listen_set_add_strv(ListenSet *set, char *const *l, ListenRole role) {
        int r;

        STRV_FOREACH(s, (char **) l) {
                ListenAddress a;

                r = listen_address_parse(*s, &a);
                if (r < 0)
                        return r;
                r = listen_set_add(set, &a, role);
                if (r < 0)
                        return r;
        }
        return 0;
}

size_t listen_set_count_role(const ListenSet *set, ListenRole role) {
        size_t n = 0;
        for (size_t i = 0; i < set->n; i++)
                n += set->items[i].role == role;
        return n;
}

/* 1 if a process accepts on the socket at a's path, 0 if nobody does (a stale socket), or negative errno.
 * connect() on a non-blocking AF_UNIX socket never waits: a full backlog is EAGAIN, which means alive. */
static int unix_socket_is_live(const ListenAddress *a) {
        _cleanup_close_ int fd = -EBADF;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, &a->sa, a->len) >= 0 || errno == EAGAIN)
                return 1;
        return IN_SET(errno, ECONNREFUSED, ENOENT) ? 0 : -errno;
}

/* Removes what a bind() found in the way if, and only if, it is a socket nobody accepts on. */
static int unix_remove_stale(const ListenAddress *a) {
        struct stat st;
        int r;

        if (lstat(a->un.sun_path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        r = unix_socket_is_live(a);
        if (r < 0)
                return r;
        if (r > 0)
                return -EADDRINUSE;
        return unlink_if_exists(a->un.sun_path);
}

int listen_unix_bind(const ListenAddress *a, int backlog) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *path = a->un.sun_path;
        int r;

        if (!listen_address_is_unix(a) || !listen_unix_path_is_valid(path))
                return -EINVAL;
        dir = strndup_safe(path, (size_t) (path_basename(path) - path - 1));
        if (!dir)
                return -ENOMEM;
        r = mkdir_p(dir, LISTEN_UNIX_DIRECTORY_MODE);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, &a->sa, a->len) < 0) {
                if (errno != EADDRINUSE)
                        return -errno;
                r = unix_remove_stale(a);
                if (r < 0)
                        return r;
                if (bind(fd, &a->sa, a->len) < 0)
                        return -errno;
        }
        /* Nobody can connect before listen(), so the mode is in place before the first client. */
        if (chmod(path, LISTEN_UNIX_SOCKET_MODE) < 0 || listen(fd, backlog) < 0) {
                r = -errno;
                (void) unlink(path);
                return r;
        }
        return TAKE_FD(fd);
}

int listen_address_bind(const ListenAddress *a, int backlog) {
        _cleanup_close_ int fd = -EBADF;
        int one = 1, v6only;

        if (listen_address_is_unix(a))
                return listen_unix_bind(a, backlog);

        fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (a->sa.sa_family == AF_INET6) {
                v6only = !listen_address_is_unspecified(a);
                if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0)
                        return -errno;
                if (setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one)) < 0)
                        return -errno;
        } else if (setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) < 0)
                return -errno;
        if (bind(fd, &a->sa, a->len) < 0)
                return -errno;
        if (listen(fd, backlog) < 0)
                return -errno;
        return TAKE_FD(fd);
}
