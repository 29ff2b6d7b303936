/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "alloc-util.h"
#include "cli.h"
#include "json-util.h"
#include "string-util.h"

void cli_print_json(const cJSON *j) {
        _cleanup_free_ char *s = j ? json_print(j, true) : NULL;

        if (s)
                printf("%s\n", s);
}

const char *cli_json_str(const cJSON *j, const char *key) {
        const cJSON *v = j ? cJSON_GetObjectItemCaseSensitive(j, key) : NULL;

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Columns padded to their widest cell; rows[i][c] may be NULL ("-"). */
void cli_print_table(const char *const *headers, size_t n_cols, char ***rows, size_t n_rows) {
        size_t width[16] = {};

        n_cols = MIN(n_cols, ELEMENTSOF(width));
        for (size_t c = 0; c < n_cols; c++) {
                width[c] = strlen(headers[c]);
                for (size_t i = 0; i < n_rows; i++)
                        width[c] = MAX(width[c], strlen(rows[i][c] ?: "-"));
        }
        for (size_t c = 0; c < n_cols; c++)
                printf("%-*s%s", c + 1 < n_cols ? (int) width[c] : 0, headers[c], c + 1 < n_cols ? "  " : "\n");
        for (size_t i = 0; i < n_rows; i++)
                for (size_t c = 0; c < n_cols; c++)
                        printf("%-*s%s", c + 1 < n_cols ? (int) width[c] : 0, rows[i][c] ?: "-", c + 1 < n_cols ? "  " : "\n");
}
