/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* Length-aware, overflow-checked number parsers. They accept an optional leading '+' (never '-' for
 * unsigned), no surrounding whitespace, and return 0, -EINVAL (not a number / trailing junk) or
 * -ERANGE. */
int safe_atou64(const char *s, uint64_t *ret);
int safe_atou(const char *s, unsigned *ret);
int safe_atou16(const char *s, uint16_t *ret);
int safe_atoi64(const char *s, int64_t *ret);
int safe_atoi(const char *s, int *ret);

/* "1", "yes", "y", "true", "t", "on" / their negatives; returns 1, 0 or -EINVAL. */
int parse_boolean(const char *s);

/* "1024", "4K", "16M", "2G" (base 1024); returns 0 or negative errno. */
int parse_size(const char *s, uint64_t *ret);

/* "30", "30s", "500ms", "2min", "1h" into microseconds; returns 0 or negative errno. */
int parse_sec(const char *s, uint64_t *ret_usec);

/* A port number 1..65535. */
int parse_ip_port(const char *s, uint16_t *ret);
