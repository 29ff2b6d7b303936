/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers shared by sandbox-spec.c (top level, scalars), sandbox-spec-fields.c (env, labels, resources,
 * mounts, tls, serialization) and sandbox-spec-gateway.c (gateway, gateway_socket). Not for use outside
 * the spec parser. */

#include <stdbool.h>
#include <stddef.h>

#include "json-util.h"
#include "macro.h"
#include "sandbox-spec.h"

static inline bool ascii_isdigit(char c) {
        return c >= '0' && c <= '9';
}
static inline bool ascii_isalpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline bool ascii_isalnum(char c) {
        return ascii_isdigit(c) || ascii_isalpha(c);
}

/* Sets *ret_error (if ret_error) to the formatted message and returns -EINVAL. */
int spec_fail(char **ret_error, const char *fmt, ...) _printf_(2, 3);
/* A user string made safe for an error message (static buffer, valid until the next call). */
const char *spec_printable(const char *s);
/* Length, newline, control character and UTF-8 checks, with field-named messages. */
int spec_check_value(const char *field, const char *s, size_t max, bool allow_empty, char **ret_error);
int spec_get_string(const char *field, const cJSON *j, size_t max, bool allow_empty, const char **ret,
                    char **ret_error);
int spec_dup_string(const char *s, char **ret);
/* An absolute, normalized path from the charset [A-Za-z0-9/._+@-]. */
int spec_check_path(const char *field, const cJSON *j, const char **ret, char **ret_error);
/* Rejects keys of obj not in allowed[], and duplicates. field NULL for the top level. */
int spec_check_keys(const char *field, const cJSON *obj, const char *const *allowed, size_t n_allowed,
                    char **ret_error);

int spec_parse_env(SandboxSpec *spec, const cJSON *j, char **ret_error);
int spec_parse_labels(SandboxSpec *spec, const cJSON *j, char **ret_error);
int spec_parse_resources(SandboxSpec *spec, const cJSON *j, char **ret_error);
int spec_parse_mounts(SandboxSpec *spec, const cJSON *j, char **ret_error);
int spec_parse_tls(SandboxSpec *spec, const cJSON *j, char **ret_error);
int spec_parse_gateway(SandboxSpec *spec, const cJSON *j, char **ret_error);
int spec_parse_gateway_socket(SandboxSpec *spec, const cJSON *j, char **ret_error);
