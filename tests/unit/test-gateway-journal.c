/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "string-util.h"
#include "gateway-journal.h"
#include "json-util.h"
#include "tests.h"

TEST(bad_arguments) {
        cJSON *j = NULL;
        ASSERT_ERROR(journal_read_sandbox("Bad Name", false, 10, NULL, &j), EINVAL);
        ASSERT_ERROR(journal_read_sandbox("demo", false, 0, NULL, &j), EINVAL);
        ASSERT_ERROR(journal_read_sandbox("demo", false, JOURNAL_LINES_MAX + 1, NULL, &j), EINVAL);
}

TEST(empty_journal) {
        char d[] = "/tmp/test-gateway-journal-XXXXXX";
        _cleanup_json_ cJSON *j = NULL;

        ASSERT_NOT_NULL(mkdtemp(d));
        ASSERT_OK(journal_read_sandbox("demo", false, 10, d, &j));
        ASSERT_TRUE(cJSON_IsArray(j));
        ASSERT_EQ(cJSON_GetArraySize(j), 0);
        ASSERT_OK(rmdir(d));
}

TEST(system_journal_if_any) {
        _cleanup_json_ cJSON *j = NULL;
        /* On a host without journal files this is simply empty; either way it must not fail or block. */
        ASSERT_OK(journal_read_sandbox("no-such-sandbox-here", false, 5, NULL, &j));
        ASSERT_EQ(cJSON_GetArraySize(j), 0);
}

#define JOURNAL_REMOTE "/lib/systemd/systemd-journal-remote"

static const char export_entries[] =
        "__REALTIME_TIMESTAMP=1700000000000000\n__MONOTONIC_TIMESTAMP=1000\n"
        "_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=openshell-proxy-demo.service\n"
        "MESSAGE=proxy line one\n\n"
        "__REALTIME_TIMESTAMP=1700000001000000\n__MONOTONIC_TIMESTAMP=2000\n"
        "_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=openshell-agent-other.service\n"
        "MESSAGE=another sandbox\n\n"
        "__REALTIME_TIMESTAMP=1700000002000000\n__MONOTONIC_TIMESTAMP=3000\n"
        "_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=openshell-agent-demo.service\n"
        "MESSAGE=agent line two\n\n"
        "__REALTIME_TIMESTAMP=1700000002500000\n__MONOTONIC_TIMESTAMP=3500\n"
        "_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=openshell-agent-demo.service\n"
        "SYSLOG_IDENTIFIER=podman\nMESSAGE=container init 0123 (image=x)\n\n"
        "__REALTIME_TIMESTAMP=1700000003000000\n__MONOTONIC_TIMESTAMP=4000\n"
        "_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=openshell-sandbox@demo.service\n"
        "MESSAGE=umbrella line three\n\n";

/* A real journal file written by systemd-journal-remote from export format; skips without it. */
TEST(entries_of_one_sandbox) {
        char d[] = "/tmp/test-gateway-journal-XXXXXX";
        _cleanup_free_ char *exp = NULL, *cmd = NULL, *out = NULL, *rm = NULL;
        _cleanup_json_ cJSON *j = NULL, *last = NULL;

        if (access(JOURNAL_REMOTE, X_OK) < 0)
                TEST_SKIP("%s not installed (Debian: systemd-journal-remote)", JOURNAL_REMOTE);
        ASSERT_NOT_NULL(mkdtemp(d));
        rm = strjoin("rm -rf ", d);
        exp = strjoin(d, "/in.export");
        ASSERT_OK(write_file_atomic(exp, export_entries, strlen(export_entries), 0600));
        cmd = strjoin(JOURNAL_REMOTE, " -o ", d, "/j/x.journal ", exp, " >/dev/null 2>&1");
        out = strjoin(d, "/j");
        ASSERT_OK(mkdir_p(out, 0700));
        ASSERT_EQ(system(cmd), 0);

        ASSERT_OK(journal_read_sandbox("demo", false, 10, out, &j));
        ASSERT_EQ(cJSON_GetArraySize(j), 3);
        _cleanup_free_ char *txt = json_print(j, false);
        ASSERT_CONTAINS(txt, "{\"time\":\"2023-11-14T22:13:20.000000Z\",\"unit\":\"openshell-proxy-demo.service\",\"message\":\"proxy line one\"}");
        ASSERT_NOT_CONTAINS(txt, "another sandbox");
        ASSERT_NOT_CONTAINS(txt, "container init"); /* Podman's bookkeeping is not the sandbox's output */
        /* oldest first */
        ASSERT_TRUE(strstr(txt, "proxy line one") < strstr(txt, "agent line two"));
        ASSERT_TRUE(strstr(txt, "agent line two") < strstr(txt, "umbrella line three"));

        /* lines=1: only the newest */
        ASSERT_OK(journal_read_sandbox("demo", false, 1, out, &last));
        ASSERT_EQ(cJSON_GetArraySize(last), 1);
        ASSERT_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(last, 0), "message")->valuestring, "umbrella line three");
        /* lines=2: a skipped entry does not count */
        cJSON_Delete(last);
        ASSERT_OK(journal_read_sandbox("demo", false, 2, out, &last));
        ASSERT_EQ(cJSON_GetArraySize(last), 2);
        ASSERT_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(last, 0), "message")->valuestring, "agent line two");
        (void) system(rm);
}

DEFINE_TEST_MAIN();
