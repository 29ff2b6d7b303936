/* SPDX-License-Identifier: Apache-2.0 */
#include "alloc-util.h"
#include "json-util.h"
#include "tests.h"

TEST(parse_ok) {
        _cleanup_json_ cJSON *j = NULL;
        const char *t = "{\"a\": [1, 2]}\n";
        ASSERT_OK(json_parse(t, strlen(t), &j, NULL, NULL));
        ASSERT_STREQ(json_type_name(cJSON_GetObjectItem(j, "a")), "array");
        ASSERT_STREQ(json_type_name(cJSON_GetObjectItem(j, "b")), "missing");
}

TEST(parse_error_position) {
        cJSON *j = NULL;
        unsigned line = 0, col = 0;
        const char *t = "{\n  \"a\": 1,\n  \"b\": }\n";
        ASSERT_ERROR(json_parse(t, strlen(t), &j, &line, &col), EINVAL);
        ASSERT_EQ(line, 3);
        ASSERT_NULL(j);
}

TEST(parse_trailing_garbage) {
        cJSON *j = NULL;
        unsigned line = 0, col = 0;
        const char *t = "{}\n{}";
        ASSERT_ERROR(json_parse(t, strlen(t), &j, &line, &col), EINVAL);
        ASSERT_EQ(line, 2);
        ASSERT_EQ(col, 1);
}

TEST(parse_embedded_nul) {
        cJSON *j = NULL;
        const char t[] = "{\"a\":\"x\0y\"}";
        ASSERT_ERROR(json_parse(t, sizeof(t) - 1, &j, NULL, NULL), EINVAL);
}

TEST(print) {
        _cleanup_json_ cJSON *j = cJSON_CreateObject();
        _cleanup_free_ char *s = NULL;
        cJSON_AddStringToObject(j, "k", "v");
        s = json_print(j, false);
        ASSERT_STREQ(s, "{\"k\":\"v\"}");
}

DEFINE_TEST_MAIN();
