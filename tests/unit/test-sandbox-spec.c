/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "alloc-util.h"
#include "sandbox-spec.h"
#include "string-util.h"
#include "tests.h"

#define MIN_FIELDS "\"name\":\"demo\",\"image\":\"localhost/agent:latest\",\"policy\":\"/etc/openshell/policies/demo.json\""

static int parse(const char *json, SandboxSpec **ret, char **ret_error) {
        return sandbox_spec_from_json(json, strlen(json), ret, ret_error);
}

TEST(minimal) {
        _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL;
        _cleanup_free_ char *error = NULL;
        ASSERT_OK(parse("{" MIN_FIELDS "}", &s, &error));
        ASSERT_STREQ(s->name, "demo");
        ASSERT_STREQ(s->image, "localhost/agent:latest");
        ASSERT_NULL(s->command);
        ASSERT_FALSE(s->has_subnet);
        ASSERT_NULL(s->tls_ca);
        ASSERT_NULL(error);
}

TEST(full) {
        _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL;
        _cleanup_free_ char *error = NULL;
        const char *j = "{" MIN_FIELDS ",\"command\":[\"sh\",\"-c\",\"echo hi; sleep infinity\"],"
                        "\"env\":{\"ZED\":\"last\",\"A_B\":\"it's \\\"quoted\\\" 100%\"},"
                        "\"resources\":{\"cpus\":1.5,\"memory\":\"2G\",\"pids\":512},"
                        "\"mounts\":[{\"type\":\"volume\",\"source\":\"work\",\"target\":\"/work\",\"readonly\":false},"
                        "{\"type\":\"bind\",\"source\":\"/srv/data\",\"target\":\"/data\"},"
                        "{\"type\":\"tmpfs\",\"target\":\"/scratch\",\"readonly\":false}],"
                        "\"userns\":\"auto\",\"labels\":{\"team\":\"ml\"},"
                        "\"tls\":{\"ca\":\"/etc/pki/ca.crt\",\"cert\":\"/etc/pki/tls.crt\",\"key\":\"/etc/pki/tls.key\"},"
                        "\"gateway\":\"https://host.containers.internal:17671/\",\"subnet\":\"10.213.1.32/28\"}";
        ASSERT_OK(parse(j, &s, &error));
        ASSERT_EQ(strv_length(s->command), 3);
        ASSERT_EQ(s->n_env, 2);
        ASSERT_STREQ(s->env[0].key, "A_B"); /* sorted */
        ASSERT_STREQ(sandbox_spec_get_env(s, "ZED"), "last");
        ASSERT_EQ(s->cpus_milli, 1500);
        ASSERT_EQ(s->memory, 2ULL * 1024 * 1024 * 1024);
        ASSERT_EQ(s->pids, 512);
        ASSERT_EQ(s->n_mounts, 3);
        ASSERT_FALSE(s->mounts[0].readonly);
        ASSERT_TRUE(s->mounts[1].readonly); /* default */
        ASSERT_NULL(s->mounts[2].source);
        ASSERT_STREQ(s->gateway, "https://host.containers.internal:17671");
        ASSERT_STREQ(s->gateway_host, "host.containers.internal");
        ASSERT_EQ(s->gateway_port, 17671);
        ASSERT_TRUE(s->gateway_https);
        ASSERT_TRUE(s->has_subnet);
        ASSERT_EQ(s->subnet_slot, 1 * 16 + 2);
}

TEST(gateway_forms) {
        static const struct {
                const char *url, *host;
                uint16_t port;
        } good[] = {
                { "http://10.214.0.1:17671", "10.214.0.1", 17671 },
                { "http://[fd00::1]:80", "[fd00::1]", 80 },
                { "http://a-b.c:1", "a-b.c", 1 },
                /* No port: the scheme's default, as in any URL. */
                { "http://gw.internal", "gw.internal", 80 },
                { "http://gw.internal/", "gw.internal", 80 },
                { "http://[fd00::1]", "[fd00::1]", 80 },
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL;
                _cleanup_free_ char *j = NULL, *error = NULL;
                ASSERT_NOT_NULL(j = asprintf_safe("{" MIN_FIELDS ",\"gateway\":\"%s\"}", good[i].url));
                ASSERT_OK(parse(j, &s, &error));
                ASSERT_STREQ(s->gateway_host, good[i].host);
                ASSERT_EQ(s->gateway_port, good[i].port);
                ASSERT_FALSE(s->gateway_https);
        }
}

#define TLS_FIELDS "\"tls\":{\"ca\":\"/etc/pki/ca.crt\",\"cert\":\"/etc/pki/tls.crt\",\"key\":\"/etc/pki/tls.key\"}"

TEST(gateway_socket) {
        _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL, *again = NULL;
        _cleanup_free_ char *error = NULL, *json = NULL;
        const char *j = "{" MIN_FIELDS "," TLS_FIELDS ",\"gateway\":\"https://host.openshell.internal\","
                        "\"gateway_socket\":\"/run/user/1000/openshell/callback/gateway.sock\"}";

        ASSERT_OK(parse(j, &s, &error));
        ASSERT_STREQ(s->gateway, "https://host.openshell.internal");
        ASSERT_STREQ(s->gateway_host, "host.openshell.internal");
        ASSERT_EQ(s->gateway_port, 443);
        ASSERT_TRUE(s->gateway_https);
        ASSERT_STREQ(s->gateway_socket, "/run/user/1000/openshell/callback/gateway.sock");
        /* Serialized right after the gateway, and read back the same. */
        ASSERT_OK(sandbox_spec_to_json(s, &json));
        ASSERT_CONTAINS(json, "\"gateway\":\t\"https://host.openshell.internal\",\n\t\"gateway_socket\":\t"
                              "\"/run/user/1000/openshell/callback/gateway.sock\"");
        ASSERT_OK(parse(json, &again, &error));
        ASSERT_STREQ(again->gateway_socket, s->gateway_socket);
}

TEST(gateway_socket_lengths) {
        char path[SANDBOX_SOCKET_PATH_MAX + 2], name[SANDBOX_GATEWAY_SOCKET_NAME_MAX + 2];
        struct {
                size_t dir_len, name_len;
                bool ok;
        } cases[] = {
                { SANDBOX_SOCKET_PATH_MAX - 1 - SANDBOX_GATEWAY_SOCKET_NAME_MAX, SANDBOX_GATEWAY_SOCKET_NAME_MAX, true },
                { SANDBOX_SOCKET_PATH_MAX - SANDBOX_GATEWAY_SOCKET_NAME_MAX, SANDBOX_GATEWAY_SOCKET_NAME_MAX, false },
                { 3, SANDBOX_GATEWAY_SOCKET_NAME_MAX + 1, false },
                { 100, 6, true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL;
                _cleanup_free_ char *j = NULL, *error = NULL;

                /* "/ddd...d/nnn...n" */
                memset(path, 'd', cases[i].dir_len);
                path[0] = '/';
                memset(name, 'n', cases[i].name_len);
                name[cases[i].name_len] = 0;
                snprintf(path + cases[i].dir_len, sizeof(path) - cases[i].dir_len, "/%s", name);
                ASSERT_NOT_NULL(j = asprintf_safe("{" MIN_FIELDS ",\"gateway\":\"http://gw\",\"gateway_socket\":\"%s\"}",
                                                  path));
                if (cases[i].ok) {
                        ASSERT_OK(parse(j, &s, &error));
                        ASSERT_EQ(strlen(s->gateway_socket), cases[i].dir_len + 1 + cases[i].name_len);
                } else {
                        ASSERT_ERROR(parse(j, &s, &error), EINVAL);
                        ASSERT_CONTAINS(error, strlen(path) > SANDBOX_SOCKET_PATH_MAX ? "longer than 107 bytes"
                                                                                      : "longer than 84 bytes");
                }
        }
}

#define GW_SOCKET "{" MIN_FIELDS ",\"gateway\":\"http://gw\",\"gateway_socket\":"

/* Each bad spec and a fragment its error message must contain. */
static const struct {
        const char *json;
        const char *message;
} bad[] = {
        { "[]", "must be a JSON object" },
        { "{\"name\":", "not valid JSON (line 1" },
        { "{\"image\":\"x\",\"policy\":\"/p\"}", "name: missing" },
        { "{\"name\":\"demo\",\"policy\":\"/p\"}", "image: missing" },
        { "{\"name\":\"demo\",\"image\":\"x\"}", "policy: missing" },
        { "{" MIN_FIELDS ",\"bogus\":1}", "unknown key 'bogus'" },
        { "{" MIN_FIELDS ",\"name\":\"again\"}", "name: duplicate key" },
        { "{\"name\":\"Demo\",\"image\":\"x\",\"policy\":\"/p\"}", "name: 'Demo' is not a DNS label" },
        { "{\"name\":\"-demo\",\"image\":\"x\",\"policy\":\"/p\"}", "is not a DNS label" },
        { "{\"name\":\"demo-\",\"image\":\"x\",\"policy\":\"/p\"}", "is not a DNS label" },
        { "{\"name\":\"a.b\",\"image\":\"x\",\"policy\":\"/p\"}", "is not a DNS label" },
        { "{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"image\":\"x\",\"policy\":\"/p\"}",
          "is not a DNS label" },
        { "{\"name\":7,\"image\":\"x\",\"policy\":\"/p\"}", "name: expected a string, got number" },
        { "{\"name\":\"demo\",\"image\":\"bad image\",\"policy\":\"/p\"}", "image: 'bad image' contains whitespace" },
        { "{\"name\":\"demo\",\"image\":\"x\\ny\",\"policy\":\"/p\"}", "image: value contains a newline" },
        { "{\"name\":\"demo\",\"image\":\"-v\",\"policy\":\"/p\"}", "must start with a letter or digit" },
        { "{\"name\":\"demo\",\"image\":\"agent.image\",\"policy\":\"/p\"}", "must not end in '.image'" },
        { "{\"name\":\"demo\",\"image\":\"x;rm\",\"policy\":\"/p\"}", "contains ';'" },
        { "{\"name\":\"demo\",\"image\":\"x\",\"policy\":\"relative/p\"}", "policy: 'relative/p' is not an absolute path" },
        { "{\"name\":\"demo\",\"image\":\"x\",\"policy\":\"/etc/../p\"}", "policy: '/etc/../p' is not normalized" },
        { "{\"name\":\"demo\",\"image\":\"x\",\"policy\":\"/p dir/x\"}", "contains ' '" },
        { "{\"name\":\"demo\",\"image\":\"x\",\"policy\":\"/p%n\"}", "contains '%'" },
        { "{" MIN_FIELDS ",\"command\":\"sh\"}", "command: expected an array of strings" },
        { "{" MIN_FIELDS ",\"command\":[]}", "command: must not be empty" },
        { "{" MIN_FIELDS ",\"command\":[\"sh\",\"\"]}", "command[1]: empty arguments" },
        { "{" MIN_FIELDS ",\"command\":[\"sh\",1]}", "command[1]: expected a string, got number" },
        { "{" MIN_FIELDS ",\"command\":[\"echo\",\";\"]}", "command[1]: a lone ';'" },
        { "{" MIN_FIELDS ",\"command\":[\"a\\nExecStartPre=/evil\"]}", "command[0]: value contains a newline" },
        { "{" MIN_FIELDS ",\"env\":{\"FOO\":\"a\\nb\"}}", "env.FOO: value contains a newline" },
        { "{" MIN_FIELDS ",\"env\":{\"FOO\":\"a\\u0007b\"}}", "env.FOO: value contains a control character" },
        { "{" MIN_FIELDS ",\"env\":{\"1FOO\":\"x\"}}", "env.1FOO: not a valid variable name" },
        { "{" MIN_FIELDS ",\"env\":{\"FO-O\":\"x\"}}", "env.FO-O: not a valid variable name" },
        { "{" MIN_FIELDS ",\"env\":{\"HTTP_PROXY\":\"x\"}}", "env.HTTP_PROXY: reserved" },
        { "{" MIN_FIELDS ",\"env\":{\"https_proxy\":\"x\"}}", "env.https_proxy: reserved" },
        { "{" MIN_FIELDS ",\"env\":{\"SSL_CERT_FILE\":\"x\"}}", "env.SSL_CERT_FILE: reserved" },
        { "{" MIN_FIELDS ",\"env\":{\"OPENSHELL_ENDPOINT\":\"x\"}}", "env.OPENSHELL_ENDPOINT: reserved" },
        { "{" MIN_FIELDS ",\"env\":{\"A\":1}}", "env.A: expected a string, got number" },
        { "{" MIN_FIELDS ",\"env\":{\"A\":\"x\",\"A\":\"y\"}}", "env.A: duplicate key" },
        { "{" MIN_FIELDS ",\"env\":[]}", "env: expected an object, got array" },
        { "{" MIN_FIELDS ",\"resources\":{\"cpus\":0}}", "resources.cpus: must be greater than 0" },
        { "{" MIN_FIELDS ",\"resources\":{\"cpus\":-1}}", "resources.cpus: must be greater than 0" },
        { "{" MIN_FIELDS ",\"resources\":{\"cpus\":\"2\"}}", "resources.cpus: expected a number" },
        { "{" MIN_FIELDS ",\"resources\":{\"cpus\":100000}}", "resources.cpus: at most" },
        { "{" MIN_FIELDS ",\"resources\":{\"memory\":\"lots\"}}", "resources.memory: 'lots' is not a size" },
        { "{" MIN_FIELDS ",\"resources\":{\"memory\":1024}}", "resources.memory: at least 6M" },
        { "{" MIN_FIELDS ",\"resources\":{\"memory\":1.5}}", "resources.memory: expected a size string" },
        { "{" MIN_FIELDS ",\"resources\":{\"pids\":0}}", "resources.pids: must be between 1" },
        { "{" MIN_FIELDS ",\"resources\":{\"pids\":2.5}}", "resources.pids: expected a positive integer" },
        { "{" MIN_FIELDS ",\"resources\":{\"disk\":1}}", "resources: unknown key 'disk'" },
        { "{" MIN_FIELDS ",\"mounts\":{}}", "mounts: expected an array" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"source\":\"/a\",\"target\":\"/b\"}]}", "mounts[0].type: missing" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"nfs\",\"source\":\"/a\",\"target\":\"/b\"}]}",
          "mounts[0].type: 'nfs' is not volume, bind or tmpfs" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"bind\",\"target\":\"/b\"}]}", "mounts[0].source: missing" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"tmpfs\",\"source\":\"x\",\"target\":\"/b\"}]}",
          "mounts[0].source: tmpfs mounts have no source" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"bind\",\"source\":\"/a\",\"target\":\"/etc/openshell\"}]}",
          "mounts[0].target: '/etc/openshell' is reserved" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"bind\",\"source\":\"/a\",\"target\":\"/etc/openshell-tls\"}]}",
          "is reserved" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"bind\",\"source\":\"/a\",\"target\":\"/etc/openshell/tls/client/x\"}]}",
          "is reserved" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"bind\",\"source\":\"/a\",\"target\":\"/opt/openshell/bin\"}]}",
          "is reserved" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"tmpfs\",\"target\":\"/\"}]}", "'/' is reserved" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"bind\",\"source\":\"/a,ro=false\",\"target\":\"/b\"}]}",
          "mounts[0].source: '/a,ro=false' contains ','" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"volume\",\"source\":\"openshell-tls-demo\",\"target\":\"/b\"}]}",
          "volume names starting with 'openshell-' are reserved" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"volume\",\"source\":\"/abs\",\"target\":\"/b\"}]}",
          "volume names must start with a letter or digit" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"volume\",\"source\":\"a:b\",\"target\":\"/b\"}]}",
          "is not a volume name" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"tmpfs\",\"target\":\"/b\",\"readonly\":\"no\"}]}",
          "mounts[0].readonly: expected true or false" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"tmpfs\",\"target\":\"/b\"},{\"type\":\"tmpfs\",\"target\":\"/b\"}]}",
          "mounts[1].target: '/b' is already the target of mounts[0]" },
        { "{" MIN_FIELDS ",\"mounts\":[{\"type\":\"tmpfs\",\"target\":\"/b\",\"options\":\"x\"}]}",
          "mounts[0]: unknown key 'options'" },
        { "{" MIN_FIELDS ",\"userns\":\"container:other\"}", "userns: 'container:other' is not one of" },
        { "{" MIN_FIELDS ",\"labels\":{\"openshell.role\":\"x\"}}", "labels.openshell.role: the openshell." },
        { "{" MIN_FIELDS ",\"labels\":{\"a b\":\"x\"}}", "labels.a b: label keys may contain" },
        { "{" MIN_FIELDS ",\"labels\":{\"k\":\"v\\r\\nX=1\"}}", "labels.k: value contains a newline" },
        { "{" MIN_FIELDS ",\"tls\":{\"ca\":\"/a\",\"cert\":\"/b\"}}", "tls: partial configuration, 'key' is missing" },
        { "{" MIN_FIELDS ",\"tls\":{}}", "tls: partial configuration, 'ca' is missing" },
        { "{" MIN_FIELDS ",\"tls\":{\"ca\":\"/a\",\"cert\":\"/b\",\"key\":\"/c\",\"agent_cert\":\"/d\"}}", "tls: agent_cert and agent_key go together" },
        { "{" MIN_FIELDS ",\"tls\":{\"ca\":\"/a\",\"cert\":\"/b\",\"key\":\"/c\",\"agent_cert\":\"/d\",\"agent_key\":\"e\"}}", "tls.agent_key" },
        { "{" MIN_FIELDS ",\"tls\":{\"ca\":\"/a\",\"cert\":\"/b\",\"key\":\"/c\",\"pass\":\"x\"}}",
          "tls: unknown key 'pass'" },
        { "{" MIN_FIELDS ",\"tls\":{\"ca\":\"a\",\"cert\":\"/b\",\"key\":\"/c\"}}", "tls.ca: 'a' is not an absolute path" },
        { "{" MIN_FIELDS ",\"gateway\":\"ftp://x:1\"}", "gateway: 'ftp://x:1' must start with http:// or https://" },
        { "{" MIN_FIELDS ",\"gateway\":\"http://x:\"}", "gateway: '' is not a port" },
        { "{" MIN_FIELDS ",\"gateway\":\"http://[::1]x\"}", "'[::1]x' is not a valid host name" },
        { "{" MIN_FIELDS ",\"gateway\":\"http://x:0\"}", "gateway: '0' is not a port" },
        { "{" MIN_FIELDS ",\"gateway\":\"http://x:80/api\"}", "without a path" },
        { "{" MIN_FIELDS ",\"gateway\":\"http://bad_host:80\"}", "'bad_host' is not a valid host name" },
        { "{" MIN_FIELDS ",\"gateway\":\"http://[::1:80\"}", "unterminated IPv6 address" },
        { "{" MIN_FIELDS ",\"gateway\":\"http://[nothex]:80\"}", "'[nothex]' is not a valid host name" },
        /* A label may not start or end with '-' (fuzz-sandbox-spec found the check's pointer arithmetic UB). */
        { "{" MIN_FIELDS ",\"gateway\":\"http://gw.-a:80\"}", "'gw.-a' is not a valid host name" },
        { "{" MIN_FIELDS ",\"gateway\":\"http://-gw:80\"}", "'-gw' is not a valid host name" },
        { "{" MIN_FIELDS ",\"gateway\":\"http://gw-.a:80\"}", "'gw-.a' is not a valid host name" },
        { "{" MIN_FIELDS ",\"gateway\":\"https://gw:443\"}", "gateway: https:// requires tls" },
        { "{" MIN_FIELDS ",\"gateway_socket\":\"/run/gw/gateway.sock\"}", "gateway_socket: requires gateway" },
        { GW_SOCKET "1}", "gateway_socket: expected a string, got number" },
        { GW_SOCKET "\"\"}", "gateway_socket: must not be empty" },
        { GW_SOCKET "\"run/gateway.sock\"}", "gateway_socket: 'run/gateway.sock' is not an absolute path" },
        { GW_SOCKET "\"/run/gw/a b.sock\"}", "gateway_socket: '/run/gw/a b.sock' contains ' '" },
        { GW_SOCKET "\"/run/gw/a:b.sock\"}", "contains ':'; socket paths may contain letters, digits and /._-" },
        { GW_SOCKET "\"/run/gw/a,ro\"}", "contains ','" },
        { GW_SOCKET "\"/run/gw/%t.sock\"}", "contains '%'" },
        { GW_SOCKET "\"/run/gw/a+b@c\"}", "contains '+'" },
        { GW_SOCKET "\"/run/gw/a\\nb\"}", "gateway_socket: value contains a newline" },
        { GW_SOCKET "\"/run/../gw.sock\"}", "gateway_socket: '/run/../gw.sock' is not normalized" },
        { GW_SOCKET "\"/run//gw.sock\"}", "is not normalized" },
        { GW_SOCKET "\"/run/gw/\"}", "is not normalized" },
        { GW_SOCKET "\"/\"}", "gateway_socket: '/' is not a socket path" },
        { GW_SOCKET "\"/gateway.sock\"}", "gateway_socket: '/gateway.sock' is directly in '/'" },
        { "{" MIN_FIELDS ",\"gateway\":\"http://gw:80\",\"tls\":{\"ca\":\"/a\",\"cert\":\"/b\",\"key\":\"/c\"}}",
          "gateway: must be https:// when tls is set" },
        { "{" MIN_FIELDS ",\"subnet\":\"10.213.0.8/28\"}", "subnet: '10.213.0.8/28' is not a /28" },
        { "{" MIN_FIELDS ",\"subnet\":\"10.214.0.0/28\"}", "is not a /28 inside 10.213.0.0/16" },
        { "{" MIN_FIELDS ",\"subnet\":\"10.213.0.0/24\"}", "is not a /28" },
        { "{" MIN_FIELDS ",\"env\":{\"X\":\"\xff\"}}", "env.X: value is not valid UTF-8" },
};

TEST(validation_table) {
        ASSERT_LE(30, ELEMENTSOF(bad));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL;
                _cleanup_free_ char *error = NULL;
                int r = parse(bad[i].json, &s, &error);
                if (r != -EINVAL || s)
                        TEST_FAIL_AT("bad[%zu] was accepted: %s", i, bad[i].json);
                if (!error || !strstr(error, bad[i].message))
                        TEST_FAIL_AT("bad[%zu]: message \"%s\" lacks \"%s\"", i, error ?: "(null)", bad[i].message);
        }
}

TEST(invalid_utf8_value) {
        /* cJSON accepts raw bytes in strings; the validator must not. */
        _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL;
        _cleanup_free_ char *error = NULL;
        const char j[] = "{" MIN_FIELDS ",\"env\":{\"X\":\"a\xc3(\"}}";
        ASSERT_ERROR(parse(j, &s, &error), EINVAL);
        ASSERT_CONTAINS(error, "env.X: value is not valid UTF-8");
}

TEST(size_caps) {
        _cleanup_free_ char *big = malloc(SANDBOX_ENV_VALUE_MAX + 2), *j = NULL, *error = NULL;
        _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL;

        ASSERT_NOT_NULL(big);
        memset(big, 'v', SANDBOX_ENV_VALUE_MAX + 1);
        big[SANDBOX_ENV_VALUE_MAX + 1] = 0;
        ASSERT_NOT_NULL(j = asprintf_safe("{" MIN_FIELDS ",\"env\":{\"BIG\":\"%s\"}}", big));
        ASSERT_ERROR(parse(j, &s, &error), EINVAL);
        ASSERT_CONTAINS(error, "env.BIG: longer than 4096 bytes");

        /* The whole file is capped too. */
        _cleanup_free_ char *huge = malloc(SANDBOX_SPEC_FILE_MAX + 2);
        _cleanup_free_ char *error2 = NULL;
        ASSERT_NOT_NULL(huge);
        memset(huge, ' ', SANDBOX_SPEC_FILE_MAX + 1);
        huge[SANDBOX_SPEC_FILE_MAX + 1] = 0;
        ASSERT_ERROR(sandbox_spec_from_json(huge, SANDBOX_SPEC_FILE_MAX + 1, &s, &error2), EINVAL);
        ASSERT_CONTAINS(error2, "larger than");
}

TEST(too_many_args) {
        _cleanup_free_ char *error = NULL;
        _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL;
        char buf[SANDBOX_COMMAND_ARGS_MAX * 4 + 256];
        size_t n = (size_t) snprintf(buf, sizeof(buf), "{" MIN_FIELDS ",\"command\":[");
        for (unsigned i = 0; i <= SANDBOX_COMMAND_ARGS_MAX; i++)
                n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s\"a\"", i ? "," : "");
        snprintf(buf + n, sizeof(buf) - n, "]}");
        ASSERT_ERROR(parse(buf, &s, &error), EINVAL);
        ASSERT_CONTAINS(error, "command: more than 128 arguments");
}

TEST(error_message_is_printable) {
        /* A bad key with a control character must not carry it into the log line. */
        _cleanup_free_ char *error = NULL;
        _cleanup_(sandbox_spec_freep) SandboxSpec *s = NULL;
        ASSERT_ERROR(parse("{" MIN_FIELDS ",\"env\":{\"A\\nB\":\"x\"}}", &s, &error), EINVAL);
        ASSERT_CONTAINS(error, "env.A?B: not a valid variable name");
        ASSERT_NOT_CONTAINS(error, "\n");
}

TEST(roundtrip) {
        _cleanup_(sandbox_spec_freep) SandboxSpec *a = NULL, *b = NULL;
        _cleanup_free_ char *ja = NULL, *jb = NULL, *error = NULL;
        const char *j = "{" MIN_FIELDS ",\"command\":[\"sleep\",\"1\"],\"env\":{\"B\":\"2\",\"A\":\"1\"},"
                        "\"resources\":{\"cpus\":0.25,\"memory\":\"512M\",\"pids\":64},"
                        "\"mounts\":[{\"type\":\"tmpfs\",\"target\":\"/t\",\"readonly\":false}],"
                        "\"labels\":{\"x\":\"y\"},\"gateway\":\"http://10.214.0.1:17671\"}";
        ASSERT_OK(parse(j, &a, &error));
        a->has_subnet = true;
        a->subnet_slot = 4095;
        ASSERT_OK(sandbox_spec_to_json(a, &ja));
        ASSERT_CONTAINS(ja, "\"subnet\":\t\"10.213.255.240/28\"");
        ASSERT_CONTAINS(ja, "\"memory\":\t536870912");
        ASSERT_OK(parse(ja, &b, &error));
        ASSERT_OK(sandbox_spec_to_json(b, &jb));
        ASSERT_STREQ(ja, jb);
        ASSERT_EQ(b->cpus_milli, 250);
        ASSERT_EQ(b->subnet_slot, 4095);
}

TEST(subnets) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        unsigned slot;

        ASSERT_OK(sandbox_subnet_format(0, &a));
        ASSERT_STREQ(a, "10.213.0.0/28");
        ASSERT_OK(sandbox_subnet_format(17, &b));
        ASSERT_STREQ(b, "10.213.1.16/28");
        ASSERT_OK(sandbox_subnet_address(17, 3, &c));
        ASSERT_STREQ(c, "10.213.1.19");
        ASSERT_OK(sandbox_subnet_parse("10.213.255.240/28", &slot));
        ASSERT_EQ(slot, 4095);
        ASSERT_ERROR(sandbox_subnet_parse("10.213.256.0/28", &slot), EINVAL);
        ASSERT_ERROR(sandbox_subnet_parse("10.213.01.0/28", &slot), EINVAL);
        ASSERT_ERROR(sandbox_subnet_parse("10.213.1.0/28x", &slot), EINVAL);
        ASSERT_ERROR(sandbox_subnet_format(4096, &a), EINVAL);
}

TEST(names) {
        ASSERT_TRUE(sandbox_name_is_valid("a"));
        ASSERT_TRUE(sandbox_name_is_valid("demo-1"));
        ASSERT_FALSE(sandbox_name_is_valid(""));
        ASSERT_FALSE(sandbox_name_is_valid("a_b"));
        ASSERT_FALSE(sandbox_name_is_valid("a/b"));
        ASSERT_FALSE(sandbox_name_is_valid("%n"));
}

DEFINE_TEST_MAIN();
