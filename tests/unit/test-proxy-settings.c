/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "proxy-settings.h"
#include "string-util.h"
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

TEST(unix_addresses) {
        struct sockaddr_storage ss;
        socklen_t len;
        char long_path[110];

        memset(long_path, 'a', sizeof(long_path) - 1);
        long_path[0] = '/';
        long_path[108] = 0; /* 108 bytes: one more than a sun_path holds with its NUL */
        ASSERT_OK(proxy_parse_unix_address("/run/openshell/gateway/gateway.sock", &ss, &len));
        ASSERT_EQ(ss.ss_family, AF_UNIX);
        ASSERT_ERROR(proxy_parse_unix_address("run/gateway.sock", &ss, &len), EINVAL);
        ASSERT_ERROR(proxy_parse_unix_address("/run//gateway.sock", &ss, &len), EINVAL);
        ASSERT_ERROR(proxy_parse_unix_address("/run/gw/\x01.sock", &ss, &len), EINVAL);
        ASSERT_ERROR(proxy_parse_unix_address(long_path, &ss, &len), ENAMETOOLONG);
        long_path[107] = 0;
        ASSERT_OK(proxy_parse_unix_address(long_path, &ss, &len));
        ASSERT_TRUE(proxy_address_is_path("/x"));
        ASSERT_FALSE(proxy_address_is_path("x:1"));
}

/* A copy of a case's value; "LONG" stands for a path one byte too long for a sun_path. */
static char *case_value(const char *v, const char *long_path) {
        return v ? strdup(streq(v, "LONG") ? long_path : v) : NULL;
}

/* Each (forward_to, gateway_url, gateway_socket) and a fragment of the error, or NULL when valid. */
TEST(validate_socket_paths) {
        char long_path[109];
        static const struct {
                const char *forward_to, *gateway, *socket, *error;
        } cases[] = {
                { "/run/openshell/gateway/gateway.sock", NULL, NULL, NULL },
                { "gateway.internal:17671", NULL, NULL, NULL },
                { "run/gateway.sock", NULL, NULL, "must be HOST:PORT or an absolute socket path" },
                { "/run/../gateway.sock", NULL, NULL, "socket path must be absolute and normalized" },
                { "LONG", NULL, NULL, "--forward-to/ForwardTo= socket path is longer than 107 bytes" },
                { NULL, "https://host.openshell.internal", "/run/openshell/gateway/gateway.sock", NULL },
                { NULL, NULL, "/run/openshell/gateway/gateway.sock", "--gateway-socket/GatewaySocket= needs --gateway" },
                { NULL, "https://h", "gateway.sock", "must be an absolute, normalized socket path" },
                { NULL, "https://h", "LONG", "--gateway-socket/GatewaySocket= is longer than 107 bytes" },
        };

        memset(long_path, 'a', sizeof(long_path) - 1);
        long_path[0] = '/';
        long_path[sizeof(long_path) - 1] = 0;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *err = NULL;
                ProxySettings s;
                int r;

                proxy_settings_init(&s);
                s.forward_to = case_value(cases[i].forward_to, long_path);
                s.forward_listen = cases[i].forward_to ? strdup("127.0.0.1:8081") : NULL;
                s.gateway_url = case_value(cases[i].gateway, long_path);
                s.gateway_socket = case_value(cases[i].socket, long_path);
                r = proxy_settings_validate(&s, &err);
                proxy_settings_done(&s);
                if (!cases[i].error && r < 0)
                        TEST_FAIL_AT("case %zu refused: %s", i, strna(err));
                if (cases[i].error) {
                        ASSERT_ERROR(r, EINVAL);
                        ASSERT_CONTAINS(err, cases[i].error);
                }
        }
}

TEST(config_file) {
        char path[] = "/tmp/test-proxy-settings-XXXXXX";
        const char *conf = "[Proxy]\nListen=127.0.0.1:9999\nMaxConnections=7\nBufferBytes=128K\n"
                           "IdleTimeoutSec=2min\nMaxHeaderBytes=2048\nSandbox=demo\n"
                           "ForwardTo=/run/openshell/gateway/gateway.sock\nGatewaySocket=/run/openshell/gateway/gateway.sock\n";
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
        ASSERT_STREQ(s.forward_to, "/run/openshell/gateway/gateway.sock");
        ASSERT_STREQ(s.gateway_socket, "/run/openshell/gateway/gateway.sock");
        ASSERT_EQ(proxy_http_limits(&s.limits).max_header_bytes, 2048);
        proxy_settings_done(&s);
        unlink(path);
        proxy_settings_init(&s);
        ASSERT_ERROR(proxy_settings_load(&s, path), ENOENT);
        proxy_settings_done(&s);
}

DEFINE_TEST_MAIN();
