/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "gateway-listen.h"
#include "parse-util.h"
#include "string-util.h"

static const char *const listen_role_table[_LISTEN_ROLE_MAX] = {
        [LISTEN_ROLE_API] = "api",
        [LISTEN_ROLE_CALLBACK] = "callback",
};

DEFINE_STRING_TABLE_LOOKUP(listen_role, ListenRole, _LISTEN_ROLE_MAX);

int listen_address_parse(const char *s, ListenAddress *ret) {
        char host[INET6_ADDRSTRLEN];
        const char *port_str, *colon;
        ListenAddress a = {};
        uint16_t port;
        size_t n;

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

        if (a->sa.sa_family == AF_INET6) {
                inet_ntop(AF_INET6, &a->in6.sin6_addr, host, sizeof(host));
                snprintf(buf, size, "[%s]:%u", host, listen_address_port(a));
        } else {
                inet_ntop(AF_INET, &a->in.sin_addr, host, sizeof(host));
                snprintf(buf, size, "%s:%u", host, listen_address_port(a));
        }
        return buf;
}

uint16_t listen_address_port(const ListenAddress *a) {
        return ntohs(a->sa.sa_family == AF_INET6 ? a->in6.sin6_port : a->in.sin_port);
}

bool listen_address_is_unspecified(const ListenAddress *a) {
        if (a->sa.sa_family == AF_INET6)
                return IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr);
        return a->in.sin_addr.s_addr == htonl(INADDR_ANY);
}

bool listen_address_equal(const ListenAddress *a, const ListenAddress *b) {
        if (a->sa.sa_family != b->sa.sa_family || listen_address_port(a) != listen_address_port(b))
                return false;
        if (a->sa.sa_family == AF_INET6)
                return IN6_ARE_ADDR_EQUAL(&a->in6.sin6_addr, &b->in6.sin6_addr);
        return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
}

bool listen_address_covers(const ListenAddress *wide, const ListenAddress *narrow) {
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

int listen_address_bind(const ListenAddress *a, int backlog) {
        _cleanup_close_ int fd = -EBADF;
        int one = 1, v6only;

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
