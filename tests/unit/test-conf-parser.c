/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-util.h"
#include "conf-parser.h"
#include "fileio.h"
#include "log.h"
#include "string-util.h"
#include "tests.h"
#include "time-util.h"

typedef struct Settings {
        char *name;
        char *dir;
        bool flag;
        unsigned count;
        uint64_t size;
        uint64_t timeout;
        char **list;
} Settings;

static const ConfigTableItem table[] = {
        { "Main", "Name", config_parse_string, offsetof(Settings, name), false },
        { "Main", "Dir", config_parse_path, offsetof(Settings, dir), true },
        { "Main", "Flag", config_parse_bool, offsetof(Settings, flag), true },
        { "Main", "Count", config_parse_unsigned, offsetof(Settings, count), false },
        { "Limits", "Size", config_parse_size, offsetof(Settings, size), false },
        { "Limits", "TimeoutSec", config_parse_sec, offsetof(Settings, timeout), false },
        { "Main", "Item", config_parse_strv, offsetof(Settings, list), true },
};

static void settings_done(Settings *s) {
        free(s->name);
        free(s->dir);
        strv_free(s->list);
}

static int parse(const char *text, Settings *s) {
        return config_parse_text("test.conf", text, strlen(text), table, ELEMENTSOF(table), s);
}

TEST(basic_assignments) {
        Settings s = { .count = 7 };
        ASSERT_OK(parse("# comment\n; other comment\n\n[Main]\nName = hello world \nDir=/var/lib/x\n"
                        "Flag=yes\nCount=42\n[Limits]\nSize=16K\nTimeoutSec=500ms\n",
                        &s));
        ASSERT_STREQ(s.name, "hello world");
        ASSERT_STREQ(s.dir, "/var/lib/x");
        ASSERT_TRUE(s.flag);
        ASSERT_EQ(s.count, 42);
        ASSERT_EQ(s.size, 16384);
        ASSERT_EQ(s.timeout, 500 * USEC_PER_MSEC);
        settings_done(&s);
}

TEST(later_assignment_wins_and_empty_resets) {
        Settings s = {};
        ASSERT_OK(parse("[Main]\nName=a\nName=b\n", &s));
        ASSERT_STREQ(s.name, "b");
        ASSERT_OK(parse("[Main]\nName=\n", &s));
        ASSERT_NULL(s.name);
        settings_done(&s);
}

TEST(list_appends_and_empty_resets) {
        Settings s = {};
        ASSERT_OK(parse("[Main]\nItem=a\nItem=b\n", &s));
        ASSERT_EQ(strv_length(s.list), 2);
        ASSERT_OK(parse("[Main]\nItem=\nItem=c\n", &s));
        ASSERT_EQ(strv_length(s.list), 1);
        ASSERT_STREQ(s.list[0], "c");
        ASSERT_OK(parse("[Main]\nItem=\n", &s));
        ASSERT_NULL(s.list);
        settings_done(&s);
}

TEST(unknown_keys_and_sections_warn_only) {
        Settings s = {};
        ASSERT_OK(parse("[Main]\nBogus=1\nName=x\n[Other]\nAnything=goes\n", &s));
        ASSERT_STREQ(s.name, "x");
        settings_done(&s);
}

TEST(bad_tuning_value_keeps_previous) {
        Settings s = { .count = 7, .size = 1 };
        ASSERT_OK(parse("[Main]\nCount=lots\n[Limits]\nSize=-1\nTimeoutSec=soon\n", &s));
        ASSERT_EQ(s.count, 7);
        ASSERT_EQ(s.size, 1);
        settings_done(&s);
}

TEST(bad_policy_value_fails) {
        Settings s = {};
        ASSERT_ERROR(parse("[Main]\nFlag=perhaps\n", &s), EINVAL);
        ASSERT_ERROR(parse("[Main]\nDir=relative/path\n", &s), EINVAL);
        ASSERT_ERROR(parse("[Main]\nDir=/a/../b\n", &s), EINVAL);
        ASSERT_ERROR(parse("[Main]\nItem=a\tb\n", &s), EINVAL);
        settings_done(&s);
}

TEST(malformed_lines_fail) {
        Settings s = {};
        ASSERT_ERROR(parse("Name=x\n", &s), EBADMSG);
        ASSERT_ERROR(parse("[Main\nName=x\n", &s), EBADMSG);
        ASSERT_ERROR(parse("[]\n", &s), EBADMSG);
        ASSERT_ERROR(parse("[Main]\nName\n", &s), EBADMSG);
        ASSERT_ERROR(parse("[Main]\n=x\n", &s), EBADMSG);
        ASSERT_ERROR(config_parse_text("nul", "[Main]\0Name=x", 13, table, ELEMENTSOF(table), &s), EBADMSG);
        settings_done(&s);
}

TEST(no_trailing_newline_and_crlf) {
        Settings s = {};
        ASSERT_OK(parse("[Main]\r\nName=x\r\nCount=3", &s));
        ASSERT_STREQ(s.name, "x");
        ASSERT_EQ(s.count, 3);
        settings_done(&s);
}

TEST(infinity) {
        Settings s = {};
        ASSERT_OK(parse("[Limits]\nTimeoutSec=infinity\n", &s));
        ASSERT_TRUE(s.timeout == USEC_INFINITY);
        settings_done(&s);
}

static int write_text(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *p = strjoin(dir, "/", name);
        if (!p)
                return -ENOMEM;
        return write_file_atomic(p, text, strlen(text), 0644);
}

TEST(dropins_in_lexical_order) {
        char tmpl[] = "/tmp/test-conf-parser-XXXXXX";
        _cleanup_free_ char *main_path = NULL, *dropdir = NULL, *cmd = NULL;
        _cleanup_strv_free_ char **l = NULL;
        Settings s = {};

        ASSERT_NOT_NULL(mkdtemp(tmpl));
        main_path = strjoin(tmpl, "/x.conf");
        dropdir = strjoin(tmpl, "/x.conf.d");
        ASSERT_OK(write_text(tmpl, "x.conf", "[Main]\nName=main\nItem=m\nCount=1\n"));
        ASSERT_OK(mkdir_p(dropdir, 0755));
        ASSERT_OK(write_text(dropdir, "20-b.conf", "[Main]\nName=b\nItem=b\n"));
        ASSERT_OK(write_text(dropdir, "10-a.conf", "[Main]\nName=a\nItem=\nItem=a\n"));
        ASSERT_OK(write_text(dropdir, "30-ignored.txt", "[Main]\nName=ignored\n"));
        ASSERT_OK(write_text(dropdir, ".hidden.conf", "[Main]\nName=hidden\n"));

        ASSERT_OK(config_list_dropins(dropdir, &l));
        ASSERT_EQ(strv_length(l), 2);
        ASSERT_CONTAINS(l[0], "10-a.conf");

        ASSERT_EQ(config_parse_with_dropins(main_path, table, ELEMENTSOF(table), &s), 3);
        ASSERT_STREQ(s.name, "b");
        ASSERT_EQ(s.count, 1);
        /* main's "m" was reset by 10-a's empty assignment; then a, b. */
        ASSERT_EQ(strv_length(s.list), 2);
        ASSERT_STREQ(s.list[0], "a");
        ASSERT_STREQ(s.list[1], "b");
        settings_done(&s);

        /* A bad drop-in fails the whole parse for policy-like keys. */
        ASSERT_OK(write_text(dropdir, "40-bad.conf", "[Main]\nFlag=maybe\n"));
        s = (Settings) {};
        ASSERT_ERROR(config_parse_with_dropins(main_path, table, ELEMENTSOF(table), &s), EINVAL);
        settings_done(&s);

        cmd = strjoin("rm -rf ", tmpl);
        ASSERT_EQ(system(cmd), 0);
}

TEST(missing_files) {
        Settings s = {};
        ASSERT_EQ(config_parse_with_dropins("/nonexistent/openshell/x.conf", table, ELEMENTSOF(table), &s), 0);
        ASSERT_ERROR(config_parse_file("/nonexistent/openshell/x.conf", table, ELEMENTSOF(table), &s, true),
                     ENOENT);
}

DEFINE_TEST_MAIN();
