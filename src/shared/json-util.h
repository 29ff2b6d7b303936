/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(cJSON *, cJSON_Delete, cJSON_Deletep);
#define _cleanup_json_ _cleanup_(cJSON_Deletep)

/* Parses a complete JSON document of 'size' bytes. On error returns -EINVAL and, if ret_line/ret_col are
 * given, the 1-based position where parsing stopped. Trailing non-whitespace is an error. */
int json_parse(const char *text, size_t size, cJSON **ret, unsigned *ret_line, unsigned *ret_col);

/* Type names for messages: "string", "number", "object"... */
const char *json_type_name(const cJSON *j) _pure_;

/* Serializes compactly or indented; returns NULL on OOM. */
char *json_print(const cJSON *j, bool pretty);
