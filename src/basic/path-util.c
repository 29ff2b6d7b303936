/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "path-util.h"
#include "string-util.h"

bool path_is_normalized_absolute(const char *p) {
        if (!p || p[0] != '/')
                return false;
        if (string_has_cc(p, NULL))
                return false;
        if (streq(p, "/"))
                return true;
        if (endswith(p, "/"))
                return false;
        for (const char *c = p; c && *c;) {
                const char *next = strchr(c + 1, '/');
                size_t len = next ? (size_t) (next - c - 1) : strlen(c + 1);
                const char *comp = c + 1;
                if (len == 0)
                        return false;
                if ((len == 1 && comp[0] == '.') || (len == 2 && comp[0] == '.' && comp[1] == '.'))
                        return false;
                c = next;
        }
        return true;
}

bool path_startswith_component(const char *path, const char *prefix) {
        size_t l = strlen(prefix);
        if (l > 0 && prefix[l - 1] == '/')
                l--;
        if (strncmp(path, prefix, l) != 0)
                return false;
        return path[l] == 0 || path[l] == '/';
}

char *path_join(const char *a, const char *b) {
        while (*b == '/')
                b++;
        if (endswith(a, "/"))
                return strjoin(a, b);
        return strjoin(a, "/", b);
}

const char *path_basename(const char *p) {
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}
