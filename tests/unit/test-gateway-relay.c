/* SPDX-License-Identifier: Apache-2.0 */
/* gateway-relay inside a real gateway Manager (DisableTLS, so no certificates are needed) on socketpairs,
 * one event loop: the upgrade answers, the bridging of a CLI channel onto a supervisor session under the
 * session's own channel id, and what each side learns when the other goes away. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "gateway-config.h"
#include "gateway-manager.h"
#include "gateway-relay.h"
#include "json-util.h"
#include "relay-proto.h"
#include "string-util.h"
#include "tests.h"

typedef struct Env {
        char dir[64];
        sd_event *event;
        GatewayConfig config;
        Manager *manager;
        Store *store;
} Env;

static int env_setup(Env *e) {
        _cleanup_free_ char *state = NULL;
        _cleanup_json_ cJSON *spec = NULL;
        char *err = NULL;
        int r;

        *e = (Env) {};
        strcpy(e->dir, "/tmp/test-gateway-relay-XXXXXX");
        if (!mkdtemp(e->dir))
                return -errno;
        state = strjoin(e->dir, "/state");
        if (!state)
                return -ENOMEM;
        if ((r = sd_event_new(&e->event)) < 0 || (r = gateway_config_init(&e->config, true)) < 0 ||
            (r = store_open(state, &e->store)) < 0 || (r = manager_new(e->event, &e->config, &e->manager)) < 0)
                return r;
        e->manager->api.store = e->store;
        spec = cJSON_Parse("{\"name\":\"demo\",\"image\":\"localhost/agent:latest\",\"policy\":\"/etc/p.json\"}");
        r = store_sandbox_create(e->store, "demo", spec, NULL, &err);
        free(err);
        return r;
}

static void env_done(Env *e) {
        _cleanup_free_ char *cmd = strjoin("rm -rf ", e->dir);

        manager_free(e->manager);
        store_free(e->store);
        gateway_config_done(&e->config);
        sd_event_unref(e->event);
        if (cmd)
                (void) system(cmd);
}

static void pump(Env *e) {
        for (unsigned i = 0; i < 50; i++)
                (void) sd_event_run(e->event, 0);
}

/* A connection to the gateway on role's listener; returns our end. */
static int peer_connect(Env *e, ListenRole role) {
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
                return -errno;
        if (conn_new(e->manager, sv[1], role) < 0)
                return -EIO;
        return sv[0];
}

/* Everything the gateway sent so far (after pumping its loop); -1 for EOF with nothing read. */
static ssize_t peer_read(Env *e, int fd, char *buf, size_t size) {
        size_t n = 0;

        pump(e);
        for (;;) {
                ssize_t k = read(fd, buf + n, size - n);
                if (k > 0) {
                        n += (size_t) k;
                        pump(e);
                        continue;
                }
                if (k == 0 && n == 0)
                        return -1;
                return (ssize_t) n;
        }
}

static void send_request(int fd, const char *method, const char *path, bool upgrade) {
        char req[512];
        int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: gw\r\n%sContent-Length: 0\r\n\r\n", method, path,
                         upgrade ? "Connection: Upgrade\r\nUpgrade: openshell-relay/1\r\n" : "");
        (void) write(fd, req, (size_t) n);
}

static void send_frame(int fd, RelayFrameType type, uint32_t ch, const void *p, size_t n) {
        _cleanup_(relay_buffer_done) RelayBuffer b = {};

        if (relay_buffer_put_frame(&b, type, ch, p, n) >= 0)
                (void) write(fd, relay_buffer_head(&b), relay_buffer_pending(&b));
}

/* Parses the first frame in buf (after an optional HTTP head). */
static int first_frame(const char *buf, size_t n, RelayFrame *f, size_t *ret_used) {
        const char *body = memmem(buf, n, "\r\n\r\n", 4);
        size_t off = body && strncmp(buf, "HTTP/", 5) == 0 ? (size_t) (body + 4 - buf) : 0;
        size_t used;
        int r = relay_frame_parse(buf + off, n - off, f, &used);

        if (ret_used)
                *ret_used = off + used;
        return r;
}

/* One request on a fresh connection to a listener of ROLE; the answer (NUL-terminated) into buf. */
static void request_once(Env *e, ListenRole role, const char *method, const char *path, bool upgrade, char *buf,
                         size_t size) {
        int fd = peer_connect(e, role);
        ssize_t n;

        send_request(fd, method, path, upgrade);
        memset(buf, 0, size);
        n = peer_read(e, fd, buf, size - 1);
        close(fd);
        ASSERT_TRUE(n > 0); /* records the failure; the caller's checks of buf then fail too */
}

TEST(refusals_before_the_upgrade) {
        Env e;
        char buf[4096];

        ASSERT_OK(env_setup(&e));
        request_once(&e, LISTEN_ROLE_API, "POST", "/v1/sandboxes/demo/exec", false, buf, sizeof(buf));
        ASSERT_CONTAINS(buf, "HTTP/1.1 426");
        ASSERT_CONTAINS(buf, "upgrade_required");

        request_once(&e, LISTEN_ROLE_API, "POST", "/v1/sandboxes/demo/exec", true, buf, sizeof(buf));
        ASSERT_CONTAINS(buf, "HTTP/1.1 503");
        ASSERT_CONTAINS(buf, "sandbox_unavailable");

        request_once(&e, LISTEN_ROLE_API, "POST", "/v1/sandboxes/nope/exec", true, buf, sizeof(buf));
        ASSERT_CONTAINS(buf, "HTTP/1.1 404");

        /* exec is not a callback-listener route, whoever asks. */
        request_once(&e, LISTEN_ROLE_CALLBACK, "POST", "/v1/sandboxes/demo/exec", true, buf, sizeof(buf));
        ASSERT_CONTAINS(buf, "HTTP/1.1 403");
        env_done(&e);
}

TEST(bridge_exec_onto_the_session) {
        char buf[4096];
        RelayFrame f;
        uint32_t sid;
        size_t used;
        ssize_t n;
        Env e;
        int s, c;

        ASSERT_OK(env_setup(&e));
        s = peer_connect(&e, LISTEN_ROLE_CALLBACK);
        send_request(s, "GET", "/v1/sandboxes/demo/session", true);
        n = peer_read(&e, s, buf, sizeof(buf));
        ASSERT_TRUE(n > 0);
        ASSERT_TRUE(strncmp(buf, "HTTP/1.1 101 ", 13) == 0);
        ASSERT_TRUE(relay_hub_has_session(e.manager->relay, "demo"));

        /* The CLI's channel 5 becomes some non-zero channel of the session; OPEN arrives verbatim. */
        c = peer_connect(&e, LISTEN_ROLE_API);
        send_request(c, "POST", "/v1/sandboxes/demo/exec", true);
        send_frame(c, RELAY_FRAME_OPEN, 5, "{\"kind\":\"exec\",\"argv\":[\"true\"]}", 31);
        n = peer_read(&e, c, buf, sizeof(buf));
        ASSERT_TRUE(n > 0 && strncmp(buf, "HTTP/1.1 101 ", 13) == 0);
        n = peer_read(&e, s, buf, sizeof(buf));
        ASSERT_EQ(first_frame(buf, (size_t) n, &f, NULL), 1);
        ASSERT_EQ(f.type, RELAY_FRAME_OPEN);
        ASSERT_NE(f.channel, 0);
        ASSERT_EQ(f.size, 31);
        sid = f.channel;

        /* Output and the exit code come back on the CLI's channel; then the CLI connection closes. */
        send_frame(s, RELAY_FRAME_STDOUT, sid, "hi", 2);
        send_frame(s, RELAY_FRAME_STDOUT, sid + 1000, "stray", 5); /* no such channel: dropped */
        uint8_t code[4] = { 0, 0, 0, 3 };
        send_frame(s, RELAY_FRAME_EXIT, sid, code, 4);
        n = peer_read(&e, c, buf, sizeof(buf));
        ASSERT_EQ(first_frame(buf, (size_t) n, &f, &used), 1);
        ASSERT_EQ(f.type, RELAY_FRAME_STDOUT);
        ASSERT_EQ(f.channel, 5);
        ASSERT_TRUE(memcmp(f.payload, "hi", 2) == 0);
        ASSERT_EQ(relay_frame_parse(buf + used, (size_t) n - used, &f, &used), 1);
        ASSERT_EQ(f.type, RELAY_FRAME_EXIT);
        ASSERT_EQ(f.channel, 5);
        ASSERT_EQ(relay_frame_get_u32(&f), 3);
        ASSERT_EQ(peer_read(&e, c, buf, sizeof(buf)), -1);
        close(c);

        /* A CLI that goes away: the session gets CLOSE for its channel. */
        c = peer_connect(&e, LISTEN_ROLE_API);
        send_request(c, "POST", "/v1/sandboxes/demo/exec", true);
        send_frame(c, RELAY_FRAME_OPEN, 1, "{\"kind\":\"exec\",\"argv\":[\"true\"]}", 31);
        (void) peer_read(&e, c, buf, sizeof(buf));
        n = peer_read(&e, s, buf, sizeof(buf));
        ASSERT_EQ(first_frame(buf, (size_t) n, &f, NULL), 1);
        sid = f.channel;
        close(c);
        n = peer_read(&e, s, buf, sizeof(buf));
        ASSERT_EQ(first_frame(buf, (size_t) n, &f, NULL), 1);
        ASSERT_EQ(f.type, RELAY_FRAME_CLOSE);
        ASSERT_EQ(f.channel, sid);

        /* The session goes away: its CLI learns why, then its connection ends. */
        c = peer_connect(&e, LISTEN_ROLE_API);
        send_request(c, "POST", "/v1/sandboxes/demo/exec", true);
        send_frame(c, RELAY_FRAME_OPEN, 1, "{\"kind\":\"exec\",\"argv\":[\"true\"]}", 31);
        (void) peer_read(&e, c, buf, sizeof(buf));
        close(s);
        n = peer_read(&e, c, buf, sizeof(buf));
        ASSERT_EQ(first_frame(buf, (size_t) n, &f, NULL), 1);
        ASSERT_EQ(f.type, RELAY_FRAME_ERROR);
        ASSERT_EQ(peer_read(&e, c, buf, sizeof(buf)), -1);
        ASSERT_FALSE(relay_hub_has_session(e.manager->relay, "demo"));
        close(c);
        env_done(&e);
}

TEST(malformed_frames_end_only_that_connection) {
        uint8_t junk[RELAY_FRAME_HEADER_SIZE] = { 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0 };
        char buf[4096];
        Env e;
        int s;

        ASSERT_OK(env_setup(&e));
        s = peer_connect(&e, LISTEN_ROLE_CALLBACK);
        send_request(s, "GET", "/v1/sandboxes/demo/session", true);
        ASSERT_TRUE(peer_read(&e, s, buf, sizeof(buf)) > 0);
        ASSERT_EQ(write(s, junk, sizeof(junk)), (ssize_t) sizeof(junk));
        ASSERT_EQ(peer_read(&e, s, buf, sizeof(buf)), -1);
        ASSERT_FALSE(relay_hub_has_session(e.manager->relay, "demo"));
        ASSERT_EQ(e.manager->n_conns, 0);
        close(s);
        env_done(&e);
}

/* With TLS on, the identity decides (gateway_authorize, the same table as the API): only the agent's own
 * certificate opens a session, on either listener; not the proxy's (it fetches credentials), not another
 * sandbox's agent, not the administrator. A request without the upgrade headers gets 426 only after the
 * identity check passed, which shows the agent got through without needing a connection here. */
static int dispatch_as(Env *e, const char *cn, ListenRole role, bool upgrade, ApiResponse *r) {
        HttpHeader headers[] = { { (char *) "Connection", (char *) "Upgrade" },
                                 { (char *) "Upgrade", (char *) "openshell-relay/1" } };
        HttpMessage req = { .method = (char *) "GET", .target = (char *) "/v1/sandboxes/demo/session",
                            .headers = headers, .n_headers = upgrade ? 2 : 0 };
        RelayPeer *peer = NULL;
        Identity id;

        *r = (ApiResponse) {};
        if (identity_from_common_name(cn, &id) < 0)
                return -EACCES;
        return gateway_relay_dispatch(e->manager, NULL, NULL, &req, &id, role, NULL, 0, &peer, r);
}

TEST(session_identities) {
        static const char *const refused[] = { "sandbox:demo", "agent:other", "sandbox:other", "openshell-admin" };
        _cleanup_free_ char *o = NULL;
        ApiResponse r;
        Env e;

        ASSERT_OK(env_setup(&e));
        e.manager->ssl_ctx = SSL_CTX_new(TLS_server_method());
        ASSERT_NOT_NULL(e.manager->ssl_ctx);
        for (size_t i = 0; i < ELEMENTSOF(refused); i++)
                for (ListenRole role = 0; role < _LISTEN_ROLE_MAX; role++) {
                        ASSERT_EQ(dispatch_as(&e, refused[i], role, true, &r), RELAY_DISPATCH_ANSWER);
                        o = mfree(o);
                        o = json_print(r.json, false);
                        if (r.status != 403 || !strstr(o, "agent:NAME"))
                                TEST_FAIL_AT("%s on %s: %u %s", refused[i], listen_role_to_string(role), r.status, o);
                        api_response_done(&r);
                }
        for (ListenRole role = 0; role < _LISTEN_ROLE_MAX; role++) {
                ASSERT_EQ(dispatch_as(&e, "agent:demo", role, false, &r), RELAY_DISPATCH_ANSWER);
                ASSERT_EQ(r.status, 426);
                api_response_done(&r);
        }
        ASSERT_FALSE(relay_hub_has_session(e.manager->relay, "demo"));
        env_done(&e);
}

DEFINE_TEST_MAIN();
