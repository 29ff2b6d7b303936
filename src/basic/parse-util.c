/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse-util.h"
#include "string-util.h"

int safe_atou64(const char *s, uint64_t *ret) {
        char *end = NULL;
        unsigned long long v;

        if (isempty(s) || !(*s == '+' || (*s >= '0' && *s <= '9')))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || !end || *end != 0 || end == s)
                return -EINVAL;
        *ret = (uint64_t) v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        uint64_t v;
        int r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int safe_atou16(const char *s, uint16_t *ret) {
        uint64_t v;
        int r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT16_MAX)
                return -ERANGE;
        *ret = (uint16_t) v;
        return 0;
}

int safe_atoi64(const char *s, int64_t *ret) {
        char *end = NULL;
        long long v;

        if (isempty(s) || !(*s == '+' || *s == '-' || (*s >= '0' && *s <= '9')))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || !end || *end != 0 || end == s)
                return -EINVAL;
        *ret = (int64_t) v;
        return 0;
}

int safe_atoi(const char *s, int *ret) {
        int64_t v;
        int r = safe_atoi64(s, &v);
        if (r < 0)
                return r;
        if (v < INT_MIN || v > INT_MAX)
                return -ERANGE;
        *ret = (int) v;
        return 0;
}

int parse_boolean(const char *s) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

/* Splits "123unit" into the number and its unit suffix. */
static int split_number_unit(const char *s, uint64_t *ret_n, const char **ret_unit) {
        char buf[32];
        size_t n = strspn(s, "0123456789");

        if (n == 0 || n >= sizeof(buf))
                return n == 0 ? -EINVAL : -ERANGE;
        memcpy(buf, s, n);
        buf[n] = 0;
        *ret_unit = s + n;
        return safe_atou64(buf, ret_n);
}

static int multiply_checked(uint64_t n, uint64_t factor, uint64_t *ret) {
        if (factor != 0 && n > UINT64_MAX / factor)
                return -ERANGE;
        *ret = n * factor;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t factor;
        } table[] = {
                { "", 1 },
                { "B", 1 },
                { "K", 1024ULL },
                { "M", 1024ULL * 1024 },
                { "G", 1024ULL * 1024 * 1024 },
                { "T", 1024ULL * 1024 * 1024 * 1024 },
        };
        const char *unit;
        uint64_t n;
        int r;

        if (isempty(s))
                return -EINVAL;
        r = split_number_unit(s, &n, &unit);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(unit, table[i].suffix))
                        return multiply_checked(n, table[i].factor, ret);
        return -EINVAL;
}

int parse_sec(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } table[] = {
                { "", 1000000ULL },     { "s", 1000000ULL },    { "sec", 1000000ULL },
                { "ms", 1000ULL },      { "msec", 1000ULL },    { "us", 1ULL },
                { "usec", 1ULL },       { "m", 60000000ULL },   { "min", 60000000ULL },
                { "h", 3600000000ULL }, { "hr", 3600000000ULL },
        };
        const char *unit;
        uint64_t n;
        int r;

        if (isempty(s))
                return -EINVAL;
        r = split_number_unit(s, &n, &unit);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(unit, table[i].suffix))
                        return multiply_checked(n, table[i].usec, ret_usec);
        return -EINVAL;
}

int parse_ip_port(const char *s, uint16_t *ret) {
        uint16_t v;
        int r = safe_atou16(s, &v);
        if (r < 0)
                return r;
        if (v == 0)
                return -ERANGE;
        *ret = v;
        return 0;
}
