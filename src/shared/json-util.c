/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "json-util.h"

static void offset_to_line_col(const char *text, size_t off, unsigned *ret_line, unsigned *ret_col) {
        unsigned line = 1, col = 1;
        for (size_t i = 0; i < off && text[i]; i++) {
                if (text[i] == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        }
        if (ret_line)
                *ret_line = line;
        if (ret_col)
                *ret_col = col;
}

int json_parse(const char *text, size_t size, cJSON **ret, unsigned *ret_line, unsigned *ret_col) {
        const char *end = NULL;
        cJSON *j;

        /* cJSON needs NUL termination; embedded NULs are never valid JSON. */
        if (memchr(text, 0, size)) {
                offset_to_line_col(text, (size_t) ((const char *) memchr(text, 0, size) - text), ret_line, ret_col);
                return -EINVAL;
        }
        j = cJSON_ParseWithLengthOpts(text, size, &end, false);
        if (!j) {
                const char *e = cJSON_GetErrorPtr();
                size_t off = (e && e >= text && e <= text + size) ? (size_t) (e - text) : 0;
                offset_to_line_col(text, off, ret_line, ret_col);
                return -EINVAL;
        }
        if (end)
                for (; end < text + size; end++)
                        if (!strchr(" \t\r\n", *end)) {
                                offset_to_line_col(text, (size_t) (end - text), ret_line, ret_col);
                                cJSON_Delete(j);
                                return -EINVAL;
                        }
        *ret = j;
        return 0;
}

const char *json_type_name(const cJSON *j) {
        if (!j)
                return "missing";
        if (cJSON_IsString(j))
                return "string";
        if (cJSON_IsNumber(j))
                return "number";
        if (cJSON_IsBool(j))
                return "boolean";
        if (cJSON_IsNull(j))
                return "null";
        if (cJSON_IsArray(j))
                return "array";
        if (cJSON_IsObject(j))
                return "object";
        return "invalid";
}

char *json_print(const cJSON *j, bool pretty) {
        return pretty ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
}
