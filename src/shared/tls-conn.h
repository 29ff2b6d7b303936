/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* One non-blocking stream connection on sd-event, TLS (OpenSSL) or plaintext, so that the code above it
 * (an HTTP server, a proxy's MITM leg) is the same either way.
 *
 * Life cycle: tls_conn_new() takes the connected fd and starts the handshake (server or client side), under
 * a handshake timer. When it completes, callbacks.ready() runs; from then on callbacks.io() runs whenever
 * the socket may have made progress, and the owner calls tls_conn_read()/tls_conn_write() until they return
 * -EAGAIN. OpenSSL buffers records internally, so the owner must keep reading until -EAGAIN rather than
 * wait for another event. The owner says what it is waiting for with tls_conn_set_interest(); the
 * connection translates that into epoll events, following OpenSSL's WANT_READ/WANT_WRITE (a read may need
 * the socket writable, and the reverse). A failed handshake, its timeout or a socket error call
 * callbacks.failed(); the owner then frees the connection (it may do so inside any callback, which is the
 * last thing the connection does before returning to the loop).
 *
 * A plaintext connection (ctx == NULL) is "ready" on its first loop iteration.
 *
 * OpenSSL writes to the socket with write(): a program using this must ignore SIGPIPE (the gateway does in
 * gateway_serve()), or a peer that hangs up mid-response kills it. */

#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "time-util.h"

typedef struct TlsConn TlsConn;

typedef struct TlsConnCallbacks {
        void (*ready)(TlsConn *c, void *userdata);
        void (*io)(TlsConn *c, void *userdata);
        /* error: -ETIMEDOUT (handshake timer), -EPROTO (TLS failure, including a rejected certificate),
         * -EPROTONOSUPPORT (the peer spoke plain HTTP to a TLS endpoint), -ECONNRESET, other -errno. */
        void (*failed)(TlsConn *c, int error, void *userdata);
} TlsConnCallbacks;

/* Takes ownership of fd (also on failure). server selects SSL_accept vs SSL_connect; hostname (client only,
 * may be NULL) sets SNI and the name the server certificate is verified against. */
int tls_conn_new(sd_event *event, int fd, SSL_CTX *ctx, bool server, const char *hostname,
                 usec_t handshake_timeout_usec, const TlsConnCallbacks *callbacks, void *userdata,
                 TlsConn **ret);
TlsConn *tls_conn_free(TlsConn *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(TlsConn *, tls_conn_free);

/* Bytes read, 0 at a clean end of stream, -EAGAIN, or -ECONNRESET/-EPROTO/-errno. */
ssize_t tls_conn_read(TlsConn *c, void *buf, size_t size);
/* Bytes written (maybe fewer than size), -EAGAIN, or -EPIPE/-EPROTO/-errno. Retry with the same bytes. */
ssize_t tls_conn_write(TlsConn *c, const void *buf, size_t size);
/* Sends close_notify (best effort, never blocks) and shuts the socket down for writing. */
void tls_conn_shutdown(TlsConn *c);

int tls_conn_set_interest(TlsConn *c, bool want_read, bool want_write);

bool tls_conn_is_tls(const TlsConn *c) _pure_;
SSL *tls_conn_ssl(TlsConn *c) _pure_;
int tls_conn_fd(const TlsConn *c) _pure_;
void tls_conn_set_userdata(TlsConn *c, void *userdata);
