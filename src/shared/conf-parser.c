/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "alloc-util.h"
#include "conf-parser.h"
#include "fd-util.h"
#include "fileio.h"
#include "log.h"
#include "parse-util.h"
#include "path-util.h"
#include "string-util.h"
#include "time-util.h"

/* Longest section name we accept; keeps messages bounded. */
#define CONFIG_SECTION_MAX 128U

static const ConfigTableItem *table_lookup(const ConfigTableItem *table, size_t n_table, const char *section,
                                           const char *lvalue) {
        for (size_t i = 0; i < n_table; i++)
                if (streq(table[i].section, section) && streq(table[i].lvalue, lvalue))
                        return &table[i];
        return NULL;
}

static bool table_has_section(const ConfigTableItem *table, size_t n_table, const char *section) {
        for (size_t i = 0; i < n_table; i++)
                if (streq(table[i].section, section))
                        return true;
        return false;
}

/* Handles "[Section]". Stores the new section name in *section (NULL for an unknown section, which
 * only warns, so that its keys are skipped with a single message). */
static int parse_section_line(const char *filename, unsigned line, char *l, const ConfigTableItem *table,
                              size_t n_table, char **section, bool *in_unknown) {
        size_t n = strlen(l);
        char *name;

        if (n < 3 || l[n - 1] != ']' || n - 2 > CONFIG_SECTION_MAX) {
                log_error("%s:%u: Invalid section header '%s'.", filename, line, l);
                return -EBADMSG;
        }
        name = strndup_safe(l + 1, n - 2);
        if (!name)
                return -ENOMEM;
        free_and_replace(*section, name);
        *in_unknown = !table_has_section(table, n_table, *section);
        if (*in_unknown)
                log_warning("%s:%u: Unknown section '%s', ignoring.", filename, line, *section);
        return 0;
}

static int parse_assignment(const char *filename, unsigned line, char *l, const char *section,
                            const ConfigTableItem *table, size_t n_table, void *userdata) {
        const ConfigTableItem *item;
        char *eq, *lvalue, *rvalue;
        int r;

        eq = strchr(l, '=');
        if (!eq) {
                log_error("%s:%u: Missing '=' in '%s'.", filename, line, l);
                return -EBADMSG;
        }
        *eq = 0;
        lvalue = strstrip(l);
        rvalue = strstrip(eq + 1);
        if (isempty(lvalue)) {
                log_error("%s:%u: Missing key before '='.", filename, line);
                return -EBADMSG;
        }

        item = table_lookup(table, n_table, section, lvalue);
        if (!item) {
                log_warning("%s:%u: Unknown key '%s' in section [%s], ignoring.", filename, line, lvalue,
                            section);
                return 0;
        }

        r = item->parse(filename, line, section, lvalue, rvalue, (uint8_t *) userdata + item->offset, userdata);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0 && item->fatal)
                return log_error_errno(r, "%s:%u: Invalid %s= value '%s': %m", filename, line, lvalue, rvalue);
        if (r < 0)
                log_warning_errno(r, "%s:%u: Invalid %s= value '%s', ignoring: %m", filename, line, lvalue,
                                  rvalue);
        return 0;
}

static int parse_line(const char *filename, unsigned line, char *l, const ConfigTableItem *table,
                      size_t n_table, void *userdata, char **section, bool *in_unknown) {
        l = strstrip(l);
        if (isempty(l) || IN_SET(*l, '#', ';'))
                return 0;
        if (*l == '[')
                return parse_section_line(filename, line, l, table, n_table, section, in_unknown);
        if (!*section) {
                log_error("%s:%u: Assignment outside of any section: '%s'.", filename, line, l);
                return -EBADMSG;
        }
        if (*in_unknown)
                return 0;
        return parse_assignment(filename, line, l, *section, table, n_table, userdata);
}

int config_parse_text(const char *filename, const char *text, size_t size, const ConfigTableItem *table,
                      size_t n_table, void *userdata) {
        _cleanup_free_ char *section = NULL;
        bool in_unknown = false;
        const char *p = text, *end = text + size;
        unsigned line = 0;
        int r;

        if (memchr(text, 0, size)) {
                log_error("%s: Contains a NUL byte.", filename);
                return -EBADMSG;
        }
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
                _cleanup_free_ char *l = strndup_safe(p, len);

                if (!l)
                        return log_oom();
                line++;
                r = parse_line(filename, line, l, table, n_table, userdata, &section, &in_unknown);
                if (r < 0)
                        return r;
                p += len + (nl ? 1 : 0);
        }
        return 0;
}

int config_parse_file(const char *path, const ConfigTableItem *table, size_t n_table, void *userdata,
                      bool must_exist) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file(path, CONFIG_FILE_MAX, &text, &size);
        if (r == -ENOENT && !must_exist)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Failed to read configuration file '%s': %m", path);
        r = config_parse_text(path, text, size, table, n_table, userdata);
        return r < 0 ? r : 1;
}

static int dropin_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int config_list_dropins(const char *dir, char ***ret) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;
        int r;

        d = opendir(dir);
        if (!d && errno != ENOENT)
                return -errno;
        for (struct dirent *de; d && (errno = 0, de = readdir(d));) {
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".conf"))
                        continue;
                if (!IN_SET(de->d_type, DT_REG, DT_LNK, DT_UNKNOWN))
                        continue;
                if (++n > CONFIG_DROPINS_MAX)
                        return -E2BIG;
                char *f = path_join(dir, de->d_name);
                if (!f)
                        return -ENOMEM;
                r = strv_consume(&l, f);
                if (r < 0) {
                        free(f);
                        return r;
                }
        }
        if (d && errno != 0)
                return -errno;
        if (!l) {
                l = new0(char *, 1);
                if (!l)
                        return -ENOMEM;
        }
        qsort(l, strv_length(l), sizeof(char *), dropin_compare);
        *ret = TAKE_PTR(l);
        return 0;
}

int config_parse_with_dropins(const char *path, const ConfigTableItem *table, size_t n_table,
                              void *userdata) {
        _cleanup_strv_free_ char **dropins = NULL;
        _cleanup_free_ char *dir = NULL;
        int r, n = 0;

        r = config_parse_file(path, table, n_table, userdata, /* must_exist= */ false);
        if (r < 0)
                return r;
        n += r;

        dir = strjoin(path, ".d");
        if (!dir)
                return log_oom();
        r = config_list_dropins(dir, &dropins);
        if (r < 0)
                return log_error_errno(r, "Failed to list drop-ins in '%s': %m", dir);
        STRV_FOREACH(f, dropins) {
                r = config_parse_file(*f, table, n_table, userdata, /* must_exist= */ true);
                if (r < 0)
                        return r;
                n += r;
        }
        return n;
}

int config_parse_string(const char *filename, unsigned line, const char *section, const char *lvalue,
                        const char *rvalue, void *data, void *userdata) {
        char **s = data, *copy = NULL;

        if (string_has_cc(rvalue, NULL))
                return -EINVAL;
        if (!isempty(rvalue)) {
                copy = strdup(rvalue);
                if (!copy)
                        return -ENOMEM;
        }
        free_and_replace(*s, copy);
        return 0;
}

int config_parse_path(const char *filename, unsigned line, const char *section, const char *lvalue,
                      const char *rvalue, void *data, void *userdata) {
        if (!isempty(rvalue) && !path_is_normalized_absolute(rvalue))
                return -EINVAL;
        return config_parse_string(filename, line, section, lvalue, rvalue, data, userdata);
}

int config_parse_bool(const char *filename, unsigned line, const char *section, const char *lvalue,
                      const char *rvalue, void *data, void *userdata) {
        int r = parse_boolean(rvalue);
        if (r < 0)
                return r;
        *(bool *) data = r;
        return 0;
}

int config_parse_unsigned(const char *filename, unsigned line, const char *section, const char *lvalue,
                          const char *rvalue, void *data, void *userdata) {
        return safe_atou(rvalue, data);
}

int config_parse_size(const char *filename, unsigned line, const char *section, const char *lvalue,
                      const char *rvalue, void *data, void *userdata) {
        return parse_size(rvalue, data);
}

int config_parse_sec(const char *filename, unsigned line, const char *section, const char *lvalue,
                     const char *rvalue, void *data, void *userdata) {
        if (streq(rvalue, "infinity")) {
                *(uint64_t *) data = USEC_INFINITY;
                return 0;
        }
        return parse_sec(rvalue, data);
}

int config_parse_strv(const char *filename, unsigned line, const char *section, const char *lvalue,
                      const char *rvalue, void *data, void *userdata) {
        char ***l = data;

        if (isempty(rvalue)) {
                *l = strv_free(*l);
                return 0;
        }
        if (string_has_cc(rvalue, NULL))
                return -EINVAL;
        return strv_extend(l, rvalue);
}
