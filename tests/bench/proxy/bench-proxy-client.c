/* SPDX-License-Identifier: Apache-2.0 */
/* The proxy benchmark's TLS client, so that every proxy (and the direct path) is measured by the same code:
 *
 *   bench-proxy-client keepalive PROXY TARGET CAFILE PATH CONNS SECS
 *       CONNS threads, each one CONNECT (unless PROXY is "-") + TLS handshake, then GET PATH over that one
 *       connection until SECS have passed. Prints "requests/s p99-ms errors".
 *   bench-proxy-client handshake PROXY TARGET CAFILE PATH CONNS SECS
 *       CONNS threads, each looping: new TCP connection, CONNECT, full TLS handshake (no session resumption,
 *       no tickets), one GET PATH, close. Prints "connections/s p99-ms errors".
 *   bench-proxy-client idle PROXY TARGET - - CONNS SECS
 *       Opens CONNS CONNECT tunnels one after the other, prints "ready N" once they are all established,
 *       then holds them for SECS seconds (or until killed). Exits 1 if any tunnel failed.
 *
 * PROXY and TARGET are HOST:PORT with a literal IPv4 host for PROXY; the TARGET host is sent in CONNECT, as
 * SNI and checked against the certificate (CAFILE). Responses must carry Content-Length (static files).
 * Deliberately blocking and thread-per-connection: simple, and identical for every proxy measured. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define IO_TIMEOUT_SEC 10
#define HEAD_MAX 16384

typedef struct Args {
        const char *mode;
        bool via_proxy;
        struct sockaddr_in proxy, target;
        char target_host[256];
        unsigned target_port;
        const char *path;
        SSL_CTX *ctx;
        double deadline;
} Args;

typedef struct Worker {
        pthread_t thread;
        const Args *args;
        uint64_t ok, errors;
        uint32_t *lat_us;
        size_t n_lat, cap_lat;
} Worker;

static double now_sec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int parse_addr(const char *s, struct sockaddr_in *ret, char *ret_host, size_t host_size) {
        const char *colon = strrchr(s, ':');
        char host[256];
        char *end;
        long port;

        if (!colon || (size_t) (colon - s) >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, (size_t) (colon - s));
        host[colon - s] = 0;
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (errno || *end || port <= 0 || port > 65535)
                return -EINVAL;
        if (ret_host)
                snprintf(ret_host, host_size, "%s", host);
        *ret = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
        /* Only the proxy (or, direct, the target) is connected to; both live on loopback. */
        if (strcmp(host, "localhost") == 0)
                strcpy(host, "127.0.0.1");
        if (inet_pton(AF_INET, host, &ret->sin_addr) != 1)
                return -EINVAL;
        return 0;
}

static int tcp_connect(const struct sockaddr_in *sa) {
        struct timeval tv = { .tv_sec = IO_TIMEOUT_SEC };
        int fd, one = 1;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (const struct sockaddr *) sa, sizeof(*sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0)
                        return errno == EINTR ? 0 : -errno;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Sends CONNECT and reads the proxy's response head byte by byte, so nothing of the tunnel is consumed. */
static int proxy_connect(int fd, const Args *a) {
        char req[512], head[HEAD_MAX];
        size_t n = 0;
        int k, r;

        k = snprintf(req, sizeof(req), "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n", a->target_host,
                     a->target_port, a->target_host, a->target_port);
        r = write_all(fd, req, (size_t) k);
        if (r < 0)
                return r;
        while (n < sizeof(head) - 1) {
                ssize_t got = read(fd, head + n, 1);
                if (got <= 0)
                        return got == 0 ? -ECONNRESET : -errno;
                n++;
                if (n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0) {
                        head[n] = 0;
                        return strncmp(head, "HTTP/1.1 200", 12) == 0 || strncmp(head, "HTTP/1.0 200", 12) == 0
                                       ? 0
                                       : -EPROTO;
                }
        }
        return -EMSGSIZE;
}

static int open_tunnel(const Args *a) {
        int fd, r;

        fd = tcp_connect(a->via_proxy ? &a->proxy : &a->target);
        if (fd < 0 || !a->via_proxy)
                return fd;
        r = proxy_connect(fd, a);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

static SSL *tls_open(const Args *a, int fd) {
        SSL *ssl = SSL_new(a->ctx);

        if (!ssl)
                return NULL;
        if (SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, a->target_host) != 1 ||
            SSL_set1_host(ssl, a->target_host) != 1 || SSL_connect(ssl) != 1) {
                SSL_free(ssl);
                return NULL;
        }
        return ssl;
}

static long content_length(const char *head) {
        for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n"))
                if (strncasecmp(p + 2, "content-length:", 15) == 0)
                        return strtol(p + 17, NULL, 10);
        return -1;
}

/* One GET with keep-alive; reads exactly the response (head + Content-Length bytes). */
static int tls_get(SSL *ssl, const Args *a) {
        char buf[HEAD_MAX + 1];
        size_t n = 0;
        long want;
        int k;

        k = snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: bench-proxy-client\r\n\r\n",
                     a->path, a->target_host, a->target_port);
        if (SSL_write(ssl, buf, k) != k)
                return -EIO;
        for (;;) {
                char *end;

                if (n >= HEAD_MAX)
                        return -EMSGSIZE;
                k = SSL_read(ssl, buf + n, (int) (HEAD_MAX - n));
                if (k <= 0)
                        return -EIO;
                n += (size_t) k;
                buf[n] = 0;
                end = strstr(buf, "\r\n\r\n");
                if (!end)
                        continue;
                if (strncmp(buf, "HTTP/1.1 200", 12) != 0)
                        return -EPROTO;
                want = content_length(buf);
                if (want < 0)
                        return -EPROTO;
                want -= (long) (n - (size_t) (end + 4 - buf));
                break;
        }
        while (want > 0) {
                k = SSL_read(ssl, buf, want > HEAD_MAX ? HEAD_MAX : (int) want);
                if (k <= 0)
                        return -EIO;
                want -= k;
        }
        return want == 0 ? 0 : -EPROTO;
}

static void record(Worker *w, double t0) {
        if (w->n_lat == w->cap_lat) {
                size_t cap = w->cap_lat ? w->cap_lat * 2 : 4096;
                uint32_t *p = realloc(w->lat_us, cap * sizeof(*p));
                if (!p)
                        return;
                w->lat_us = p;
                w->cap_lat = cap;
        }
        w->lat_us[w->n_lat++] = (uint32_t) ((now_sec() - t0) * 1e6);
        w->ok++;
}

static void close_tls(SSL *ssl, int fd) {
        if (ssl) {
                (void) SSL_shutdown(ssl);
                SSL_free(ssl);
        }
        if (fd >= 0)
                close(fd);
}

static void *run_keepalive(Worker *w) {
        const Args *a = w->args;

        while (now_sec() < a->deadline) {
                int fd = open_tunnel(a);
                SSL *ssl = fd >= 0 ? tls_open(a, fd) : NULL;

                if (!ssl) {
                        w->errors++;
                        close_tls(NULL, fd);
                        usleep(10000);
                        continue;
                }
                while (now_sec() < a->deadline) {
                        double t0 = now_sec();
                        if (tls_get(ssl, a) < 0) {
                                w->errors++;
                                break;
                        }
                        record(w, t0);
                }
                close_tls(ssl, fd);
        }
        return NULL;
}

static void *run_handshake(Worker *w) {
        const Args *a = w->args;

        while (now_sec() < a->deadline) {
                double t0 = now_sec();
                int fd = open_tunnel(a);
                SSL *ssl = fd >= 0 ? tls_open(a, fd) : NULL;

                if (ssl && tls_get(ssl, a) == 0)
                        record(w, t0);
                else {
                        w->errors++;
                        usleep(10000);
                }
                close_tls(ssl, fd);
        }
        return NULL;
}

static void *worker_main(void *userdata) {
        Worker *w = userdata;

        ERR_clear_error();
        return strcmp(w->args->mode, "keepalive") == 0 ? run_keepalive(w) : run_handshake(w);
}

static int cmp_u32(const void *x, const void *y) {
        uint32_t a = *(const uint32_t *) x, b = *(const uint32_t *) y;
        return a < b ? -1 : a > b;
}

static int run_idle(const Args *a, unsigned conns, unsigned secs) {
        int *fds = calloc(conns, sizeof(int));
        unsigned n = 0;

        if (!fds)
                return 1;
        for (; n < conns; n++) {
                fds[n] = open_tunnel(a);
                if (fds[n] < 0) {
                        fprintf(stderr, "tunnel %u: %s\n", n, strerror(-fds[n]));
                        break;
                }
        }
        printf("%s %u\n", n == conns ? "ready" : "failed", n);
        fflush(stdout);
        if (n == conns)
                sleep(secs);
        for (unsigned i = 0; i < n; i++)
                close(fds[i]);
        free(fds);
        return n == conns ? 0 : 1;
}

static SSL_CTX *make_ctx(const char *cafile) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

        if (!ctx)
                return NULL;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1 ||
            SSL_CTX_set_alpn_protos(ctx, (const unsigned char *) "\x08http/1.1", 9) != 0) {
                SSL_CTX_free(ctx);
                return NULL;
        }
        return ctx;
}

static int parse_args(int argc, char *argv[], Args *a, unsigned *conns, unsigned *secs) {
        char *end;

        if (argc != 8)
                return -EINVAL;
        a->mode = argv[1];
        if (strcmp(a->mode, "keepalive") && strcmp(a->mode, "handshake") && strcmp(a->mode, "idle"))
                return -EINVAL;
        a->via_proxy = strcmp(argv[2], "-") != 0;
        if (a->via_proxy && parse_addr(argv[2], &a->proxy, NULL, 0) < 0)
                return -EINVAL;
        if (parse_addr(argv[3], &a->target, a->target_host, sizeof(a->target_host)) < 0)
                return -EINVAL;
        a->target_port = ntohs(a->target.sin_port);
        a->path = argv[5];
        *conns = (unsigned) strtoul(argv[6], &end, 10);
        if (*end || *conns == 0 || *conns > 100000)
                return -EINVAL;
        *secs = (unsigned) strtoul(argv[7], &end, 10);
        if (*end || *secs == 0 || *secs > 3600)
                return -EINVAL;
        if (strcmp(a->mode, "idle") != 0) {
                a->ctx = make_ctx(argv[4]);
                if (!a->ctx) {
                        fprintf(stderr, "cannot load CA file %s\n", argv[4]);
                        return -EIO;
                }
        }
        return 0;
}

int main(int argc, char *argv[]) {
        Args a = {};
        unsigned conns, secs;
        Worker *w;
        uint64_t ok = 0, errors = 0;
        size_t n_lat = 0;
        uint32_t *lat;
        double t0;

        if (parse_args(argc, argv, &a, &conns, &secs) < 0) {
                fprintf(stderr, "usage: %s keepalive|handshake|idle PROXY|- HOST:PORT CAFILE PATH CONNS SECS\n",
                        argv[0]);
                return 2;
        }
        if (strcmp(a.mode, "idle") == 0)
                return run_idle(&a, conns, secs);
        w = calloc(conns, sizeof(*w));
        if (!w)
                return 1;
        t0 = now_sec();
        a.deadline = t0 + secs;
        for (unsigned i = 0; i < conns; i++) {
                w[i].args = &a;
                if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
                        return 1;
        }
        for (unsigned i = 0; i < conns; i++) {
                pthread_join(w[i].thread, NULL);
                ok += w[i].ok;
                errors += w[i].errors;
                n_lat += w[i].n_lat;
        }
        lat = malloc((n_lat ? n_lat : 1) * sizeof(*lat));
        if (!lat)
                return 1;
        n_lat = 0;
        for (unsigned i = 0; i < conns; i++) {
                memcpy(lat + n_lat, w[i].lat_us, w[i].n_lat * sizeof(*lat));
                n_lat += w[i].n_lat;
                free(w[i].lat_us);
        }
        qsort(lat, n_lat, sizeof(*lat), cmp_u32);
        printf("%.0f %.2f %" PRIu64 "\n", (double) ok / (now_sec() - t0),
               n_lat ? lat[(size_t) ((double) (n_lat - 1) * 0.99)] / 1000.0 : 0.0, errors);
        free(lat);
        free(w);
        SSL_CTX_free(a.ctx);
        return ok > 0 ? 0 : 1;
}
