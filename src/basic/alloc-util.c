/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "alloc-util.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **k = l; *k; k++)
                free(*k);
        free(l);
        return NULL;
}

void *erase_and_free(void *p) {
        if (!p)
                return NULL;
        size_t l = strlen(p);
        explicit_bzero(p, l);
        free(p);
        return NULL;
}

void *greedy_realloc(void **p, size_t *allocated, size_t need, size_t size) {
        if (*p && *allocated >= need)
                return *p;
        if (size == 0 || need > SIZE_MAX / 2 / size)
                return NULL;
        size_t n = MAX(need * 2, (size_t) 8);
        void *q = realloc(*p, n * size);
        if (!q)
                return NULL;
        *p = q;
        *allocated = n;
        return q;
}
