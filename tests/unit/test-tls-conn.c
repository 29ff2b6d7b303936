/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "gateway-pki.h"
#include "string-util.h"
#include "tests.h"
#include "tls-conn.h"
#include "tls-server.h"


typedef struct Side {
        TlsConn *conn;
        bool ready;
        int failed;
        char buf[64];
        size_t n;
        const char *send;
        size_t sent;
        sd_event *event;
} Side;

static void side_ready(TlsConn *c, void *userdata) {
        Side *s = userdata;
        s->ready = true;
        (void) tls_conn_set_interest(c, true, s->send != NULL);
}

static void side_io(TlsConn *c, void *userdata) {
        Side *s = userdata;
        ssize_t n;

        while (s->send && s->sent < strlen(s->send)) {
                n = tls_conn_write(c, s->send + s->sent, strlen(s->send) - s->sent);
                if (n < 0)
                        break;
                s->sent += (size_t) n;
        }
        for (;;) {
                n = tls_conn_read(c, s->buf + s->n, sizeof(s->buf) - 1 - s->n);
                if (n <= 0)
                        break;
                s->n += (size_t) n;
                s->buf[s->n] = 0;
        }
        (void) tls_conn_set_interest(c, true, s->send && s->sent < strlen(s->send));
}

static void side_failed(TlsConn *c, int error, void *userdata) {
        Side *s = userdata;
        s->failed = error;
}

static const TlsConnCallbacks side_callbacks = { side_ready, side_io, side_failed };

static char *dir;

static char *p(const char *name) {
        static char buf[256];
        snprintf(buf, sizeof(buf), "%s/%s", dir, name);
        return buf;
}

static int setup_pki(void) {
        char t[] = "/tmp/test-tls-conn-XXXXXX";
        if (dir)
                return 0;
        if (!mkdtemp(t))
                return -errno;
        dir = strdup(t);
        return dir ? pki_ensure(dir, NULL, NULL) : -ENOMEM;
}

static SSL_CTX *server_ctx(void) {
        SSL_CTX *ctx = NULL;
        _cleanup_free_ char *cert = strdup(p("server.crt")), *key = strdup(p("server.key")), *ca = strdup(p("ca.crt"));
        TlsServerOptions o = { .cert_path = cert, .key_path = key, .client_ca_path = ca, .alpn = "http/1.1" };
        if (tls_server_context_new(&o, &ctx) < 0)
                return NULL;
        return ctx;
}

static SSL_CTX *client_ctx(const char *cert, const char *key) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx)
                return NULL;
        if (SSL_CTX_load_verify_locations(ctx, p("ca.crt"), NULL) != 1)
                return NULL;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (cert && (SSL_CTX_use_certificate_file(ctx, p(cert), SSL_FILETYPE_PEM) != 1 ||
                     SSL_CTX_use_PrivateKey_file(ctx, p(key), SSL_FILETYPE_PEM) != 1))
                return NULL;
        return ctx;
}

TEST(handshake_and_echo) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_ssl_ctx_ SSL_CTX *sctx = NULL, *cctx = NULL;
        Side srv = { .send = "pong" }, cli = { .send = "ping" };
        _cleanup_free_ char *cn = NULL;
        int fds[2];

        ASSERT_OK(setup_pki());
        ASSERT_OK(sd_event_new(&e));
        srv.event = cli.event = e;
        ASSERT_NOT_NULL(sctx = server_ctx());
        ASSERT_NOT_NULL(cctx = client_ctx("client.crt", "client.key"));
        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds));
        ASSERT_OK(tls_conn_new(e, fds[0], sctx, true, NULL, 5 * USEC_PER_SEC, &side_callbacks, &srv, &srv.conn));
        ASSERT_OK(tls_conn_new(e, fds[1], cctx, false, "localhost", 5 * USEC_PER_SEC, &side_callbacks, &cli,
                               &cli.conn));
        while ((srv.n < 4 || cli.n < 4) && srv.failed == 0 && cli.failed == 0)
                ASSERT_OK(sd_event_run(e, 5 * USEC_PER_SEC));
        ASSERT_TRUE(srv.ready && cli.ready);
        ASSERT_EQ(srv.failed, 0);
        ASSERT_EQ(cli.failed, 0);
        ASSERT_STREQ(srv.buf, "ping");
        ASSERT_STREQ(cli.buf, "pong");
        ASSERT_OK(tls_peer_common_name(tls_conn_ssl(srv.conn), &cn));
        ASSERT_STREQ(cn, "openshell-admin");
        ASSERT_TRUE(SSL_version(tls_conn_ssl(srv.conn)) >= TLS1_2_VERSION);
        tls_conn_free(srv.conn);
        tls_conn_free(cli.conn);
}

/* ALPN: the server's one protocol is picked from the client's list (the selection must stay valid after
 * the callback returned: ASan's detect_stack_use_after_return caught it pointing into a stack buffer);
 * a client that offers only others gets no ALPN, not a failed handshake. */
static void alpn_handshake(const unsigned char *offer, size_t offer_len, char *ret, size_t ret_size) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_ssl_ctx_ SSL_CTX *sctx = NULL, *cctx = NULL;
        Side srv = { .send = "pong" }, cli = { .send = "ping" };
        const unsigned char *sel = NULL;
        unsigned sel_len = 0;
        int fds[2];

        ret[0] = 0;
        if (sd_event_new(&e) < 0 || !(sctx = server_ctx()) || !(cctx = client_ctx("client.crt", "client.key")) ||
            SSL_CTX_set_alpn_protos(cctx, offer, (unsigned) offer_len) != 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
                return;
        srv.event = cli.event = e;
        if (tls_conn_new(e, fds[0], sctx, true, NULL, 5 * USEC_PER_SEC, &side_callbacks, &srv, &srv.conn) < 0 ||
            tls_conn_new(e, fds[1], cctx, false, "localhost", 5 * USEC_PER_SEC, &side_callbacks, &cli, &cli.conn) < 0)
                return;
        while ((srv.n < 4 || cli.n < 4) && srv.failed == 0 && cli.failed == 0)
                if (sd_event_run(e, 5 * USEC_PER_SEC) < 0)
                        break;
        if (cli.ready && srv.failed == 0 && cli.failed == 0) {
                SSL_get0_alpn_selected(tls_conn_ssl(cli.conn), &sel, &sel_len);
                snprintf(ret, ret_size, "ok:%.*s", (int) sel_len, sel ? (const char *) sel : "");
        }
        tls_conn_free(srv.conn);
        tls_conn_free(cli.conn);
}

TEST(alpn_negotiation) {
        char got[64];

        ASSERT_OK(setup_pki());
        alpn_handshake((const unsigned char *) "\x02h2\x08http/1.1", 12, got, sizeof(got));
        ASSERT_STREQ(got, "ok:http/1.1");
        alpn_handshake((const unsigned char *) "\x02h2", 3, got, sizeof(got));
        ASSERT_STREQ(got, "ok:");
}

/* Bulk: 4 MiB client → server over small socket buffers, so writes hit EAGAIN/WANT_WRITE and partial
 * writes, and reads drain OpenSSL's buffered records. */
#define BULK_SIZE (4U * 1024U * 1024U)

typedef struct Bulk {
        TlsConn *conn;
        bool ready;
        int failed;
        size_t done;
        uint32_t sum;
        bool sender;
} Bulk;

static void bulk_step(TlsConn *c, Bulk *b) {
        static unsigned char chunk[65536];
        ssize_t n;

        if (b->sender) {
                while (b->done < BULK_SIZE) {
                        for (size_t i = 0; i < sizeof(chunk); i++)
                                chunk[i] = (unsigned char) ((b->done + i) * 7);
                        n = tls_conn_write(c, chunk, MIN(sizeof(chunk), BULK_SIZE - b->done));
                        if (n < 0)
                                break;
                        b->done += (size_t) n; /* a partial write is retried from there: same bytes */
                }
                (void) tls_conn_set_interest(c, false, b->done < BULK_SIZE);
                return;
        }
        while ((n = tls_conn_read(c, chunk, sizeof(chunk))) > 0)
                for (ssize_t i = 0; i < n; i++) {
                        b->sum = b->sum * 31 + chunk[i];
                        b->done++;
                }
        (void) tls_conn_set_interest(c, b->done < BULK_SIZE, false);
}

static void bulk_ready(TlsConn *c, void *userdata) {
        Bulk *b = userdata;
        b->ready = true;
        bulk_step(c, b);
}

static void bulk_io(TlsConn *c, void *userdata) {
        bulk_step(c, userdata);
}

static void bulk_failed(TlsConn *c, int error, void *userdata) {
        ((Bulk *) userdata)->failed = error;
}

static const TlsConnCallbacks bulk_callbacks = { bulk_ready, bulk_io, bulk_failed };

TEST(bulk_transfer_with_backpressure) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_ssl_ctx_ SSL_CTX *sctx = NULL, *cctx = NULL;
        Bulk srv = {}, cli = { .sender = true };
        uint32_t want = 0;
        int fds[2], small = 4096;

        ASSERT_OK(setup_pki());
        ASSERT_OK(sd_event_new(&e));
        ASSERT_NOT_NULL(sctx = server_ctx());
        ASSERT_NOT_NULL(cctx = client_ctx("client.crt", "client.key"));
        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds));
        ASSERT_OK(setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)));
        ASSERT_OK(setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)));
        ASSERT_OK(tls_conn_new(e, fds[0], sctx, true, NULL, 5 * USEC_PER_SEC, &bulk_callbacks, &srv, &srv.conn));
        ASSERT_OK(tls_conn_new(e, fds[1], cctx, false, "localhost", 5 * USEC_PER_SEC, &bulk_callbacks, &cli, &cli.conn));
        while (srv.done < BULK_SIZE && srv.failed == 0 && cli.failed == 0)
                ASSERT_TRUE(sd_event_run(e, 10 * USEC_PER_SEC) > 0);
        ASSERT_EQ(srv.failed, 0);
        ASSERT_EQ(cli.failed, 0);
        ASSERT_EQ(srv.done, BULK_SIZE);
        for (size_t i = 0; i < BULK_SIZE; i++)
                want = want * 31 + (unsigned char) (i * 7);
        ASSERT_EQ(srv.sum, want);
        tls_conn_free(srv.conn);
        tls_conn_free(cli.conn);
}

static int run_bad_client_full(SSL_CTX *cctx, const char *raw, size_t raw_len, usec_t timeout) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_ssl_ctx_ SSL_CTX *sctx = server_ctx();
        Side srv = {}, cli = {};
        _cleanup_close_ int keep = -EBADF;
        int fds[2], r;

        if (!sctx || sd_event_new(&e) < 0)
                return -EIO;
        srv.event = cli.event = e;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
                return -errno;
        r = tls_conn_new(e, fds[0], sctx, true, NULL, timeout, &side_callbacks, &srv, &srv.conn);
        if (r < 0)
                return r;
        if (cctx)
                r = tls_conn_new(e, fds[1], cctx, false, "localhost", timeout, &side_callbacks, &cli, &cli.conn);
        else {
                keep = fds[1];
                if (raw)
                        (void) write(keep, raw, raw_len);
        }
        if (r >= 0)
                while (srv.failed == 0 && !srv.ready && sd_event_run(e, 5 * USEC_PER_SEC) > 0)
                        ;
        tls_conn_free(srv.conn);
        tls_conn_free(cli.conn);
        return srv.ready ? 0 : srv.failed;
}

static int run_bad_client(SSL_CTX *cctx, const char *raw, usec_t timeout) {
        return run_bad_client_full(cctx, raw, raw ? strlen(raw) : 0, timeout);
}

TEST(no_client_cert_rejected) {
        _cleanup_ssl_ctx_ SSL_CTX *cctx = NULL;
        ASSERT_OK(setup_pki());
        ASSERT_NOT_NULL(cctx = client_ctx(NULL, NULL));
        ASSERT_ERROR(run_bad_client(cctx, NULL, 5 * USEC_PER_SEC), EPROTO);
}

TEST(server_cert_as_client_rejected) {
        _cleanup_ssl_ctx_ SSL_CTX *cctx = NULL;
        ASSERT_OK(setup_pki());
        ASSERT_NOT_NULL(cctx = client_ctx("server.crt", "server.key"));
        ASSERT_ERROR(run_bad_client(cctx, NULL, 5 * USEC_PER_SEC), EPROTO);
}

TEST(plain_http_detected) {
        ASSERT_OK(setup_pki());
        ASSERT_ERROR(run_bad_client(NULL, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 5 * USEC_PER_SEC), EPROTONOSUPPORT);
}

TEST(garbage_rejected) {
        ASSERT_OK(setup_pki());
        ASSERT_ERROR(run_bad_client_full(NULL, "\x15\x03\x03\x00\x02\x02\x28", 7, 5 * USEC_PER_SEC), EPROTO);
}

TEST(handshake_timeout) {
        ASSERT_OK(setup_pki());
        /* A peer that never speaks: the timer ends it (no timing assertion, only the outcome). */
        ASSERT_ERROR(run_bad_client(NULL, NULL, 1000), ETIMEDOUT);
}

TEST(context_errors) {
        SSL_CTX *ctx = NULL;
        TlsServerOptions o = { .cert_path = "/nonexistent.crt", .key_path = "/nonexistent.key" };
        ASSERT_OK(setup_pki());
        ASSERT_ERROR(tls_server_context_new(&o, &ctx), ENOENT);
        /* Key that does not belong to the certificate. */
        _cleanup_free_ char *cert = strdup(p("server.crt")), *key = strdup(p("client.key"));
        o = (TlsServerOptions) { .cert_path = cert, .key_path = key };
        ASSERT_ERROR(tls_server_context_new(&o, &ctx), EINVAL);
}

TEST(zz_cleanup) {
        _cleanup_free_ char *cmd = dir ? strjoin("rm -rf ", dir) : NULL;
        if (cmd)
                (void) system(cmd);
        dir = mfree(dir);
}

DEFINE_TEST_MAIN();
