/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdlib.h>
#include <string.h>

#include "macro.h"

#define new(t, n) ((t *) malloc_multiply(sizeof(t), (n)))
#define new0(t, n) ((t *) calloc((n) ?: 1, sizeof(t)))

static inline void *malloc_multiply(size_t size, size_t n) {
        if (size > 0 && n > SIZE_MAX / size)
                return NULL;
        return malloc((size * n) ?: 1);
}

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

#define free_and_replace(a, b)                                                                             \
        ({                                                                                                 \
                free(a);                                                                                   \
                (a) = (b);                                                                                 \
                (b) = NULL;                                                                                \
                0;                                                                                         \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}

#define _cleanup_free_ _cleanup_(freep)

/* Frees a NULL-terminated array of strings. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Overwrites memory before freeing it: for key material and secrets. */
void *erase_and_free(void *p);
static inline void erase_and_freep(void *p) {
        erase_and_free(*(void **) p);
}
#define _cleanup_erase_ _cleanup_(erase_and_freep)

/* Grows *p so that it can hold at least 'need' elements of 'size' bytes, doubling. */
void *greedy_realloc(void **p, size_t *allocated, size_t need, size_t size);
#define GREEDY_REALLOC(array, allocated, need)                                                             \
        greedy_realloc((void **) &(array), &(allocated), (need), sizeof((array)[0]))
