/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* An absolute, normalized path: starts with '/', no "." or ".." components, no "//", no trailing '/'
 * (except "/" itself), no control characters. */
bool path_is_normalized_absolute(const char *p) _pure_;

/* True if path equals prefix or lies below it (component-wise). */
bool path_startswith_component(const char *path, const char *prefix) _pure_;

/* Joins two path components with exactly one '/'; NULL on OOM. */
char *path_join(const char *a, const char *b);

/* The last component of a path (no allocation). */
const char *path_basename(const char *p) _pure_;
