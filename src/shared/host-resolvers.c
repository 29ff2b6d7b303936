/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <string.h>

#include "alloc-util.h"
#include "fileio.h"
#include "host-resolvers.h"
#include "string-util.h"

static bool resolver_is_usable(const char *addr) {
        unsigned char a[16];

        if (inet_pton(AF_INET, addr, a) == 1)
                return a[0] != 127 && !(a[0] == 169 && a[1] == 254) &&
                       !(a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0);
        if (inet_pton(AF_INET6, addr, a) != 1)
                return false; /* includes "fe80::1%eth0": a zone cannot be used in a container */
        static const unsigned char loopback[16] = { [15] = 1 }, unspecified[16] = { 0 };
        if (memcmp(a, loopback, 16) == 0 || memcmp(a, unspecified, 16) == 0)
                return false;
        if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
                return false;
        /* IPv4-mapped loopback/link-local: ::ffff:127.0.0.1 */
        static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
        if (memcmp(a, mapped, 12) == 0 && (a[12] == 127 || (a[12] == 169 && a[13] == 254)))
                return false;
        return true;
}

int host_resolvers_parse(const char *text, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *copy = strdup(text);
        char *line, *next;
        int r;

        if (!copy)
                return -ENOMEM;
        l = new0(char *, 1);
        if (!l)
                return -ENOMEM;
        for (line = copy; line; line = next) {
                char *p, *addr, *end;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                p = strstrip(line);

                if (!(addr = startswith(p, "nameserver")) || (*addr != ' ' && *addr != '\t'))
                        continue;
                addr += strspn(addr, " \t");
                end = addr + strcspn(addr, " \t#;");
                *end = 0;
                if (!resolver_is_usable(addr) || strv_contains(l, addr))
                        continue;
                if (strv_length(l) >= HOST_RESOLVERS_MAX)
                        break;
                r = strv_extend(&l, addr);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int host_resolvers_read(const char *const *paths, char ***ret) {
        static const char *const defaults[] = { HOST_RESOLVED_RESOLV_CONF, HOST_RESOLV_CONF, NULL };
        int r;

        for (const char *const *p = paths ?: defaults; *p; p++) {
                _cleanup_free_ char *text = NULL;

                r = read_full_file(*p, HOST_RESOLV_CONF_MAX, &text, NULL);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                return host_resolvers_parse(text, ret);
        }
        *ret = new0(char *, 1);
        return *ret ? 0 : -ENOMEM;
}
