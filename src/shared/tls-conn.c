/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <openssl/err.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "tls-conn.h"
#include "tls-server.h"
#include "x509-util.h"

typedef enum TlsConnState {
        TLS_CONN_HANDSHAKE,
        TLS_CONN_OPEN,
        TLS_CONN_FAILED,
        _TLS_CONN_STATE_MAX,
        _TLS_CONN_STATE_INVALID = -EINVAL,
} TlsConnState;

struct TlsConn {
        int fd;
        SSL *ssl; /* NULL: plaintext */
        bool server;
        TlsConnState state;
        sd_event_source *io_source;
        sd_event_source *timer_source;
        uint32_t events; /* currently armed epoll events */

        bool want_read, want_write;       /* what the owner waits for */
        bool read_needs_write;            /* last SSL_read said WANT_WRITE */
        bool write_needs_read;            /* last SSL_write said WANT_READ */

        TlsConnCallbacks callbacks;
        void *userdata;
};

static int conn_arm(TlsConn *c, uint32_t events) {
        int r;

        if (events == c->events)
                return 0;
        /* epoll reports HUP/ERR even for an empty mask: with nothing to wait for, switch the source off so
         * a hung-up peer cannot spin the loop until the owner wants to read again. */
        r = sd_event_source_set_enabled(c->io_source, events ? SD_EVENT_ON : SD_EVENT_OFF);
        if (r < 0)
                return r;
        if (events) {
                r = sd_event_source_set_io_events(c->io_source, events);
                if (r < 0)
                        return r;
        }
        c->events = events;
        return 0;
}

static int conn_update_events(TlsConn *c) {
        uint32_t e = 0;

        if (c->state != TLS_CONN_OPEN)
                return 0;
        if (c->want_read)
                e |= c->read_needs_write ? EPOLLOUT : EPOLLIN;
        if (c->want_write)
                e |= c->write_needs_read ? EPOLLIN : EPOLLOUT;
        return conn_arm(c, e);
}

/* Maps a failed SSL_* call to a negative errno; 1 for WANT_READ, 2 for WANT_WRITE. */
static int conn_ssl_error(TlsConn *c, int ret) {
        int e = SSL_get_error(c->ssl, ret);
        unsigned long q;

        switch (e) {
        case SSL_ERROR_WANT_READ:
                return 1;
        case SSL_ERROR_WANT_WRITE:
                return 2;
        case SSL_ERROR_ZERO_RETURN:
                return 0;
        case SSL_ERROR_SYSCALL:
                ERR_clear_error();
                return errno > 0 ? -errno : -ECONNRESET;
        case SSL_ERROR_SSL:
                q = ERR_peek_error();
                if (ERR_GET_LIB(q) == ERR_LIB_SSL && ERR_GET_REASON(q) == SSL_R_HTTP_REQUEST) {
                        ERR_clear_error();
                        return -EPROTONOSUPPORT;
                }
                if (log_get_max_level() >= LOG_DEBUG) {
                        char buf[256];
                        ERR_error_string_n(q, buf, sizeof(buf));
                        log_debug("TLS error: %s (verify: %s)", buf,
                                  X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
                }
                ERR_clear_error();
                return -EPROTO;
        default:
                ERR_clear_error();
                return -EPROTO;
        }
}

static void conn_fail(TlsConn *c, int error) {
        c->state = TLS_CONN_FAILED;
        (void) sd_event_source_set_enabled(c->io_source, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(c->timer_source, SD_EVENT_OFF);
        /* Last action: the owner may free c. */
        c->callbacks.failed(c, error, c->userdata);
}

static void conn_ready(TlsConn *c) {
        int r;

        c->state = TLS_CONN_OPEN;
        (void) sd_event_source_set_enabled(c->timer_source, SD_EVENT_OFF);
        r = conn_update_events(c);
        if (r < 0)
                return conn_fail(c, r);
        c->callbacks.ready(c, c->userdata);
}

static void conn_handshake(TlsConn *c) {
        int r;

        if (!c->ssl)
                return conn_ready(c);
        ERR_clear_error();
        r = SSL_do_handshake(c->ssl);
        if (r == 1)
                return conn_ready(c);
        r = conn_ssl_error(c, r);
        if (r == 1 || r == 2) {
                r = conn_arm(c, r == 1 ? EPOLLIN : EPOLLOUT);
                if (r < 0)
                        conn_fail(c, r);
                return;
        }
        conn_fail(c, r == 0 ? -ECONNRESET : r);
}

static int conn_io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        TlsConn *c = userdata;

        if (c->state == TLS_CONN_HANDSHAKE)
                conn_handshake(c);
        else if (c->state == TLS_CONN_OPEN)
                c->callbacks.io(c, c->userdata);
        /* Never return an error: that would disable the source (STYLE.md). */
        return 0;
}

static int conn_timer_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        TlsConn *c = userdata;

        if (c->state == TLS_CONN_HANDSHAKE)
                conn_fail(c, -ETIMEDOUT);
        return 0;
}

static int conn_new_ssl(TlsConn *c, SSL_CTX *ctx, const char *hostname) {
        ERR_clear_error();
        c->ssl = SSL_new(ctx);
        if (!c->ssl)
                return x509_openssl_error(-EIO);
        if (SSL_set_fd(c->ssl, c->fd) != 1)
                return x509_openssl_error(-EIO);
        if (c->server) {
                SSL_set_accept_state(c->ssl);
                return 0;
        }
        SSL_set_connect_state(c->ssl);
        if (hostname && (SSL_set_tlsext_host_name(c->ssl, hostname) != 1 || SSL_set1_host(c->ssl, hostname) != 1))
                return x509_openssl_error(-EIO);
        return 0;
}

int tls_conn_new(sd_event *event, int fd, SSL_CTX *ctx, bool server, const char *hostname,
                 usec_t handshake_timeout_usec, const TlsConnCallbacks *callbacks, void *userdata,
                 TlsConn **ret) {
        _cleanup_(tls_conn_freep) TlsConn *c = NULL;
        int r;

        c = new0(TlsConn, 1);
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        *c = (TlsConn) { .fd = fd, .server = server, .callbacks = *callbacks, .userdata = userdata };

        if (ctx) {
                r = conn_new_ssl(c, ctx, hostname);
                if (r < 0)
                        return r;
        }
        /* TLS: the server waits for ClientHello, the client must write one. Plaintext: writable at once. */
        c->events = ctx && server ? EPOLLIN : EPOLLOUT;
        r = sd_event_add_io(event, &c->io_source, fd, c->events, conn_io_cb, c);
        if (r < 0)
                return r;
        if (ctx && handshake_timeout_usec > 0 && handshake_timeout_usec != USEC_INFINITY) {
                r = sd_event_add_time_relative(event, &c->timer_source, CLOCK_MONOTONIC, handshake_timeout_usec, 0,
                                               conn_timer_cb, c);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

TlsConn *tls_conn_free(TlsConn *c) {
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->io_source);
        sd_event_source_disable_unref(c->timer_source);
        SSL_free(c->ssl);
        safe_close(c->fd);
        return mfree(c);
}

ssize_t tls_conn_read(TlsConn *c, void *buf, size_t size) {
        ssize_t n;
        int r;

        if (c->state != TLS_CONN_OPEN)
                return -ENOTCONN;
        if (!c->ssl) {
                n = read(c->fd, buf, size);
                return n < 0 ? (errno == EINTR ? -EAGAIN : -errno) : n;
        }
        ERR_clear_error();
        r = SSL_read(c->ssl, buf, (int) MIN(size, (size_t) INT32_MAX));
        if (r > 0) {
                c->read_needs_write = false;
                return r;
        }
        r = conn_ssl_error(c, r);
        if (r == 1 || r == 2) {
                c->read_needs_write = r == 2;
                (void) conn_update_events(c);
                return -EAGAIN;
        }
        return r;
}

ssize_t tls_conn_write(TlsConn *c, const void *buf, size_t size) {
        ssize_t n;
        int r;

        if (c->state != TLS_CONN_OPEN)
                return -ENOTCONN;
        if (size == 0)
                return 0;
        if (!c->ssl) {
                n = send(c->fd, buf, size, MSG_NOSIGNAL);
                return n < 0 ? (errno == EINTR ? -EAGAIN : -errno) : n;
        }
        ERR_clear_error();
        r = SSL_write(c->ssl, buf, (int) MIN(size, (size_t) INT32_MAX));
        if (r > 0) {
                c->write_needs_read = false;
                return r;
        }
        r = conn_ssl_error(c, r);
        if (r == 1 || r == 2) {
                c->write_needs_read = r == 1;
                (void) conn_update_events(c);
                return -EAGAIN;
        }
        return r == 0 ? -EPIPE : r;
}

void tls_conn_shutdown(TlsConn *c) {
        if (c->ssl && c->state == TLS_CONN_OPEN) {
                ERR_clear_error();
                (void) SSL_shutdown(c->ssl);
                ERR_clear_error();
        }
        (void) shutdown(c->fd, SHUT_WR);
}

int tls_conn_set_interest(TlsConn *c, bool want_read, bool want_write) {
        c->want_read = want_read;
        c->want_write = want_write;
        return conn_update_events(c);
}

bool tls_conn_is_tls(const TlsConn *c) {
        return c->ssl;
}

SSL *tls_conn_ssl(TlsConn *c) {
        return c->ssl;
}

int tls_conn_fd(const TlsConn *c) {
        return c->fd;
}

void tls_conn_set_userdata(TlsConn *c, void *userdata) {
        c->userdata = userdata;
}
