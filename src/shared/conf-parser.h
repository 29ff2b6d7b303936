/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A systemd-style INI parser driven by a table.
 *
 *   [Section]
 *   # comment          ; comment
 *   Key=value
 *
 * Each table row maps "Section" + "Key" to a parser callback and a byte offset into the caller's
 * settings struct. A file is read together with its drop-ins "FILE.d/NAME.conf", applied after it in
 * lexical (strcmp) order, so later assignments override earlier ones and list parsers append.
 *
 * Error policy (the caller decides per key, see ConfigTableItem.fatal):
 *   - unknown sections and keys: a warning naming file:line, parsing continues;
 *   - a bad value for a row with fatal=false (a tuning knob): a warning, the previous value is kept;
 *   - a bad value for a row with fatal=true (policy-like, e.g. listener addresses, TLS): parsing stops
 *     and the callback's negative errno is returned;
 *   - a malformed line (no '=', an unterminated "[Section", text before the first section): -EBADMSG.
 * Messages are logged once here, with the file and line, because only the parser knows them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Upper bound for one configuration file (main or drop-in). */
#define CONFIG_FILE_MAX (1024U * 1024U)
/* Upper bound for the number of drop-ins read from one FILE.d directory. */
#define CONFIG_DROPINS_MAX 1024U

/* Parses rvalue and stores the result at 'data' (the row's offset into userdata). 'filename' and
 * 'line' are for messages only. Returns 0 or a negative errno; must not log above debug level: the
 * parser reports the failure with the location. */
typedef int (*ConfigParserCallback)(const char *filename, unsigned line, const char *section,
                                    const char *lvalue, const char *rvalue, void *data, void *userdata);

typedef struct ConfigTableItem {
        const char *section;
        const char *lvalue;
        ConfigParserCallback parse;
        size_t offset;
        bool fatal; /* a bad value fails the whole parse */
} ConfigTableItem;

/* Parses 'size' bytes of text. 'filename' is used in messages. */
int config_parse_text(const char *filename, const char *text, size_t size, const ConfigTableItem *table,
                      size_t n_table, void *userdata);

/* Parses one file. A missing file is -ENOENT unless !must_exist (then 0, nothing parsed). */
int config_parse_file(const char *path, const ConfigTableItem *table, size_t n_table, void *userdata,
                      bool must_exist);

/* Parses path (optional) and then path + ".d/" + "NAME.conf" in lexical order. Missing files and a missing
 * drop-in directory are fine. Returns the number of files parsed, or a negative errno. */
int config_parse_with_dropins(const char *path, const ConfigTableItem *table, size_t n_table,
                              void *userdata);

/* Lists "DIR/NAME.conf" sorted with strcmp into a NULL-terminated array of full paths. A missing directory
 * yields an empty list. */
int config_list_dropins(const char *dir, char ***ret);

/* Standard value parsers. */
int config_parse_string(const char *filename, unsigned line, const char *section, const char *lvalue,
                        const char *rvalue, void *data, void *userdata); /* char*; "" resets to NULL */
int config_parse_path(const char *filename, unsigned line, const char *section, const char *lvalue,
                      const char *rvalue, void *data, void *userdata); /* char*, normalized absolute */
int config_parse_bool(const char *filename, unsigned line, const char *section, const char *lvalue,
                      const char *rvalue, void *data, void *userdata); /* bool */
int config_parse_unsigned(const char *filename, unsigned line, const char *section, const char *lvalue,
                          const char *rvalue, void *data, void *userdata); /* unsigned */
int config_parse_size(const char *filename, unsigned line, const char *section, const char *lvalue,
                      const char *rvalue, void *data, void *userdata); /* uint64_t, 1024-based suffixes */
int config_parse_sec(const char *filename, unsigned line, const char *section, const char *lvalue,
                     const char *rvalue, void *data, void *userdata); /* uint64_t usec; "infinity" */
/* char** list: every assignment appends; an empty assignment resets the list. */
int config_parse_strv(const char *filename, unsigned line, const char *section, const char *lvalue,
                      const char *rvalue, void *data, void *userdata);
