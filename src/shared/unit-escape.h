/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Escaping of values that reach a systemd unit file through a Quadlet file.
 *
 * Quadlet copies Exec=, Environment= and Label= words into the generated ExecStart=, where systemd
 * expands '%' specifiers and '$' variables, splits on whitespace and interprets quotes and backslashes.
 * So a word is written double-quoted with '\' and '"' backslash-escaped, '%' doubled to "%%" and '$'
 * doubled to "$$"; Quadlet unquotes it, re-quotes it for ExecStart=, and systemd turns it back into the
 * original bytes. Values that cannot be carried this way are rejected, never repaired: control
 * characters (a newline would start a new directive), invalid UTF-8 (systemd drops such lines) and
 * overlong values. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* Longest single value we ever write into a unit file; systemd's line limit is 1 MiB. */
#define UNIT_VALUE_MAX (64U * 1024U)

/* True if s is valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). */
bool utf8_is_valid(const char *s) _pure_;

/* True if s may appear in a unit file value: at most max bytes, valid UTF-8, no C0 control character,
 * no DEL. Tabs are rejected too: they are whitespace to systemd's word splitter. */
bool unit_value_is_safe(const char *s, size_t max) _pure_;

/* Returns a copy of s with every '%' doubled. -EINVAL if s is not unit_value_is_safe(s, UNIT_VALUE_MAX),
 * -ENOMEM. For values systemd reads verbatim apart from specifiers (Description=, comments excluded). */
int unit_escape_specifiers(const char *s, char **ret);

/* Returns s unchanged if it consists only of characters that need no quoting anywhere in a unit file or
 * in Quadlet's word splitting ([A-Za-z0-9/._:,=@+-]), else unit_quote_word(s). Deterministic, so
 * golden files stay readable. */
int unit_escape_word(const char *s, char **ret);

/* Returns s as one double-quoted word for Exec=/Environment=/Label= lines (see above). -EINVAL for an
 * unsafe value, -ENOMEM. */
int unit_quote_word(const char *s, char **ret);
