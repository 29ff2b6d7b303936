/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <syslog.h>

#include "macro.h"

/* Logging to stderr. When stderr is connected to the journal ($JOURNAL_STREAM matches it), each line is
 * prefixed with "<N>" so journald records the priority; otherwise "PROGRAM: " is prefixed. Structured
 * journal fields are written by src/shared/log-struct.h. Helpers in basic/ and shared/ log at debug level
 * at most: the caller at the boundary logs once. */

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_program_name(const char *name);
/* Reads $OPENSHELL_LOG_LEVEL / $SYSTEMD_LOG_LEVEL (names or numbers) and $JOURNAL_STREAM. */
void log_parse_environment(void);
int log_level_from_string(const char *s);

/* Logs and returns -abs(error) (or -EIO when error is 0 and the level is an error level).
 * '%m' in fmt prints strerror(error). */
int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...)
        _printf_(6, 7);

#define log_full_errno(level, error, ...)                                                                  \
        ({                                                                                                 \
                int _l_ = (level), _e_ = (error);                                                          \
                (log_get_max_level() >= _l_)                                                               \
                        ? log_internal(_l_, _e_, __FILE__, __LINE__, __func__, __VA_ARGS__)                \
                        : -abs(_e_);                                                                       \
        })
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_notice_errno(e, ...) log_full_errno(LOG_NOTICE, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
