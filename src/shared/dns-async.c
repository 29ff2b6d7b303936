/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "alloc-util.h"
#include "dns-async.h"
#include "fd-util.h"
#include "string-util.h"

struct DnsQuery {
        DnsResolver *resolver;
        struct gaicb gcb;
        struct gaicb *list[1];
        struct addrinfo hints;
        char *host;
        char service[8];
        bool numeric;            /* an IP literal, answered without a resolver thread */
        dns_callback_t callback; /* NULL once cancelled */
        void *userdata;
        DnsQuery *prev, *next;
};

struct DnsResolver {
        sd_event_source *source;
        int pipe_fd[2];
        DnsQuery *queries;
        unsigned n_running;
};

int dns_eai_to_errno(int eai) {
        switch (eai) {
        case 0:
                return 0;
        case EAI_NONAME:
        case EAI_NODATA:
        case EAI_ADDRFAMILY:
                return -ENOENT;
        case EAI_AGAIN:
                return -EAGAIN;
        case EAI_MEMORY:
                return -ENOMEM;
        case EAI_SYSTEM:
                return negative_errno();
        default:
                return -EIO;
        }
}

static void query_unlink(DnsQuery *q) {
        DnsResolver *r = q->resolver;

        if (q->prev)
                q->prev->next = q->next;
        else if (r && r->queries == q)
                r->queries = q->next;
        if (q->next)
                q->next->prev = q->prev;
        q->prev = q->next = NULL;
}

static DnsQuery *query_free(DnsQuery *q) {
        if (!q)
                return NULL;
        query_unlink(q);
        if (q->gcb.ar_result)
                freeaddrinfo(q->gcb.ar_result);
        free(q->host);
        return mfree(q);
}

/* Runs on a glibc helper thread: only posts the pointer. A pipe write of a pointer is atomic. */
static void notify_thread(union sigval v) {
        DnsQuery *q = v.sival_ptr;
        ssize_t n;

        do
                n = write(q->resolver->pipe_fd[1], &q, sizeof(q));
        while (n < 0 && errno == EINTR);
}

static void complete(DnsQuery *q) {
        DnsResolver *r = q->resolver;
        int e = q->numeric ? 0 : gai_error(&q->gcb);

        r->n_running--;
        if (q->callback)
                q->callback(q, dns_eai_to_errno(e), e == 0 ? q->gcb.ar_result : NULL, q->userdata);
        query_free(q);
}

static int pipe_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        DnsQuery *batch[64];
        ssize_t n;

        n = read(fd, batch, sizeof(batch));
        if (n <= 0)
                return 0;
        for (size_t i = 0; i < (size_t) n / sizeof(DnsQuery *); i++)
                complete(batch[i]);
        return 0;
}

int dns_resolver_new(sd_event *event, DnsResolver **ret) {
        _cleanup_(dns_resolver_freep) DnsResolver *r = NULL;
        int k;

        r = new0(DnsResolver, 1);
        if (!r)
                return -ENOMEM;
        r->pipe_fd[0] = r->pipe_fd[1] = -EBADF;
        /* The write end blocks: a completion must never be lost. The loop drains the read end. */
        if (pipe2(r->pipe_fd, O_CLOEXEC) < 0)
                return -errno;
        k = fd_nonblock(r->pipe_fd[0], true);
        if (k < 0)
                return k;
        k = sd_event_add_io(event, &r->source, r->pipe_fd[0], EPOLLIN, pipe_cb, r);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

DnsResolver *dns_resolver_free(DnsResolver *r) {
        if (!r)
                return NULL;
        r->source = sd_event_source_disable_unref(r->source);
        while (r->queries) {
                DnsQuery *q = r->queries;

                query_unlink(q);
                q->callback = NULL;
                /* A literal's answer waits in the pipe, which is closed below: nobody else holds it. */
                if (q->numeric || gai_cancel(&q->gcb) == EAI_CANCELED) {
                        r->n_running--;
                        query_free(q);
                }
                /* Otherwise a glibc thread still owns it: leave it (and the write end) alone. */
        }
        safe_close(r->pipe_fd[0]);
        if (r->n_running > 0)
                return NULL; /* the helper threads still write to pipe_fd[1] and read r */
        safe_close(r->pipe_fd[1]);
        return mfree(r);
}

/* IP literals need no resolver, so no glibc helper thread either: getaddrinfo() with AI_NUMERICHOST never
 * blocks. The answer still travels through the pipe, so the callback never runs inside dns_resolve(). */
static bool query_resolve_numeric(DnsQuery *q) {
        struct addrinfo hints = q->hints;

        hints.ai_flags |= AI_NUMERICHOST;
        if (getaddrinfo(q->host, q->service, &hints, &q->gcb.ar_result) != 0) {
                q->gcb.ar_result = NULL;
                return false;
        }
        q->numeric = true;
        notify_thread((union sigval){ .sival_ptr = q });
        return true;
}

int dns_resolve(DnsResolver *r, const char *host, uint16_t port, dns_callback_t cb, void *userdata,
                DnsQuery **ret) {
        struct sigevent sev = {};
        DnsQuery *q;
        int e;

        if (isempty(host) || !cb)
                return -EINVAL;
        q = new0(DnsQuery, 1);
        if (!q)
                return -ENOMEM;
        q->host = strdup(host);
        if (!q->host) {
                free(q);
                return -ENOMEM;
        }
        snprintf(q->service, sizeof(q->service), "%u", port);
        q->resolver = r;
        q->callback = cb;
        q->userdata = userdata;
        q->hints = (struct addrinfo){ .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                      .ai_flags = AI_NUMERICSERV };
        q->gcb = (struct gaicb){ .ar_name = q->host, .ar_service = q->service, .ar_request = &q->hints };
        q->list[0] = &q->gcb;
        if (!query_resolve_numeric(q)) {
                sev.sigev_notify = SIGEV_THREAD;
                sev.sigev_value.sival_ptr = q;
                sev.sigev_notify_function = notify_thread;
                e = getaddrinfo_a(GAI_NOWAIT, q->list, 1, &sev);
                if (e != 0) {
                        query_free(q);
                        return dns_eai_to_errno(e);
                }
        }
        r->n_running++;
        q->next = r->queries;
        if (q->next)
                q->next->prev = q;
        r->queries = q;
        if (ret)
                *ret = q;
        return 0;
}

DnsQuery *dns_query_cancel(DnsQuery *q) {
        if (!q)
                return NULL;
        q->callback = NULL;
        q->userdata = NULL;
        if (!q->numeric && gai_cancel(&q->gcb) == EAI_CANCELED) {
                q->resolver->n_running--;
                query_free(q);
        }
        /* else: still running or done but not yet delivered; pipe_cb frees it without calling back. */
        return NULL;
}
