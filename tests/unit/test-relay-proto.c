/* SPDX-License-Identifier: Apache-2.0 */
#include "alloc-util.h"
#include "relay-proto.h"
#include "string-util.h"
#include "tests.h"

TEST(frame_roundtrip) {
        _cleanup_(relay_buffer_done) RelayBuffer b = {};
        RelayFrame f;
        size_t n;

        ASSERT_OK(relay_buffer_put_frame(&b, RELAY_FRAME_STDOUT, 7, "hello", 5));
        ASSERT_OK(relay_buffer_put_u32(&b, RELAY_FRAME_EXIT, 7, 3));
        ASSERT_OK(relay_buffer_put_resize(&b, 7, 40, 120));
        ASSERT_EQ(relay_buffer_pending(&b), 3 * RELAY_FRAME_HEADER_SIZE + 5 + 4 + 4);

        ASSERT_EQ(relay_frame_parse(relay_buffer_head(&b), relay_buffer_pending(&b), &f, &n), 1);
        ASSERT_EQ(f.type, RELAY_FRAME_STDOUT);
        ASSERT_EQ(f.channel, 7);
        ASSERT_EQ(f.size, 5);
        ASSERT_TRUE(memcmp(f.payload, "hello", 5) == 0);
        relay_buffer_consume(&b, n);

        ASSERT_EQ(relay_frame_parse(relay_buffer_head(&b), relay_buffer_pending(&b), &f, &n), 1);
        ASSERT_EQ(f.type, RELAY_FRAME_EXIT);
        ASSERT_EQ(relay_frame_get_u32(&f), 3);
        relay_buffer_consume(&b, n);

        ASSERT_EQ(relay_frame_parse(relay_buffer_head(&b), relay_buffer_pending(&b), &f, &n), 1);
        uint16_t rows, cols;
        relay_frame_get_resize(&f, &rows, &cols);
        ASSERT_EQ(rows, 40);
        ASSERT_EQ(cols, 120);
        relay_buffer_consume(&b, n);
        ASSERT_EQ(relay_buffer_pending(&b), 0);
}

TEST(frame_partial_needs_more) {
        _cleanup_(relay_buffer_done) RelayBuffer b = {};
        RelayFrame f;
        size_t n = 0;

        ASSERT_OK(relay_buffer_put_frame(&b, RELAY_FRAME_STDIN, 1, "abcdef", 6));
        /* Every proper prefix, byte by byte, asks for more and never reads past its end. */
        for (size_t i = 0; i < relay_buffer_pending(&b); i++) {
                uint8_t *copy = malloc(i ?: 1);
                ASSERT_NOT_NULL(copy);
                memcpy(copy, relay_buffer_head(&b), i);
                int r = relay_frame_parse(copy, i, &f, &n);
                free(copy);
                ASSERT_EQ(r, 0);
        }
        ASSERT_EQ(relay_frame_parse(relay_buffer_head(&b), relay_buffer_pending(&b), &f, &n), 1);
}

TEST(frame_malformed) {
        uint8_t h[RELAY_FRAME_HEADER_SIZE + 8] = {};
        RelayFrame f;
        size_t n;

        /* Unknown type. */
        relay_frame_header(h, RELAY_FRAME_STDIN, 1, 0);
        h[0] = _RELAY_FRAME_TYPE_MAX;
        ASSERT_ERROR(relay_frame_parse(h, sizeof(h), &f, &n), EBADMSG);
        h[0] = 0xff;
        ASSERT_ERROR(relay_frame_parse(h, sizeof(h), &f, &n), EBADMSG);
        /* Reserved flags. */
        relay_frame_header(h, RELAY_FRAME_STDIN, 1, 0);
        h[1] = 1;
        ASSERT_ERROR(relay_frame_parse(h, sizeof(h), &f, &n), EBADMSG);
        /* Too long: refused from the header alone, before any payload arrives. */
        relay_frame_header(h, RELAY_FRAME_STDOUT, 1, RELAY_FRAME_PAYLOAD_MAX + 1);
        ASSERT_ERROR(relay_frame_parse(h, RELAY_FRAME_HEADER_SIZE, &f, &n), EMSGSIZE);
        relay_frame_header(h, RELAY_FRAME_STDOUT, 1, UINT32_MAX);
        ASSERT_ERROR(relay_frame_parse(h, RELAY_FRAME_HEADER_SIZE, &f, &n), EMSGSIZE);
        /* Fixed sizes. */
        relay_frame_header(h, RELAY_FRAME_EXIT, 1, 3);
        ASSERT_ERROR(relay_frame_parse(h, sizeof(h), &f, &n), EBADMSG);
        relay_frame_header(h, RELAY_FRAME_RESIZE, 1, 8);
        ASSERT_ERROR(relay_frame_parse(h, sizeof(h), &f, &n), EBADMSG);
        relay_frame_header(h, RELAY_FRAME_EOF, 1, 1);
        ASSERT_ERROR(relay_frame_parse(h, sizeof(h), &f, &n), EBADMSG);
        /* Control frames only on channel 0, data frames never. */
        relay_frame_header(h, RELAY_FRAME_PING, 3, 0);
        ASSERT_ERROR(relay_frame_parse(h, sizeof(h), &f, &n), EBADMSG);
        relay_frame_header(h, RELAY_FRAME_STDIN, 0, 0);
        ASSERT_ERROR(relay_frame_parse(h, sizeof(h), &f, &n), EBADMSG);
        relay_frame_header(h, RELAY_FRAME_PING, 0, 0);
        ASSERT_EQ(relay_frame_parse(h, RELAY_FRAME_HEADER_SIZE, &f, &n), 1);
        ASSERT_EQ(n, RELAY_FRAME_HEADER_SIZE);
}

TEST(frame_random_bytes_never_crash) {
        uint8_t buf[64];
        unsigned seed = 1;
        RelayFrame f;
        size_t n;

        for (unsigned i = 0; i < 20000; i++) {
                for (size_t j = 0; j < sizeof(buf); j++) {
                        seed = seed * 1103515245U + 12345U;
                        buf[j] = (uint8_t) (seed >> 16);
                }
                size_t len = (seed >> 8) % sizeof(buf);
                int r = relay_frame_parse(buf, len, &f, &n);
                ASSERT_TRUE(r == 0 || r == 1 || r == -EBADMSG || r == -EMSGSIZE);
                if (r == 1)
                        ASSERT_LE(n, len);
        }
}

TEST(buffer_put_too_large) {
        _cleanup_(relay_buffer_done) RelayBuffer b = {};
        _cleanup_free_ char *big = calloc(1, RELAY_FRAME_PAYLOAD_MAX + 1);

        ASSERT_NOT_NULL(big);
        ASSERT_ERROR(relay_buffer_put_frame(&b, RELAY_FRAME_STDOUT, 1, big, RELAY_FRAME_PAYLOAD_MAX + 1), EMSGSIZE);
        ASSERT_EQ(relay_buffer_pending(&b), 0);
        ASSERT_OK(relay_buffer_put_frame(&b, RELAY_FRAME_STDOUT, 1, big, RELAY_FRAME_PAYLOAD_MAX));
}

TEST(open_roundtrip) {
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "echo \"hi\"", NULL };
        char *env[] = { (char *) "FOO=bar=baz", (char *) "EMPTY=", NULL };
        RelayOpen o = { .kind = RELAY_OPEN_EXEC, .argv = argv, .env = env, .workdir = (char *) "/tmp",
                        .tty = true, .rows = 24, .cols = 80 };
        _cleanup_(relay_open_done) RelayOpen p = {};
        _cleanup_free_ char *json = NULL;
        const char *err = NULL;
        size_t n;

        ASSERT_OK(relay_open_to_json(&o, &json, &n));
        ASSERT_OK(relay_open_from_json(json, n, &p, &err));
        ASSERT_EQ(p.kind, RELAY_OPEN_EXEC);
        ASSERT_EQ(strv_length(p.argv), 3);
        ASSERT_STREQ(p.argv[2], "echo \"hi\"");
        ASSERT_STREQ(p.env[0], "FOO=bar=baz");
        ASSERT_STREQ(p.workdir, "/tmp");
        ASSERT_TRUE(p.tty);
        ASSERT_EQ(p.rows, 24);
        ASSERT_EQ(p.cols, 80);
}

static int parse_str(const char *s, const char **err) {
        _cleanup_(relay_open_done) RelayOpen p = {};
        return relay_open_from_json(s, strlen(s), &p, err);
}

TEST(open_invalid) {
        const char *err = NULL;

        ASSERT_ERROR(parse_str("", &err), EINVAL);
        ASSERT_CONTAINS(err, "JSON");
        ASSERT_ERROR(parse_str("[1]", &err), EINVAL);
        ASSERT_ERROR(parse_str("{\"kind\":\"exec\"}", &err), EINVAL);
        ASSERT_CONTAINS(err, "argv");
        ASSERT_ERROR(parse_str("{\"kind\":\"exec\",\"argv\":[]}", &err), EINVAL);
        ASSERT_ERROR(parse_str("{\"kind\":\"exec\",\"argv\":[1]}", &err), EINVAL);
        ASSERT_ERROR(parse_str("{\"kind\":\"fly\",\"argv\":[\"x\"]}", &err), EINVAL);
        ASSERT_CONTAINS(err, "kind");
        ASSERT_ERROR(parse_str("{\"kind\":\"exec\",\"argv\":[\"x\"],\"env\":[\"=x\"]}", &err), EINVAL);
        ASSERT_ERROR(parse_str("{\"kind\":\"exec\",\"argv\":[\"x\"],\"env\":[\"NOEQUALS\"]}", &err), EINVAL);
        ASSERT_ERROR(parse_str("{\"kind\":\"exec\",\"argv\":[\"x\"],\"env\":[\"A-B=1\"]}", &err), EINVAL);
        ASSERT_ERROR(parse_str("{\"kind\":\"exec\",\"argv\":[\"x\"],\"workdir\":\"rel\"}", &err), EINVAL);
        ASSERT_ERROR(parse_str("{\"kind\":\"exec\",\"argv\":[\"x\"],\"workdir\":\"/a/../b\"}", &err), EINVAL);
        ASSERT_ERROR(parse_str("{\"kind\":\"exec\",\"argv\":[\"x\"],\"rows\":70000}", &err), EINVAL);
        ASSERT_ERROR(parse_str("{\"kind\":\"exec\",\"argv\":[\"x\"],\"rows\":1.5}", &err), EINVAL);
        ASSERT_ERROR(parse_str("{\"kind\":\"exec\",\"argv\":[\"x\"],\"tty\":1}", &err), EINVAL);
        ASSERT_ERROR(parse_str("{\"kind\":\"upload\"}", &err), EINVAL);
        ASSERT_CONTAINS(err, "path");
        ASSERT_OK(parse_str("{\"kind\":\"download\",\"path\":\"/etc\"}", &err));
}

TEST(env_entry) {
        ASSERT_TRUE(relay_env_entry_is_valid("A=1"));
        ASSERT_TRUE(relay_env_entry_is_valid("_a9="));
        ASSERT_FALSE(relay_env_entry_is_valid("9A=1"));
        ASSERT_FALSE(relay_env_entry_is_valid("A"));
        ASSERT_FALSE(relay_env_entry_is_valid("=1"));
        ASSERT_FALSE(relay_env_entry_is_valid("A B=1"));
}

TEST(type_names) {
        ASSERT_STREQ(relay_frame_type_to_string(RELAY_FRAME_EXIT), "exit");
        ASSERT_EQ(relay_frame_type_from_string("stdin"), RELAY_FRAME_STDIN);
        ASSERT_EQ(relay_frame_type_from_string("nope"), _RELAY_FRAME_TYPE_INVALID);
}

DEFINE_TEST_MAIN();
