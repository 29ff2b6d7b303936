/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "alloc-util.h"
#include "unit-escape.h"

/* Length of the UTF-8 sequence at s, or 0 if it is not a valid one (RFC 3629 section 4). */
static size_t utf8_sequence_length(const unsigned char *s) {
        uint32_t cp;
        size_t n;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xC2 && s[0] <= 0xDF)
                n = 2, cp = s[0] & 0x1F;
        else if (s[0] >= 0xE0 && s[0] <= 0xEF)
                n = 3, cp = s[0] & 0x0F;
        else if (s[0] >= 0xF0 && s[0] <= 0xF4)
                n = 4, cp = s[0] & 0x07;
        else
                return 0;

        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
                return 0;
        if (cp >= 0xD800 && cp <= 0xDFFF)
                return 0;
        return n;
}

bool utf8_is_valid(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                size_t n = utf8_sequence_length(p);
                if (n == 0)
                        return false;
                p += n;
        }
        return true;
}

bool unit_value_is_safe(const char *s, size_t max) {
        size_t len;

        if (!s)
                return false;
        len = strnlen(s, max + 1);
        if (len > max)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < ' ' || *p == 127)
                        return false;
        return utf8_is_valid(s);
}

int unit_escape_specifiers(const char *s, char **ret) {
        char *buf, *o;

        if (!unit_value_is_safe(s, UNIT_VALUE_MAX))
                return -EINVAL;

        buf = malloc(strlen(s) * 2 + 1);
        if (!buf)
                return -ENOMEM;
        o = buf;
        for (const char *p = s; *p; p++) {
                if (*p == '%')
                        *o++ = '%';
                *o++ = *p;
        }
        *o = 0;
        *ret = buf;
        return 0;
}

int unit_quote_word(const char *s, char **ret) {
        char *buf, *o;

        if (!unit_value_is_safe(s, UNIT_VALUE_MAX))
                return -EINVAL;

        /* Worst case every byte doubles, plus the two quotes and the NUL. */
        buf = malloc(strlen(s) * 2 + 3);
        if (!buf)
                return -ENOMEM;
        o = buf;
        *o++ = '"';
        for (const char *p = s; *p; p++) {
                switch (*p) {
                case '\\':
                case '"':
                        *o++ = '\\';
                        break;
                case '%':
                        *o++ = '%';
                        break;
                case '$':
                        *o++ = '$';
                        break;
                default:
                        break;
                }
                *o++ = *p;
        }
        *o++ = '"';
        *o = 0;
        *ret = buf;
        return 0;
}

int unit_escape_word(const char *s, char **ret) {
        char *c;

        if (!unit_value_is_safe(s, UNIT_VALUE_MAX))
                return -EINVAL;
        if (*s == 0 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._:,=@+-") != strlen(s))
                return unit_quote_word(s, ret);
        c = strdup(s);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}
