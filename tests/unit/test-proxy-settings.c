/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "proxy-settings.h"
#include "tests.h"

TEST(split_host_port) {
        _cleanup_free_ char *h1 = NULL, *h2 = NULL, *h3 = NULL;
        char *h = NULL;
        uint16_t p;

        ASSERT_OK(proxy_split_host_port("example.com:443", &h1, &p));
        ASSERT_STREQ(h1, "example.com");
        ASSERT_EQ(p, 443);
        ASSERT_OK(proxy_split_host_port("[2001:db8::1]:8443", &h2, &p));
        ASSERT_STREQ(h2, "2001:db8::1");
        ASSERT_EQ(p, 8443);
        ASSERT_OK(proxy_split_host_port(":3128", &h3, &p));
        ASSERT_STREQ(h3, "");
        ASSERT_ERROR(proxy_split_host_port("example.com", &h, &p), EINVAL);
        ASSERT_ERROR(proxy_split_host_port("2001:db8::1:80", &h, &p), EINVAL);
        ASSERT_ERROR(proxy_split_host_port("[::1]80", &h, &p), EINVAL);
        ASSERT_TRUE(proxy_split_host_port("h:0", &h, &p) < 0);
        ASSERT_TRUE(proxy_split_host_port("h:65536", &h, &p) < 0);
        ASSERT_ERROR(proxy_split_host_port("h\n:80", &h, &p), EINVAL);
        ASSERT_NULL(h);
}

TEST(parse_address) {
        struct sockaddr_storage ss;
        socklen_t len;

        ASSERT_OK(proxy_parse_address("0.0.0.0:3128", &ss, &len));
        ASSERT_EQ(ss.ss_family, AF_INET);
        ASSERT_EQ(ntohs(((struct sockaddr_in *) &ss)->sin_port), 3128);
        ASSERT_OK(proxy_parse_address("[::1]:8081", &ss, &len));
        ASSERT_EQ(ss.ss_family, AF_INET6);
        ASSERT_OK(proxy_parse_address(":8081", &ss, &len));
        ASSERT_EQ(ss.ss_family, AF_INET);
        ASSERT_ERROR(proxy_parse_address("localhost:80", &ss, &len), EINVAL);
}

TEST(validate) {
        ProxySettings s;
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL;

        proxy_settings_init(&s);
        ASSERT_OK(proxy_settings_validate(&s, NULL));
        s.forward_listen = strdup("127.0.0.1:8081");
        ASSERT_ERROR(proxy_settings_validate(&s, &e1), EINVAL);
        ASSERT_CONTAINS(e1, "go together");
        s.forward_to = strdup("gateway.internal:17671");
        ASSERT_OK(proxy_settings_validate(&s, NULL));
        s.limits.buffer_bytes = 10;
        ASSERT_ERROR(proxy_settings_validate(&s, &e2), EINVAL);
        ASSERT_CONTAINS(e2, "BufferBytes=");
        s.limits.buffer_bytes = PROXY_BUFFER_BYTES_DEFAULT;
        s.limits.max_connections = 0;
        ASSERT_ERROR(proxy_settings_validate(&s, &e3), EINVAL);
        ASSERT_CONTAINS(e3, "MaxConnections=");
        proxy_settings_done(&s);
}

TEST(config_file) {
        char path[] = "/tmp/test-proxy-settings-XXXXXX";
        const char *conf = "[Proxy]\nListen=127.0.0.1:9999\nMaxConnections=7\nBufferBytes=128K\n"
                           "IdleTimeoutSec=2min\nMaxHeaderBytes=2048\nSandbox=demo\n";
        ProxySettings s;
        int fd = mkstemp(path);

        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_OK(write_file_atomic(path, conf, strlen(conf), 0644));
        proxy_settings_init(&s);
        ASSERT_OK(proxy_settings_load(&s, path));
        ASSERT_STREQ(s.listen, "127.0.0.1:9999");
        ASSERT_EQ(s.limits.max_connections, 7);
        ASSERT_EQ(s.limits.buffer_bytes, 128 * 1024);
        ASSERT_EQ(s.limits.idle_timeout, 120 * USEC_PER_SEC);
        ASSERT_EQ(s.limits.max_header_bytes, 2048);
        ASSERT_STREQ(s.sandbox, "demo");
        ASSERT_EQ(proxy_http_limits(&s.limits).max_header_bytes, 2048);
        proxy_settings_done(&s);
        unlink(path);
        proxy_settings_init(&s);
        ASSERT_ERROR(proxy_settings_load(&s, path), ENOENT);
        proxy_settings_done(&s);
}

DEFINE_TEST_MAIN();
