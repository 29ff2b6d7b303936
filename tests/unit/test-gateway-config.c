/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "gateway-config.h"
#include "string-util.h"
#include "tests.h"

static char *write_conf(const char *text) {
        char tmpl[] = "/tmp/test-gateway-config-XXXXXX";
        char *p;
        if (!mkdtemp(tmpl))
                return NULL;
        p = strjoin(tmpl, "/gateway.conf");
        if (p && write_file_atomic(p, text, strlen(text), 0644) < 0)
                p = mfree(p);
        return p;
}

static void cleanup_conf(char *p) {
        _cleanup_free_ char *cmd = NULL;
        if (!p)
                return;
        *strrchr(p, '/') = 0;
        cmd = strjoin("rm -rf ", p);
        (void) system(cmd);
}

static int load(GatewayConfig *c, const char *text) {
        _cleanup_free_ char *p = write_conf(text);
        int r;
        if (!p)
                return -EIO;
        r = gateway_config_init(c, false);
        if (r >= 0)
                r = gateway_config_load(c, p);
        cleanup_conf(p);
        return r;
}

TEST(defaults) {
        GatewayConfig c;
        ListenSet s;
        char buf[LISTEN_ADDRESS_STRING_MAX];

        unsetenv("STATE_DIRECTORY");
        ASSERT_OK(load(&c, ""));
        ASSERT_STREQ(c.bind_address, "127.0.0.1:17670");
        ASSERT_FALSE(c.disable_tls);
        ASSERT_STREQ(c.state_dir, "/var/lib/openshell");
        ASSERT_STREQ(c.tls_dir, "/var/lib/openshell/tls");
        ASSERT_EQ(c.limits.connections_max, GATEWAY_CONNECTIONS_MAX_DEFAULT);
        ASSERT_OK(gateway_config_listen_set(&c, &s));
        ASSERT_EQ(s.n, 2);
        ASSERT_STREQ(listen_address_format(&s.items[0].address, buf, sizeof(buf)), "127.0.0.1:17670");
        ASSERT_EQ(s.items[0].role, LISTEN_ROLE_API);
        ASSERT_STREQ(listen_address_format(&s.items[1].address, buf, sizeof(buf)), "10.214.0.1:17671");
        ASSERT_EQ(s.items[1].role, LISTEN_ROLE_CALLBACK);
        /* Never the unspecified address by default. */
        for (size_t i = 0; i < s.n; i++)
                ASSERT_FALSE(listen_address_is_unspecified(&s.items[i].address));
        gateway_config_done(&c);
}

TEST(state_directory_from_systemd) {
        GatewayConfig c;
        setenv("STATE_DIRECTORY", "/var/lib/openshell:/var/lib/other", 1);
        ASSERT_OK(load(&c, ""));
        ASSERT_STREQ(c.state_dir, "/var/lib/openshell");
        gateway_config_done(&c);
        unsetenv("STATE_DIRECTORY");
}

TEST(full_file) {
        GatewayConfig c;
        ListenSet s;
        ASSERT_OK(load(&c, "[Gateway]\nBindAddress=127.0.0.1:7000\nExtraBindAddress=[::1]:7000\n"
                           "ExtraBindAddress=127.0.0.1:7000\nCallbackAddress=\nCallbackAddress=10.88.0.1:7001\n"
                           "DisableTLS=yes\nTLSDir=/etc/openshell/tls\nStateDirectory=/srv/os\nIdleTimeoutSec=0\n"
                           "[Limits]\nMaxConnections=10\nMaxHeaderBytes=8K\nMaxBodyBytes=2M\n"
                           "HandshakeTimeoutSec=2s\nMaxWatchTimeoutSec=1h\n"));
        ASSERT_TRUE(c.disable_tls);
        ASSERT_STREQ(c.tls_dir, "/etc/openshell/tls");
        ASSERT_STREQ(c.state_dir, "/srv/os");
        ASSERT_EQ(c.idle_timeout_usec, 0);
        ASSERT_EQ(c.limits.connections_max, 10);
        ASSERT_EQ(c.limits.header_bytes_max, 8192);
        ASSERT_EQ(c.limits.body_bytes_max, 2 * 1024 * 1024);
        ASSERT_EQ(c.limits.handshake_timeout_usec, 2 * USEC_PER_SEC);
        /* capped */
        ASSERT_EQ(c.limits.watch_timeout_usec, GATEWAY_WATCH_TIMEOUT_USEC_MAX);
        ASSERT_EQ(strv_length(c.callback_addresses), 1);
        ASSERT_OK(gateway_config_listen_set(&c, &s));
        ASSERT_EQ(s.n, 3);
        gateway_config_done(&c);
}

TEST(bad_listener_is_fatal) {
        GatewayConfig c;
        ASSERT_ERROR(load(&c, "[Gateway]\nExtraBindAddress=host.containers.internal:1\n"), EINVAL);
        gateway_config_done(&c);
        ASSERT_ERROR(load(&c, "[Gateway]\nBindAddress=::1:17670\n"), EINVAL);
        gateway_config_done(&c);
        ASSERT_ERROR(load(&c, "[Gateway]\nDisableTLS=sometimes\n"), EINVAL);
        gateway_config_done(&c);
        ASSERT_ERROR(load(&c, "[Gateway]\nTLSDir=tls\n"), EINVAL);
        gateway_config_done(&c);
        ASSERT_ERROR(load(&c, "[Gateway]\nCallbackEndpoint=grpc://x:1\n"), EINVAL);
        gateway_config_done(&c);
        ASSERT_ERROR(load(&c, "[Gateway]\nCallbackEndpoint=https://x:1/%n\n"), EINVAL);
        gateway_config_done(&c);
        ASSERT_OK(load(&c, "[Gateway]\nCallbackEndpoint=https://host.containers.internal:17671\n"));
        ASSERT_STREQ(c.callback_endpoint, "https://host.containers.internal:17671");
        gateway_config_done(&c);
}

TEST(bad_limit_falls_back) {
        GatewayConfig c;
        ASSERT_OK(load(&c, "[Limits]\nMaxConnections=many\nMaxHeaderBytes=12\n[Gateway]\nFoo=bar\n"));
        ASSERT_EQ(c.limits.connections_max, GATEWAY_CONNECTIONS_MAX_DEFAULT);
        ASSERT_EQ(c.limits.header_bytes_max, GATEWAY_HEADER_BYTES_MAX_DEFAULT);
        gateway_config_done(&c);
}

TEST(listen_set_errors) {
        GatewayConfig c;
        ListenSet s;
        ASSERT_OK(load(&c, "[Gateway]\nBindAddress=0.0.0.0:17670\nCallbackAddress=10.214.0.1:17670\n"));
        ASSERT_ERROR(gateway_config_listen_set(&c, &s), EADDRINUSE);
        gateway_config_done(&c);
        ASSERT_OK(load(&c, "[Gateway]\nBindAddress=\n"));
        ASSERT_ERROR(gateway_config_listen_set(&c, &s), ENOENT);
        gateway_config_done(&c);
        ASSERT_OK(load(&c, "[Gateway]\nBindAddress=\nExtraBindAddress=127.0.0.1:1\n"));
        ASSERT_OK(gateway_config_listen_set(&c, &s));
        gateway_config_done(&c);
}

TEST(user_paths) {
        _cleanup_free_ char *p = NULL;
        GatewayConfig c;

        setenv("XDG_CONFIG_HOME", "/home/u/.cfg", 1);
        ASSERT_OK(gateway_config_default_path(true, &p));
        ASSERT_STREQ(p, "/home/u/.cfg/openshell/gateway.conf");
        p = mfree(p);
        unsetenv("XDG_CONFIG_HOME");
        setenv("HOME", "/home/u", 1);
        ASSERT_OK(gateway_config_default_path(true, &p));
        ASSERT_STREQ(p, "/home/u/.config/openshell/gateway.conf");
        unsetenv("STATE_DIRECTORY");
        unsetenv("XDG_STATE_HOME");
        ASSERT_OK(gateway_config_init(&c, true));
        ASSERT_STREQ(c.state_dir, "/home/u/.local/state/openshell");
        gateway_config_done(&c);
}

TEST(user_callback_default_runtime_dir) {
        GatewayConfig c;
        ListenSet s;
        char buf[LISTEN_ADDRESS_STRING_MAX];

        setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
        setenv("HOME", "/home/u", 1);
        ASSERT_OK(gateway_config_init(&c, true));
        ASSERT_EQ(strv_length(c.callback_addresses), 1);
        ASSERT_STREQ(c.callback_addresses[0], "/run/user/4242/openshell/callback/gateway.sock");
        ASSERT_OK(gateway_config_listen_set(&c, &s));
        ASSERT_EQ(s.n, 2);
        ASSERT_EQ(s.items[1].role, LISTEN_ROLE_CALLBACK);
        ASSERT_TRUE(listen_address_is_unix(&s.items[1].address));
        ASSERT_STREQ(listen_address_format(&s.items[1].address, buf, sizeof(buf)),
                     "/run/user/4242/openshell/callback/gateway.sock");
        gateway_config_done(&c);
        /* the system default stays TCP on the bridge, whatever the environment says */
        ASSERT_OK(gateway_config_init(&c, false));
        ASSERT_STREQ(c.callback_addresses[0], GATEWAY_CALLBACK_ADDRESS_DEFAULT);
        gateway_config_done(&c);
        unsetenv("XDG_RUNTIME_DIR");
}

TEST(user_callback_default_without_runtime_dir) {
        _cleanup_free_ char *expected = NULL;
        GatewayConfig c;
        const char *unusable[] = { NULL, "", "relative/run", "/run/user//1" };

        expected = asprintf_safe("/run/user/%u/openshell/callback/gateway.sock", (unsigned) getuid());
        ASSERT_NOT_NULL(expected);
        setenv("HOME", "/home/u", 1);
        for (size_t i = 0; i < ELEMENTSOF(unusable); i++) {
                if (unusable[i])
                        setenv("XDG_RUNTIME_DIR", unusable[i], 1);
                else
                        unsetenv("XDG_RUNTIME_DIR");
                ASSERT_OK(gateway_config_init(&c, true));
                ASSERT_STREQ(c.callback_addresses[0], expected);
                gateway_config_done(&c);
        }
}

TEST(user_callback_default_replaced) {
        _cleanup_free_ char *p = write_conf("[Gateway]\nCallbackAddress=\nCallbackAddress=127.0.0.1:17699\n");
        GatewayConfig c;

        ASSERT_NOT_NULL(p);
        setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
        ASSERT_OK(gateway_config_init(&c, true));
        ASSERT_OK(gateway_config_load(&c, p));
        ASSERT_EQ(strv_length(c.callback_addresses), 1);
        ASSERT_STREQ(c.callback_addresses[0], "127.0.0.1:17699");
        gateway_config_done(&c);
        cleanup_conf(p);
        unsetenv("XDG_RUNTIME_DIR");
}

TEST(user_callback_default_unusable_path) {
        _cleanup_free_ char *longdir = NULL;
        GatewayConfig c;
        ListenSet s;

        /* a runtime directory whose socket path would not fit sun_path: reported by the listener set */
        longdir = strjoin("/run/", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        ASSERT_NOT_NULL(longdir);
        setenv("XDG_RUNTIME_DIR", longdir, 1);
        ASSERT_OK(gateway_config_init(&c, true));
        ASSERT_ERROR(gateway_config_listen_set(&c, &s), EINVAL);
        gateway_config_done(&c);
        unsetenv("XDG_RUNTIME_DIR");
}

TEST(unix_listeners_in_config) {
        GatewayConfig c;
        ListenSet s;

        ASSERT_OK(load(&c, "[Gateway]\nBindAddress=/run/openshell/api.sock\nExtraBindAddress=127.0.0.1:17670\n"
                           "CallbackAddress=\nCallbackAddress=/run/openshell/callback/gateway.sock\n"
                           "CallbackAddress=10.214.0.1:17671\n"));
        ASSERT_STREQ(c.bind_address, "/run/openshell/api.sock");
        ASSERT_OK(gateway_config_listen_set(&c, &s));
        ASSERT_EQ(s.n, 4);
        ASSERT_TRUE(listen_address_is_unix(&s.items[0].address));
        ASSERT_EQ(s.items[2].role, LISTEN_ROLE_CALLBACK);
        ASSERT_TRUE(listen_address_is_unix(&s.items[2].address));
        gateway_config_done(&c);
        /* bad paths are fatal, like any bad listener */
        ASSERT_ERROR(load(&c, "[Gateway]\nCallbackAddress=run/gw.sock\n"), EINVAL);
        gateway_config_done(&c);
        ASSERT_ERROR(load(&c, "[Gateway]\nCallbackAddress=/run/gw%t.sock\n"), EINVAL);
        gateway_config_done(&c);
        ASSERT_ERROR(load(&c, "[Gateway]\nBindAddress=/gateway.sock\n"), EINVAL);
        gateway_config_done(&c);
        /* one path in both roles */
        ASSERT_OK(load(&c, "[Gateway]\nBindAddress=/run/os/gw.sock\nCallbackAddress=/run/os/gw.sock\n"));
        ASSERT_ERROR(gateway_config_listen_set(&c, &s), EADDRINUSE);
        gateway_config_done(&c);
}

DEFINE_TEST_MAIN();
