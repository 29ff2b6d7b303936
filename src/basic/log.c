/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "parse-util.h"
#include "string-util.h"

static int max_level = LOG_INFO;
static const char *program_name = NULL;
static bool stderr_is_journal = false;

void log_set_max_level(int level) {
        max_level = CLAMP(level, LOG_EMERG, LOG_DEBUG);
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_program_name(const char *name) {
        program_name = name;
}

int log_level_from_string(const char *s) {
        static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };
        int v;

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcasecmp(s, names[i]) == 0)
                        return (int) i;
        if (strcasecmp(s, "error") == 0)
                return LOG_ERR;
        if (safe_atoi(s, &v) >= 0 && v >= LOG_EMERG && v <= LOG_DEBUG)
                return v;
        return -EINVAL;
}

static bool journal_stream_is_stderr(void) {
        const char *e = getenv("JOURNAL_STREAM"), *colon;
        uint64_t dev, ino;
        char devbuf[32];
        struct stat st;

        if (!e || !(colon = strchr(e, ':')) || (size_t) (colon - e) >= sizeof(devbuf))
                return false;
        memcpy(devbuf, e, (size_t) (colon - e));
        devbuf[colon - e] = 0;
        if (safe_atou64(devbuf, &dev) < 0 || safe_atou64(colon + 1, &ino) < 0)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (uint64_t) st.st_dev == dev && (uint64_t) st.st_ino == ino;
}

void log_parse_environment(void) {
        const char *e = getenv("OPENSHELL_LOG_LEVEL") ?: getenv("SYSTEMD_LOG_LEVEL");
        int l = log_level_from_string(e);
        if (l >= 0)
                max_level = l;
        stderr_is_journal = journal_stream_is_stderr();
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...) {
        char buf[4096];
        va_list ap;
        int saved = errno;

        (void) file;
        (void) line;
        (void) func;

        errno = abs(error);
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);

        if (stderr_is_journal)
                fprintf(stderr, "<%d>%s\n", level, buf);
        else if (program_name)
                fprintf(stderr, "%s: %s\n", program_name, buf);
        else
                fprintf(stderr, "%s\n", buf);

        errno = saved;
        if (error == 0 && level <= LOG_ERR)
                return -EIO;
        return -abs(error);
}
