/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "macro.h"

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}
static inline bool isempty(const char *s) {
        return !s || !*s;
}
static inline const char *strempty(const char *s) {
        return s ?: "";
}
static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

/* Returns a pointer just past the prefix, or NULL. */
char *startswith(const char *s, const char *prefix) _pure_;
char *startswith_no_case(const char *s, const char *prefix) _pure_;
char *endswith(const char *s, const char *suffix) _pure_;
char *endswith_no_case(const char *s, const char *suffix) _pure_;

/* Joins NULL-terminated arguments; returns NULL on OOM. */
char *strjoin_real(const char *x, ...) __attribute__((sentinel));
#define strjoin(a, ...) strjoin_real((a), __VA_ARGS__, NULL)

/* printf into a new string; returns NULL on OOM. */
char *asprintf_safe(const char *fmt, ...) _printf_(1, 2);

char *ascii_strlower(char *s);
bool ascii_is_lower_alnum_dash(const char *s) _pure_;

/* Strips leading and trailing whitespace in place and returns s. */
char *strstrip(char *s);

/* True if s contains any byte that may not appear in a single-line value (CR, LF, NUL before len, C0/DEL). */
bool string_has_cc(const char *s, const char *ok) _pure_;

/* Length-bounded string copy into a new allocation. */
char *strndup_safe(const char *s, size_t n);

/* Number of elements in a NULL-terminated string array. */
size_t strv_length(char *const *l) _pure_;
/* Appends a copy of value to *l; returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *value);
/* Appends value itself (takes ownership on success). */
int strv_consume(char ***l, char *value);
bool strv_contains(char *const *l, const char *s) _pure_;
/* Sorts in place with strcmp and returns l. */
char **strv_sort(char **l);

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)
