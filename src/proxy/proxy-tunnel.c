/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "log.h"
#include "proxy-tunnel.h"

typedef struct TunnelDir {
        int pipe[2];
        size_t in_pipe;
        bool eof;  /* source reached EOF */
        bool shut; /* EOF propagated to the destination */
        uint64_t bytes;
} TunnelDir;

struct Tunnel {
        sd_event *event;
        int fd[2]; /* a, b */
        sd_event_source *io[2];
        sd_event_source *timer;
        TunnelDir dir[2]; /* dir[0]: a → b, dir[1]: b → a */
        size_t pipe_size;
        usec_t idle_timeout;
        usec_t last_activity;
        tunnel_done_t callback;
        void *userdata;
        bool done;
};

Tunnel *tunnel_free(Tunnel *t) {
        if (!t)
                return NULL;
        for (int i = 0; i < 2; i++) {
                sd_event_source_disable_unref(t->io[i]);
                safe_close(t->fd[i]);
                safe_close(t->dir[i].pipe[0]);
                safe_close(t->dir[i].pipe[1]);
        }
        sd_event_source_disable_unref(t->timer);
        sd_event_unref(t->event);
        return mfree(t);
}

uint64_t tunnel_bytes_a_to_b(const Tunnel *t) {
        return t->dir[0].bytes;
}

uint64_t tunnel_bytes_b_to_a(const Tunnel *t) {
        return t->dir[1].bytes;
}

/* Moves what it can for one direction; returns 1 if anything moved, 0 if not, or a negative errno. */
static int pump(Tunnel *t, TunnelDir *d, int src, int dst) {
        bool moved = false;
        ssize_t n;

        for (;;) {
                bool progress = false;

                if (!d->eof && d->in_pipe < t->pipe_size) {
                        n = splice(src, NULL, d->pipe[1], NULL, t->pipe_size - d->in_pipe,
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                        if (n == 0)
                                d->eof = true;
                        else if (n > 0) {
                                d->in_pipe += (size_t) n;
                                progress = true;
                        } else if (errno != EAGAIN && errno != EINTR)
                                return -errno;
                }
                if (d->in_pipe > 0) {
                        n = splice(d->pipe[0], NULL, dst, NULL, d->in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                        if (n > 0) {
                                d->in_pipe -= (size_t) n;
                                d->bytes += (uint64_t) n;
                                progress = true;
                        } else if (n < 0 && errno != EAGAIN && errno != EINTR)
                                return -errno;
                }
                if (!progress)
                        break;
                moved = true;
        }
        if (d->eof && d->in_pipe == 0 && !d->shut) {
                d->shut = true;
                if (shutdown(dst, SHUT_WR) < 0 && errno != ENOTCONN)
                        return -errno;
        }
        return moved;
}

static int update_events(Tunnel *t) {
        for (int i = 0; i < 2; i++) {
                const TunnelDir *out = &t->dir[i], *in = &t->dir[1 - i];
                uint32_t mask = 0;
                int r;

                /* fd[i] is the source of dir[i] and the destination of dir[1-i]. */
                if (!out->eof && out->in_pipe < t->pipe_size)
                        mask |= EPOLLIN;
                if (in->in_pipe > 0)
                        mask |= EPOLLOUT;
                r = sd_event_source_set_io_events(t->io[i], mask);
                if (r < 0)
                        return r;
                r = sd_event_source_set_enabled(t->io[i], mask ? SD_EVENT_ON : SD_EVENT_OFF);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void finish(Tunnel *t, int error) {
        if (t->done)
                return;
        t->done = true;
        for (int i = 0; i < 2; i++)
                (void) sd_event_source_set_enabled(t->io[i], SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(t->timer, SD_EVENT_OFF);
        t->callback(t, error, t->userdata); /* may free t */
}

static int io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Tunnel *t = userdata;
        int r, moved = 0;

        for (int i = 0; i < 2; i++) {
                r = pump(t, &t->dir[i], t->fd[i], t->fd[1 - i]);
                if (r < 0) {
                        finish(t, r);
                        return 0;
                }
                moved |= r;
        }
        if (moved)
                t->last_activity = now_usec(CLOCK_MONOTONIC);
        if (t->dir[0].shut && t->dir[1].shut) {
                finish(t, 0);
                return 0;
        }
        if ((revents & EPOLLERR) && !moved) {
                finish(t, -ECONNRESET);
                return 0;
        }
        r = update_events(t);
        if (r < 0)
                finish(t, r);
        return 0;
}

static int timer_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        Tunnel *t = userdata;
        usec_t deadline = t->last_activity + t->idle_timeout;

        if (usec < deadline) {
                (void) sd_event_source_set_time(s, deadline);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }
        finish(t, -ETIMEDOUT);
        return 0;
}

/* Returns the pipe's real capacity, which is the per-direction buffer: the kernel rounds the request up
 * to pages and may refuse it (then the default stays). */
static int make_pipe(int p[2], size_t size) {
        int n;

        if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
                return -errno;
        (void) fcntl(p[1], F_SETPIPE_SZ, (int) size);
        n = fcntl(p[1], F_GETPIPE_SZ);
        return n > 0 ? n : -EIO;
}

int tunnel_new(sd_event *event, int fd_a, int fd_b, size_t pipe_size, usec_t idle_timeout, tunnel_done_t cb,
               void *userdata, Tunnel **ret) {
        _cleanup_(tunnel_freep) Tunnel *t = NULL;
        int r;

        t = new0(Tunnel, 1);
        if (!t) {
                safe_close(fd_a);
                safe_close(fd_b);
                return -ENOMEM;
        }
        t->fd[0] = fd_a;
        t->fd[1] = fd_b;
        t->dir[0].pipe[0] = t->dir[0].pipe[1] = t->dir[1].pipe[0] = t->dir[1].pipe[1] = -EBADF;
        t->event = sd_event_ref(event);
        t->pipe_size = pipe_size;
        t->idle_timeout = idle_timeout;
        t->callback = cb;
        t->userdata = userdata;
        t->last_activity = now_usec(CLOCK_MONOTONIC);
        for (int i = 0; i < 2; i++) {
                r = make_pipe(t->dir[i].pipe, pipe_size);
                if (r < 0)
                        return r;
                t->pipe_size = i == 0 ? (size_t) r : MIN(t->pipe_size, (size_t) r);
                r = sd_event_add_io(event, &t->io[i], t->fd[i], EPOLLIN, io_cb, t);
                if (r < 0)
                        return r;
        }
        r = sd_event_add_time(event, &t->timer, CLOCK_MONOTONIC, t->last_activity + idle_timeout, USEC_PER_SEC,
                              timer_cb, t);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}
