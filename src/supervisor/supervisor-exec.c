/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "fileio.h"
#include "relay-conn.h"
#include "log.h"
#include "path-util.h"
#include "string-util.h"
#include "supervisor-env.h"
#include "supervisor-exec.h"
#include "supervisor-spawn.h"

struct ExecChannel {
        Manager *manager;
        ExecChannel *prev, *next;
        uint32_t id;
        bool tty;

        SpawnedProcess proc;
        sd_event_source *stdin_source, *stdout_source, *stderr_source;
        RelayBuffer stdin_buf;
        bool stdin_eof;   /* EOF received: close stdin once stdin_buf is written */
        bool output_paused;
        bool stdin_backlog;

        bool exited;
        int exit_code;
};

ExecChannel *exec_channel_next(ExecChannel *c) {
        return c->next;
}

ExecChannel *exec_channel_find(Manager *m, uint32_t id) {
        for (ExecChannel *c = m->channels; c; c = c->next)
                if (c->id == id)
                        return c;
        return NULL;
}

ExecChannel *exec_channel_by_pid(Manager *m, pid_t pid) {
        for (ExecChannel *c = m->channels; c; c = c->next)
                if (c->proc.pid == pid && !c->exited)
                        return c;
        return NULL;
}

ExecChannel *exec_channel_free(ExecChannel *c) {
        if (!c)
                return NULL;
        if (c->prev)
                c->prev->next = c->next;
        else
                c->manager->channels = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->manager->n_channels--;
        if (c->stdin_backlog)
                manager_input_backlog(c->manager, false);
        sd_event_source_disable_unref(c->stdin_source);
        sd_event_source_disable_unref(c->stdout_source);
        sd_event_source_disable_unref(c->stderr_source);
        spawned_process_close(&c->proc);
        relay_buffer_done(&c->stdin_buf);
        return mfree(c);
}

void exec_channel_abandon(ExecChannel *c) {
        if (!c->exited)
                (void) kill(-c->proc.pid, SIGHUP);
        exec_channel_free(c);
}

/* EXIT goes out once the process has exited and every output stream reached its end. */
static void exec_channel_maybe_done(ExecChannel *c) {
        if (!c->exited || c->stdout_source || c->stderr_source)
                return;
        (void) manager_send_u32(c->manager, RELAY_FRAME_EXIT, c->id, (uint32_t) c->exit_code);
        exec_channel_free(c);
}

static void exec_channel_output_closed(ExecChannel *c, sd_event_source **s) {
        *s = sd_event_source_disable_unref(*s);
        exec_channel_maybe_done(c);
}

static int exec_output_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ExecChannel *c = userdata;
        bool is_err = s == c->stderr_source;
        uint8_t buf[EXEC_READ_CHUNK];
        ssize_t n;

        /* Check before reading: with many busy channels the session grows by one chunk at most. */
        if (manager_congested(c->manager)) {
                exec_channel_pause_output(c, true);
                return 0;
        }
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && IN_SET(errno, EAGAIN, EINTR))
                return 0;
        if (n <= 0) {
                /* EOF, or EIO on a pty master once the last slave is closed. */
                exec_channel_output_closed(c, is_err ? &c->stderr_source : &c->stdout_source);
                return 0;
        }
        if (manager_send(c->manager, is_err ? RELAY_FRAME_STDERR : RELAY_FRAME_STDOUT, c->id, buf, (size_t) n) < 0)
                exec_channel_abandon(c);
        return 0;
}

void exec_channel_pause_output(ExecChannel *c, bool paused) {
        c->output_paused = paused;
        if (c->stdout_source)
                (void) sd_event_source_set_enabled(c->stdout_source, paused ? SD_EVENT_OFF : SD_EVENT_ON);
        if (c->stderr_source)
                (void) sd_event_source_set_enabled(c->stderr_source, paused ? SD_EVENT_OFF : SD_EVENT_ON);
}

static void exec_channel_close_stdin(ExecChannel *c) {
        static const char veof = 4; /* ^D: end of input on a terminal in canonical mode */

        c->stdin_source = sd_event_source_disable_unref(c->stdin_source);
        if (c->tty)
                (void) write(c->proc.stdin_fd, &veof, 1);
        else
                c->proc.stdin_fd = safe_close(c->proc.stdin_fd);
}

/* Writes what stdin_buf holds; arms EPOLLOUT while something is left. */
static int exec_channel_flush_stdin(ExecChannel *c) {
        while (relay_buffer_pending(&c->stdin_buf) > 0) {
                ssize_t n = write(c->proc.stdin_fd, relay_buffer_head(&c->stdin_buf), relay_buffer_pending(&c->stdin_buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0) {
                        /* The process closed its stdin (EPIPE): drop what it will never read. */
                        relay_buffer_done(&c->stdin_buf);
                        c->stdin_eof = true;
                        break;
                }
                relay_buffer_consume(&c->stdin_buf, (size_t) n);
        }
        if (c->stdin_backlog && relay_buffer_pending(&c->stdin_buf) < RELAY_CONN_LOW_WATER) {
                c->stdin_backlog = false;
                manager_input_backlog(c->manager, false);
        }
        if (relay_buffer_pending(&c->stdin_buf) == 0 && c->stdin_eof && c->proc.stdin_fd >= 0) {
                exec_channel_close_stdin(c);
                return 0;
        }
        if (c->stdin_source)
                return sd_event_source_set_enabled(c->stdin_source,
                                                   relay_buffer_pending(&c->stdin_buf) > 0 ? SD_EVENT_ON : SD_EVENT_OFF);
        return 0;
}

static int exec_stdin_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        (void) exec_channel_flush_stdin(userdata);
        return 0;
}

static void exec_channel_stdin(ExecChannel *c, const RelayFrame *f) {
        if (c->stdin_eof || c->proc.stdin_fd < 0)
                return;
        if (relay_buffer_pending(&c->stdin_buf) + f->size > RELAY_CONN_OUTPUT_MAX || /* a peer ignoring flow control */
            relay_buffer_append(&c->stdin_buf, f->payload, f->size) < 0) {
                (void) manager_send(c->manager, RELAY_FRAME_ERROR, c->id, "stdin overflow", STRLEN("stdin overflow"));
                exec_channel_abandon(c);
                return;
        }
        (void) exec_channel_flush_stdin(c);
        if (!c->stdin_backlog && relay_buffer_pending(&c->stdin_buf) > RELAY_CONN_HIGH_WATER) {
                /* The process reads slower than the peer sends: stop reading the session for a while. */
                c->stdin_backlog = true;
                manager_input_backlog(c->manager, true);
        }
}

void exec_channel_frame(ExecChannel *c, const RelayFrame *f) {
        switch (f->type) {
        case RELAY_FRAME_STDIN:
                exec_channel_stdin(c, f);
                break;
        case RELAY_FRAME_EOF:
                c->stdin_eof = true;
                (void) exec_channel_flush_stdin(c);
                break;
        case RELAY_FRAME_RESIZE:
                if (c->tty) {
                        struct winsize ws = {};
                        relay_frame_get_resize(f, &ws.ws_row, &ws.ws_col);
                        (void) ioctl(c->proc.stdin_fd, TIOCSWINSZ, &ws);
                }
                break;
        case RELAY_FRAME_SIGNAL: {
                uint32_t sig = relay_frame_get_u32(f);
                if (sig > 0 && sig < (uint32_t) NSIG && !c->exited)
                        (void) kill(-c->proc.pid, (int) sig);
                break;
        }
        case RELAY_FRAME_CLOSE:
                exec_channel_abandon(c);
                break;
        case RELAY_FRAME_PING:
        case RELAY_FRAME_PONG:
        case RELAY_FRAME_OPEN:
        case RELAY_FRAME_STDOUT:
        case RELAY_FRAME_STDERR:
        case RELAY_FRAME_EXIT:
        case RELAY_FRAME_ERROR:
        case _RELAY_FRAME_TYPE_MAX:
        case _RELAY_FRAME_TYPE_INVALID:
                log_debug("Ignoring %s frame on channel %" PRIu32 ".", strna(relay_frame_type_to_string(f->type)), c->id);
                break;
        }
}

void exec_channel_exited(ExecChannel *c, int status) {
        c->exited = true;
        c->exit_code = spawn_exit_code(status);
        exec_channel_maybe_done(c);
}

static void exec_fail(Manager *m, uint32_t id, int code, const char *fmt, ...) _printf_(4, 5);
static void exec_fail(Manager *m, uint32_t id, int code, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        (void) manager_send(m, RELAY_FRAME_ERROR, id, msg, strlen(msg));
        (void) manager_send_u32(m, RELAY_FRAME_EXIT, id, (uint32_t) code);
}

/* upload/download are tar in the sandbox: busybox, GNU and bsdtar all speak these options. */
static int exec_open_argv(RelayOpen *o) {
        _cleanup_free_ char *dir = NULL;
        char **argv = NULL;
        int r;

        if (o->kind == RELAY_OPEN_EXEC)
                return 0;
        if (o->kind == RELAY_OPEN_UPLOAD) {
                r = mkdir_p(o->path, 0755);
                if (r < 0)
                        return r;
                /* -o: the files belong to whoever extracts them, like scp; restoring the uploader's uid
                 * would need CAP_CHOWN, which the agent does not have. GNU and busybox tar both take it. */
                if (strv_extend(&argv, "tar") < 0 || strv_extend(&argv, "-x") < 0 || strv_extend(&argv, "-o") < 0 ||
                    strv_extend(&argv, "-f") < 0 || strv_extend(&argv, "-") < 0 || strv_extend(&argv, "-C") < 0 ||
                    strv_extend(&argv, o->path) < 0)
                        goto oom;
        } else {
                const char *base = path_basename(o->path);

                dir = strndup_safe(o->path, (size_t) (base - o->path));
                if (!dir)
                        goto oom;
                if (strv_extend(&argv, "tar") < 0 || strv_extend(&argv, "-c") < 0 || strv_extend(&argv, "-f") < 0 ||
                    strv_extend(&argv, "-") < 0 || strv_extend(&argv, "-C") < 0 ||
                    strv_extend(&argv, isempty(dir) ? "/" : dir) < 0 || strv_extend(&argv, *base ? base : ".") < 0)
                        goto oom;
        }
        strv_free(o->argv);
        o->argv = argv;
        o->tty = false;
        return 0;
oom:
        strv_free(argv);
        return -ENOMEM;
}

static int exec_channel_watch(ExecChannel *c) {
        sd_event *e = c->manager->event;
        int r;

        r = sd_event_add_io(e, &c->stdout_source, c->proc.stdout_fd, EPOLLIN, exec_output_cb, c);
        if (r >= 0 && c->proc.stderr_fd >= 0)
                r = sd_event_add_io(e, &c->stderr_source, c->proc.stderr_fd, EPOLLIN, exec_output_cb, c);
        if (r >= 0)
                r = sd_event_add_io(e, &c->stdin_source, c->proc.stdin_fd, EPOLLOUT, exec_stdin_cb, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->stdin_source, SD_EVENT_OFF);
        if (r >= 0 && manager_congested(c->manager))
                exec_channel_pause_output(c, true);
        return r;
}

static int exec_channel_start(Manager *m, uint32_t id, RelayOpen *o, ExecChannel **ret) {
        _cleanup_strv_free_ char **env = NULL;
        ExecChannel *c;
        int r;

        r = exec_open_argv(o);
        if (r < 0)
                return r;
        r = supervisor_env_build(m->config->base_env, o->env, o->tty, &env);
        if (r < 0)
                return r;
        c = new0(ExecChannel, 1);
        if (!c)
                return -ENOMEM;
        *c = (ExecChannel) { .manager = m, .id = id, .tty = o->tty, .next = m->channels,
                             .proc = { .stdin_fd = -EBADF, .stdout_fd = -EBADF, .stderr_fd = -EBADF } };
        if (m->channels)
                m->channels->prev = c;
        m->channels = c;
        m->n_channels++;

        SpawnOptions so = { .argv = o->argv, .env = env, .workdir = o->workdir, .tty = o->tty, .rows = o->rows,
                            .cols = o->cols, .landlock_fd = m->config->landlock_fd,
                            .syscall_filter = m->config->syscall_filter };
        r = spawn_process(&so, &c->proc);
        if (r >= 0)
                r = exec_channel_watch(c);
        if (r < 0) {
                if (c->proc.pid > 0)
                        (void) kill(-c->proc.pid, SIGKILL);
                exec_channel_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

void exec_channel_open(Manager *m, uint32_t id, const RelayFrame *f) {
        _cleanup_(relay_open_done) RelayOpen o = {};
        const char *error = NULL;
        ExecChannel *c;
        int r;

        if (exec_channel_find(m, id)) {
                exec_fail(m, id, 127, "channel %" PRIu32 " is already open", id);
                return;
        }
        if (m->n_channels >= SUPERVISOR_CHANNELS_MAX) {
                exec_fail(m, id, 127, "too many sessions in this sandbox (at most %u)", SUPERVISOR_CHANNELS_MAX);
                return;
        }
        r = relay_open_from_json(f->payload, f->size, &o, &error);
        if (r < 0) {
                exec_fail(m, id, 127, "invalid request: %s", strna(error));
                return;
        }
        r = exec_channel_start(m, id, &o, &c);
        if (r == -ENOTTY) {
                exec_fail(m, id, 126, "cannot allocate a terminal in the sandbox (is /dev/pts mounted?)");
                return;
        }
        if (r < 0) {
                errno = -r;
                exec_fail(m, id, r == -ENOENT ? 127 : 126, "cannot run '%s': %m", o.argv ? o.argv[0] : "tar");
                return;
        }
        log_debug("Channel %" PRIu32 ": %s '%s' as PID %d%s.", id, relay_open_kind_to_string(o.kind), o.argv[0],
                  (int) c->proc.pid, o.tty ? " on a pty" : "");
}
