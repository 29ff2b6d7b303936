/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "fileio.h"
#include "json-util.h"
#include "path-util.h"
#include "string-util.h"
#include "supervisor-landlock.h"
#include "supervisor-spawn.h"
#include "tests.h"

static int paths_from(const char *json, LandlockPaths *ret, const char **err) {
        _cleanup_json_ cJSON *j = NULL;

        if (json_parse(json, strlen(json), &j, NULL, NULL) < 0)
                return -EBADMSG;
        return landlock_paths_from_policy(cJSON_GetObjectItem(j, "filesystem_policy"), cJSON_GetObjectItem(j, "landlock"),
                                          ret, err);
}

TEST(parse_sections) {
        _cleanup_(landlock_paths_done) LandlockPaths p = {};
        const char *err = NULL;

        ASSERT_OK(paths_from("{\"filesystem_policy\":{\"read_only\":[\"/usr\",\"/etc\"],\"read_write\":[\"/tmp\"]},"
                             "\"landlock\":{\"compatibility\":\"hard_requirement\"}}", &p, &err));
        ASSERT_EQ(strv_length(p.read_only), 2);
        ASSERT_STREQ(p.read_write[0], "/tmp");
        ASSERT_TRUE(p.hard_requirement);
}

TEST(parse_errors) {
        LandlockPaths p = {};
        const char *err = NULL;

        ASSERT_ERROR(paths_from("{\"filesystem_policy\":[]}", &p, &err), EINVAL);
        ASSERT_ERROR(paths_from("{\"filesystem_policy\":{\"read_only\":\"/usr\"}}", &p, &err), EINVAL);
        ASSERT_ERROR(paths_from("{\"filesystem_policy\":{\"read_write\":[\"tmp\"]}}", &p, &err), EINVAL);
        ASSERT_CONTAINS(err, "absolute");
        ASSERT_ERROR(paths_from("{\"filesystem_policy\":{},\"landlock\":{\"compatibility\":\"maybe\"}}", &p, &err), EINVAL);
        ASSERT_CONTAINS(err, "best_effort");
}

TEST(nothing_to_enforce) {
        LandlockPaths p = {};
        ASSERT_ERROR(landlock_ruleset_create(&p), EBADF);
}

/* A child under read_write=[dir] may write there and not elsewhere. */
TEST(enforced_in_child) {
        char dir[] = "/tmp/test-landlock-XXXXXX", other[] = "/tmp/test-landlock-other-XXXXXX";
        char *rw[] = { dir, NULL }, *ro[] = { (char *) "/usr", (char *) "/bin", (char *) "/lib", (char *) "/lib64",
                                               (char *) "/etc", (char *) "/dev", NULL };
        LandlockPaths p = { .read_only = ro, .read_write = rw };
        char *env[] = { (char *) "PATH=/usr/bin:/bin", NULL };
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *script = NULL;
        SpawnedProcess sp;
        int status;

        if (landlock_abi_version() < 0)
                TEST_SKIP("no Landlock in this kernel");
        ASSERT_NOT_NULL(mkdtemp(dir));
        ASSERT_NOT_NULL(mkdtemp(other));
        fd = landlock_ruleset_create(&p);
        ASSERT_OK(fd);
        script = asprintf_safe("echo ok > %s/a && ! echo no > %s/b 2>/dev/null", dir, other);
        char *argv[] = { (char *) "sh", (char *) "-c", script, NULL };
        SpawnOptions o = { .argv = argv, .env = env, .landlock_fd = fd };
        ASSERT_OK(spawn_process(&o, &sp));
        ASSERT_EQ(waitpid(sp.pid, &status, 0), sp.pid);
        spawned_process_close(&sp);
        ASSERT_EQ(spawn_exit_code(status), 0);
        _cleanup_free_ char *a = path_join(dir, "a"), *b = path_join(other, "b");
        ASSERT_EQ(access(a, F_OK), 0);
        ASSERT_TRUE(access(b, F_OK) < 0);
        /* The supervisor itself is not restricted. */
        ASSERT_OK(write_file_atomic(b, "x", 1, 0644));
        (void) unlink(a);
        (void) unlink(b);
        (void) rmdir(dir);
        (void) rmdir(other);
}

DEFINE_TEST_MAIN();
