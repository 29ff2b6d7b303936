/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "alloc-util.h"
#include "string-util.h"

char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? (char *) s + l : NULL;
}

char *startswith_no_case(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncasecmp(s, prefix, l) == 0 ? (char *) s + l : NULL;
}

char *endswith(const char *s, const char *suffix) {
        size_t sl = strlen(s), xl = strlen(suffix);
        if (xl > sl)
                return NULL;
        return memcmp(s + sl - xl, suffix, xl) == 0 ? (char *) s + sl - xl : NULL;
}

char *endswith_no_case(const char *s, const char *suffix) {
        size_t sl = strlen(s), xl = strlen(suffix);
        if (xl > sl)
                return NULL;
        return strcasecmp(s + sl - xl, suffix) == 0 ? (char *) s + sl - xl : NULL;
}

char *strjoin_real(const char *x, ...) {
        va_list ap;
        size_t l = 0;

        va_start(ap, x);
        for (const char *t = x; t; t = va_arg(ap, const char *)) {
                size_t n = strlen(t);
                if (n > SIZE_MAX - l - 1) {
                        va_end(ap);
                        return NULL;
                }
                l += n;
        }
        va_end(ap);

        char *r = malloc(l + 1);
        if (!r)
                return NULL;
        char *p = r;
        va_start(ap, x);
        for (const char *t = x; t; t = va_arg(ap, const char *))
                p = stpcpy(p, t);
        va_end(ap);
        *p = 0;
        return r;
}

char *asprintf_safe(const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

char *ascii_strlower(char *s) {
        for (char *p = s; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        return s;
}

bool ascii_is_lower_alnum_dash(const char *s) {
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
                        return false;
        return true;
}

char *strstrip(char *s) {
        char *e;
        s += strspn(s, " \t\n\r");
        for (e = strchr(s, 0); e > s && strchr(" \t\n\r", e[-1]); e--)
                ;
        *e = 0;
        return s;
}

bool string_has_cc(const char *s, const char *ok) {
        for (const char *p = s; *p; p++) {
                if (ok && strchr(ok, *p))
                        continue;
                if ((unsigned char) *p < ' ' || *p == 127)
                        return true;
        }
        return false;
}

char *strndup_safe(const char *s, size_t n) {
        return strndup(s, n);
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        for (; l && l[n]; n++)
                ;
        return n;
}

int strv_consume(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c)
                return -ENOMEM;
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        char *v = strdup(value);
        if (!v)
                return -ENOMEM;
        int r = strv_consume(l, v);
        if (r < 0)
                free(v);
        return r;
}

bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

static int str_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

char **strv_sort(char **l) {
        size_t n = strv_length(l);

        if (n > 1) /* qsort()'s base must not be NULL, not even for no elements (C11 7.22.5) */
                qsort(l, n, sizeof(char *), str_compare);
        return l;
}
