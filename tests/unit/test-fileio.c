/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "string-util.h"
#include "tests.h"

static char *make_tmpdir(void) {
        char t[] = "/tmp/test-fileio-XXXXXX";
        return mkdtemp(t) ? strdup(t) : NULL;
}

static unsigned count_entries(const char *dir) {
        DIR *d = opendir(dir);
        unsigned n = 0;
        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

TEST(atomic_write_and_read) {
        _cleanup_free_ char *dir = make_tmpdir(), *p = NULL, *content = NULL;
        struct stat st;
        size_t sz;

        ASSERT_NOT_NULL(dir);
        p = strjoin(dir, "/f");
        ASSERT_OK(write_file_atomic(p, "hello", 5, 0600));
        ASSERT_OK(stat(p, &st));
        ASSERT_EQ(st.st_mode & 07777, 0600);
        ASSERT_OK(read_full_file(p, 1024, &content, &sz));
        ASSERT_EQ(sz, 5);
        ASSERT_STREQ(content, "hello");
        /* Replacing keeps exactly one file: no temporaries left behind. */
        ASSERT_OK(write_file_atomic(p, "bye", 3, 0644));
        ASSERT_EQ(count_entries(dir), 1);
        ASSERT_OK(unlink(p));
        ASSERT_OK(rmdir(dir));
}

TEST(read_limits) {
        _cleanup_free_ char *dir = make_tmpdir(), *p = NULL, *content = NULL;
        ASSERT_NOT_NULL(dir);
        p = strjoin(dir, "/big");
        ASSERT_OK(write_file_atomic(p, "0123456789", 10, 0644));
        ASSERT_ERROR(read_full_file(p, 9, &content, NULL), EFBIG);
        ASSERT_ERROR(read_full_file(dir, 9, &content, NULL), EISDIR);
        ASSERT_ERROR(read_full_file("/nonexistent/x", 9, &content, NULL), ENOENT);
        ASSERT_OK(unlink(p));
        ASSERT_OK(rmdir(dir));
}

/* The buffer follows the file, not the limit: fuzz-gateway-api spent most of its time allocating and
 * clearing 1 MiB per 200-byte store record. Files without a size (procfs) are read whole all the same. */
TEST(read_sized_by_file) {
        _cleanup_free_ char *dir = make_tmpdir(), *p = NULL, *content = NULL, *proc = NULL;
        size_t sz;

        ASSERT_NOT_NULL(dir);
        p = strjoin(dir, "/small");
        ASSERT_OK(write_file_atomic(p, "tiny", 4, 0644));
        ASSERT_OK(read_full_file(p, 1024 * 1024, &content, &sz));
        ASSERT_EQ(sz, 4);
        ASSERT_STREQ(content, "tiny");
        ASSERT_TRUE(malloc_usable_size(content) < 4096);
        ASSERT_OK(read_full_file(p, 4, &proc, &sz)); /* exactly the limit */
        ASSERT_EQ(sz, 4);
        proc = mfree(proc);
        ASSERT_OK(read_full_file("/proc/self/status", 1024 * 1024, &proc, &sz));
        ASSERT_TRUE(sz > 100);
        ASSERT_EQ(strlen(proc), sz);
        ASSERT_CONTAINS(proc, "Pid:");
        proc = mfree(proc);
        ASSERT_ERROR(read_full_file("/proc/self/status", 16, &proc, &sz), EFBIG);
        ASSERT_OK(unlink(p));
        ASSERT_OK(rmdir(dir));
}

TEST(atomic_write_fails_cleanly) {
        ASSERT_ERROR(write_file_atomic("/nonexistent-dir/f", "x", 1, 0644), ENOENT);
}

TEST(mkdir_p) {
        _cleanup_free_ char *dir = make_tmpdir(), *p = NULL;
        ASSERT_NOT_NULL(dir);
        p = strjoin(dir, "/a/b/c");
        ASSERT_OK(mkdir_p(p, 0755));
        ASSERT_OK(mkdir_p(p, 0755));
        ASSERT_OK(access(p, F_OK));
        ASSERT_OK(unlink_if_exists("/tmp/test-fileio-does-not-exist"));
        ASSERT_TRUE(unlink_if_exists(p) < 0); /* a directory is not silently ignored */
        for (int i = 0; i < 3; i++) {
                ASSERT_OK(rmdir(p));
                *strrchr(p, '/') = 0;
        }
        ASSERT_OK(rmdir(dir));
}

TEST(write_files_atomic_all_or_nothing) {
        _cleanup_free_ char *dir = make_tmpdir(), *a = NULL, *b = NULL, *bad = NULL, *content = NULL;
        size_t sz;

        ASSERT_NOT_NULL(dir);
        a = strjoin(dir, "/record.json");
        b = strjoin(dir, "/copy.json");
        bad = strjoin(dir, "/missing-dir/copy.json");
        ASSERT_OK(write_files_atomic((AtomicFile[]) { { a, "old-a", 5, 0600 }, { b, "old-b", 5, 0644 } }, 2));
        /* The second temporary cannot be created: the first file keeps its old content, no temporary stays. */
        ASSERT_ERROR(write_files_atomic((AtomicFile[]) { { a, "new-a", 5, 0600 }, { bad, "new-b", 5, 0600 } }, 2), ENOENT);
        ASSERT_OK(read_full_file(a, 64, &content, &sz));
        ASSERT_STREQ(content, "old-a");
        ASSERT_EQ(count_entries(dir), 2);
        content = mfree(content);
        ASSERT_OK(write_files_atomic((AtomicFile[]) { { a, "new-a", 5, 0600 }, { b, "new-b", 5, 0644 } }, 2));
        ASSERT_OK(read_full_file(b, 64, &content, &sz));
        ASSERT_STREQ(content, "new-b");
        ASSERT_EQ(count_entries(dir), 2);
        ASSERT_ERROR(write_files_atomic(NULL, 0), EINVAL);

        ASSERT_OK(unlink(a));
        ASSERT_OK(unlink(b));
        ASSERT_OK(rmdir(dir));
}

TEST(remove_stale_temporaries) {
        _cleanup_free_ char *dir = make_tmpdir(), *p = NULL, *tmp = NULL, *keep1 = NULL, *keep2 = NULL, *sub = NULL;

        ASSERT_NOT_NULL(dir);
        p = strjoin(dir, "/policy.json");
        tmp = strjoin(dir, "/policy.json.tmp.Ab3xYz");
        keep1 = strjoin(dir, "/notes.tmp.txt"); /* not the mkostemp() template */
        keep2 = strjoin(dir, "/.tmp.abcdef");   /* no name before the suffix */
        sub = strjoin(dir, "/dir.tmp.ABCDEF");  /* a directory, not a file */
        ASSERT_OK(write_file_atomic(p, "{}", 2, 0600));
        ASSERT_OK(write_file_atomic(tmp, "{", 1, 0600)); /* as if the process died before the rename */
        ASSERT_OK(write_file_atomic(keep1, "x", 1, 0600));
        ASSERT_OK(write_file_atomic(keep2, "x", 1, 0600));
        ASSERT_OK(mkdir(sub, 0700));
        ASSERT_EQ(count_entries(dir), 5);

        ASSERT_EQ(remove_stale_temporaries(dir), 1);
        ASSERT_EQ(count_entries(dir), 4);
        ASSERT_ERROR(access(tmp, F_OK) < 0 ? -errno : 0, ENOENT);
        ASSERT_OK(access(p, F_OK));
        ASSERT_EQ(remove_stale_temporaries(dir), 0);
        /* A directory that does not exist holds no temporaries. */
        ASSERT_EQ(remove_stale_temporaries("/nonexistent/openshell-test"), 0);

        ASSERT_OK(rmdir(sub));
        ASSERT_OK(unlink(p));
        ASSERT_OK(unlink(keep1));
        ASSERT_OK(unlink(keep2));
        ASSERT_OK(rmdir(dir));
}

DEFINE_TEST_MAIN();
