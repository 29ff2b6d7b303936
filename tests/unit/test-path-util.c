/* SPDX-License-Identifier: Apache-2.0 */
#include "alloc-util.h"
#include "path-util.h"
#include "tests.h"

TEST(normalized_absolute) {
        ASSERT_TRUE(path_is_normalized_absolute("/"));
        ASSERT_TRUE(path_is_normalized_absolute("/srv/data"));
        ASSERT_TRUE(path_is_normalized_absolute("/a/.hidden/..x"));
        ASSERT_FALSE(path_is_normalized_absolute("relative"));
        ASSERT_FALSE(path_is_normalized_absolute("/a/../etc"));
        ASSERT_FALSE(path_is_normalized_absolute("/a/./b"));
        ASSERT_FALSE(path_is_normalized_absolute("/a//b"));
        ASSERT_FALSE(path_is_normalized_absolute("/a/"));
        ASSERT_FALSE(path_is_normalized_absolute("/a/.."));
        ASSERT_FALSE(path_is_normalized_absolute("/a\nb"));
        ASSERT_FALSE(path_is_normalized_absolute(""));
}

TEST(startswith_component) {
        ASSERT_TRUE(path_startswith_component("/etc/openshell/x", "/etc/openshell"));
        ASSERT_TRUE(path_startswith_component("/etc/openshell", "/etc/openshell/"));
        ASSERT_FALSE(path_startswith_component("/etc/openshellx", "/etc/openshell"));
}

TEST(join_basename) {
        _cleanup_free_ char *a = path_join("/etc/", "/openshell");
        ASSERT_STREQ(a, "/etc/openshell");
        ASSERT_STREQ(path_basename("/a/b/c.json"), "c.json");
        ASSERT_STREQ(path_basename("c"), "c");
}

DEFINE_TEST_MAIN();
