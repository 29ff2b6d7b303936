/* SPDX-License-Identifier: Apache-2.0 */
/* A small mTLS HTTP load client for tests/bench/gateway: keep-alive requests/s, or full handshakes/s (a new
 * connection and a full handshake each time, no session resumption), over N parallel connections for S
 * seconds. Blocking sockets in threads: the server under test is what is measured, and the same client
 * runs against the gateway and nginx.
 *
 *   bench-gateway-client keepalive|handshake HOST PORT CA CERT KEY PATH CONNECTIONS SECONDS */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BENCH_THREADS_MAX 256

typedef struct Bench {
        const char *host, *path;
        int port;
        bool handshake;
        SSL_CTX *ctx;
        double deadline;
        atomic_ulong done, errors;
} Bench;

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static SSL *bench_connect(Bench *b, int *ret_fd) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) b->port) };
        int fd, one = 1;
        SSL *ssl;

        if (inet_pton(AF_INET, b->host, &sa.sin_addr) != 1)
                return NULL;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return NULL;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                close(fd);
                return NULL;
        }
        ssl = SSL_new(b->ctx);
        if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
                SSL_free(ssl);
                close(fd);
                return NULL;
        }
        *ret_fd = fd;
        return ssl;
}

/* Sends one GET and reads one response with a Content-Length body. Returns 0 on a 200. */
static int bench_request(Bench *b, SSL *ssl) {
        char req[256], buf[16384];
        size_t have = 0;
        int n;

        n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", b->path, b->host);
        if (SSL_write(ssl, req, n) != n)
                return -1;
        for (;;) {
                char *end, *cl;
                n = SSL_read(ssl, buf + have, (int) (sizeof(buf) - 1 - have));
                if (n <= 0)
                        return -1;
                have += (size_t) n;
                buf[have] = 0;
                end = strstr(buf, "\r\n\r\n");
                if (!end)
                        continue;
                cl = strcasestr(buf, "\r\nContent-Length:");
                if (!cl)
                        return -1;
                if (have >= (size_t) (end + 4 - buf) + strtoul(cl + 17, NULL, 10))
                        return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
        }
}

static void *bench_thread(void *userdata) {
        Bench *b = userdata;
        SSL *ssl = NULL;
        int fd = -1;

        while (now() < b->deadline) {
                if (!ssl && !(ssl = bench_connect(b, &fd))) {
                        atomic_fetch_add(&b->errors, 1);
                        continue;
                }
                if (b->handshake || bench_request(b, ssl) < 0) {
                        if (!b->handshake)
                                atomic_fetch_add(&b->errors, 1);
                        else
                                atomic_fetch_add(&b->done, 1);
                        SSL_shutdown(ssl);
                        SSL_free(ssl);
                        close(fd);
                        ssl = NULL;
                        continue;
                }
                atomic_fetch_add(&b->done, 1);
        }
        if (ssl) {
                SSL_free(ssl);
                close(fd);
        }
        return NULL;
}

int main(int argc, char *argv[]) {
        pthread_t threads[BENCH_THREADS_MAX];
        Bench b = {};
        int conns, secs;
        double start;

        if (argc != 10) {
                fprintf(stderr, "usage: %s keepalive|handshake HOST PORT CA CERT KEY PATH CONNECTIONS SECONDS\n", argv[0]);
                return 2;
        }
        b.handshake = strcmp(argv[1], "handshake") == 0;
        b.host = argv[2];
        b.port = atoi(argv[3]);
        b.path = argv[7];
        conns = atoi(argv[8]);
        secs = atoi(argv[9]);
        if (conns < 1 || conns > BENCH_THREADS_MAX || secs < 1)
                return 2;
        b.ctx = SSL_CTX_new(TLS_client_method());
        if (!b.ctx || SSL_CTX_load_verify_locations(b.ctx, argv[4], NULL) != 1 ||
            SSL_CTX_use_certificate_file(b.ctx, argv[5], SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_use_PrivateKey_file(b.ctx, argv[6], SSL_FILETYPE_PEM) != 1) {
                ERR_print_errors_fp(stderr);
                return 1;
        }
        SSL_CTX_set_verify(b.ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_session_cache_mode(b.ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(b.ctx, SSL_OP_NO_TICKET);
        start = now();
        b.deadline = start + secs;
        for (int i = 0; i < conns; i++)
                pthread_create(&threads[i], NULL, bench_thread, &b);
        for (int i = 0; i < conns; i++)
                pthread_join(threads[i], NULL);
        printf("%.0f %lu\n", (double) atomic_load(&b.done) / (now() - start), atomic_load(&b.errors));
        SSL_CTX_free(b.ctx);
        return 0;
}
