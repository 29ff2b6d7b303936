/* SPDX-License-Identifier: Apache-2.0 */
/* openshell sandbox exec|connect|upload|download: one relay channel through the gateway
 * (POST /v1/sandboxes/NAME/exec, upgraded to openshell-relay/1; docs/supervisor.md).
 *
 * A poll() loop over the (non-blocking) gateway socket, an input fd (our stdin, or a local tar's output)
 * and a signalfd: input becomes STDIN frames (read only while less than RELAY_CONN_HIGH_WATER is queued
 * for the gateway, so a slow remote never makes us buffer without bound), STDOUT/STDERR frames go to the
 * output fds, SIGWINCH becomes RESIZE and SIGINT/SIGTERM/SIGHUP become SIGNAL (without a tty; with
 * --tty the terminal is raw and ^C travels as a byte). EXIT ends it with the remote code. */
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "alloc-util.h"
#include "cli.h"
#include "fd-util.h"
#include "fileio.h"
#include "http-message.h"
#include "json-util.h"
#include "path-util.h"
#include "relay-client.h"
#include "relay-conn.h"
#include "relay-proto.h"
#include "string-util.h"

#define CLI_RELAY_CHANNEL 1U
#define CLI_RELAY_READ_CHUNK (32U * 1024U)
#define CLI_RELAY_INPUT_SIZE (RELAY_FRAME_HEADER_SIZE + RELAY_FRAME_PAYLOAD_MAX + CLI_RELAY_READ_CHUNK)

typedef struct Relay {
        int fd;
        SSL_CTX *ctx;
        SSL *ssl;
        uint8_t *in;
        size_t in_len;
        RelayBuffer out;
} Relay;

static void relay_done(Relay *r) {
        if (r->ssl)
                SSL_free(r->ssl);
        if (r->ctx)
                SSL_CTX_free(r->ctx);
        safe_close(r->fd);
        free(r->in);
        relay_buffer_done(&r->out);
}

/* Returns bytes, 0 at EOF, -EAGAIN, or -EPROTO/-errno. */
static ssize_t relay_read(Relay *r, void *buf, size_t n) {
        if (!r->ssl) {
                ssize_t k = read(r->fd, buf, n);
                return k < 0 ? negative_errno() : k;
        }
        ERR_clear_error();
        int k = SSL_read(r->ssl, buf, (int) MIN(n, (size_t) INT_MAX));
        if (k > 0)
                return k;
        switch (SSL_get_error(r->ssl, k)) {
        case SSL_ERROR_ZERO_RETURN:
                return 0;
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
                return -EAGAIN;
        case SSL_ERROR_SYSCALL:
                return errno == EAGAIN ? -EAGAIN : errno > 0 ? -errno : 0;
        default:
                return -EPROTO;
        }
}

static ssize_t relay_write(Relay *r, const void *buf, size_t n) {
        if (!r->ssl) {
                ssize_t k = send(r->fd, buf, n, MSG_NOSIGNAL);
                return k < 0 ? negative_errno() : k;
        }
        ERR_clear_error();
        int k = SSL_write(r->ssl, buf, (int) MIN(n, (size_t) INT_MAX));
        if (k > 0)
                return k;
        switch (SSL_get_error(r->ssl, k)) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
                return -EAGAIN;
        default:
                return -EPIPE;
        }
}

static int relay_flush(Relay *r) {
        while (relay_buffer_pending(&r->out) > 0) {
                ssize_t k = relay_write(r, relay_buffer_head(&r->out), relay_buffer_pending(&r->out));
                if (k == -EAGAIN)
                        return 0;
                if (k < 0)
                        return (int) k;
                relay_buffer_consume(&r->out, (size_t) k);
        }
        return 0;
}

/* Blocking phase: TCP, TLS, and the upgrade. Afterwards the socket is non-blocking. */
static int relay_dial(const CliGateway *g, const RelayEndpoint *e, Relay *r) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
        char port[8];
        int k;

        snprintf(port, sizeof(port), "%u", e->port);
        k = getaddrinfo(e->host, port, &hints, &ai);
        if (k != 0)
                return cli_error(CLI_EXIT_UNAVAILABLE, "cannot resolve the gateway %s: %s", e->host, gai_strerror(k));
        r->fd = -EBADF;
        for (struct addrinfo *a = ai; a && r->fd < 0; a = a->ai_next) {
                r->fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (r->fd >= 0 && connect(r->fd, a->ai_addr, a->ai_addrlen) < 0)
                        r->fd = safe_close(r->fd);
        }
        /* Keystrokes and small frames: no Nagle delay (it meets delayed ACKs at 40 ms). */
        if (r->fd >= 0)
                (void) setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &(int) { 1 }, sizeof(int));
        freeaddrinfo(ai);
        if (r->fd < 0)
                return cli_error(CLI_EXIT_UNAVAILABLE, "cannot connect to the gateway at %s: %m. Is it running? "
                                 "'systemctl status openshell-gateway.socket'", g->url);
        if (!e->tls)
                return 0;
        k = relay_client_context_new(g->ca, g->cert, g->key, &r->ctx);
        if (k < 0)
                return cli_error(CLI_EXIT_UNAVAILABLE, "cannot load the client certificate (%s, %s, %s): %s; see 'openshell gateway info'",
                                 strna(g->ca), strna(g->cert), strna(g->key), strerror(-k));
        r->ssl = SSL_new(r->ctx);
        if (!r->ssl || SSL_set_fd(r->ssl, r->fd) != 1 || relay_client_set_server_name(r->ssl, e->host) < 0)
                return cli_error(CLI_EXIT_FAILURE, "cannot set up TLS");
        ERR_clear_error();
        if (SSL_connect(r->ssl) != 1) {
                char buf[256] = "handshake failed";
                unsigned long err = ERR_peek_last_error();
                if (err)
                        ERR_error_string_n(err, buf, sizeof(buf));
                return cli_error(CLI_EXIT_UNAVAILABLE, "TLS with the gateway at %s failed: %s; check the certificates "
                                 "('openshell gateway info')", g->url, buf);
        }
        return 0;
}

static int relay_upgrade(Relay *r, const RelayEndpoint *e, const char *path) {
        _cleanup_free_ char *req = relay_upgrade_request("POST", path, e);
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        HttpMessage *m;
        size_t consumed;
        int k;

        if (!req || http_parser_new(HTTP_PARSER_RESPONSE, NULL, &p) < 0 || relay_buffer_append(&r->out, req, strlen(req)) < 0)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        while (relay_buffer_pending(&r->out) > 0)
                if (relay_flush(r) < 0)
                        return cli_error(CLI_EXIT_UNAVAILABLE, "the gateway closed the connection");
        for (;;) {
                ssize_t n = relay_read(r, r->in + r->in_len, CLI_RELAY_INPUT_SIZE - r->in_len);
                if (n <= 0)
                        return cli_error(CLI_EXIT_UNAVAILABLE, "the gateway closed the connection before answering");
                k = http_parser_feed(p, r->in, (size_t) n, &consumed);
                if (k < 0)
                        return cli_error(CLI_EXIT_UNAVAILABLE, "the gateway's answer is not HTTP");
                memmove(r->in, r->in + consumed, (size_t) n - consumed);
                r->in_len = (size_t) n - consumed;
                if (k == HTTP_PARSE_HEAD)
                        break;
        }
        m = http_parser_message(p);
        if (relay_upgrade_check_response(m) >= 0)
                return 0;
        /* An API error: its JSON body (if it came with the head, which the gateway's small answers do). */
        _cleanup_json_ cJSON *j = NULL;
        if (r->in_len > 0)
                j = cJSON_ParseWithLength((const char *) r->in, r->in_len);
        return cli_api_error(m->status, j, "cannot open the session");
}

typedef struct RelayIo {
        int in_fd;           /* STDIN frames from here; -1 when done */
        int out_fd, err_fd;  /* STDOUT and STDERR frames go here */
        bool tty;
        int exit_code;       /* -1 until EXIT */
} RelayIo;

static int relay_frame(Relay *r, RelayIo *io, const RelayFrame *f) {
        switch (f->type) {
        case RELAY_FRAME_STDOUT:
        case RELAY_FRAME_STDERR: {
                int fd = f->type == RELAY_FRAME_STDOUT ? io->out_fd : io->err_fd;
                if (fd >= 0 && loop_write(fd, f->payload, f->size) < 0 && f->type == RELAY_FRAME_STDOUT) {
                        /* Our reader went away (a closed pipe): stop the remote side as a pipe would. */
                        (void) relay_buffer_put_u32(&r->out, RELAY_FRAME_SIGNAL, CLI_RELAY_CHANNEL, SIGPIPE);
                        io->out_fd = -1;
                }
                return 0;
        }
        case RELAY_FRAME_ERROR:
                fprintf(stderr, "openshell: %.*s\n", (int) f->size, (const char *) f->payload);
                return 0;
        case RELAY_FRAME_EXIT:
                io->exit_code = (int) MIN(relay_frame_get_u32(f), 255U);
                return 1;
        case RELAY_FRAME_PING:
                return relay_buffer_put_frame(&r->out, RELAY_FRAME_PONG, RELAY_CHANNEL_CONTROL, NULL, 0);
        case RELAY_FRAME_PONG:
        case RELAY_FRAME_OPEN:
        case RELAY_FRAME_STDIN:
        case RELAY_FRAME_RESIZE:
        case RELAY_FRAME_SIGNAL:
        case RELAY_FRAME_EOF:
        case RELAY_FRAME_CLOSE:
        case _RELAY_FRAME_TYPE_MAX:
        case _RELAY_FRAME_TYPE_INVALID:
                break;
        }
        return 0;
}

/* Reads what the socket has and handles whole frames. 1: EXIT seen; 0: more; <0: failure. */
static int relay_receive(Relay *r, RelayIo *io) {
        for (;;) {
                ssize_t n = relay_read(r, r->in + r->in_len, CLI_RELAY_INPUT_SIZE - r->in_len);
                size_t off = 0;
                int k = 0;

                if (n == -EAGAIN)
                        return 0;
                if (n <= 0)
                        return n == 0 ? -ECONNRESET : (int) n;
                r->in_len += (size_t) n;
                for (;;) {
                        RelayFrame f;
                        size_t used;

                        k = relay_frame_parse(r->in + off, r->in_len - off, &f, &used);
                        if (k <= 0)
                                break;
                        off += used;
                        if (f.channel != CLI_RELAY_CHANNEL && f.channel != RELAY_CHANNEL_CONTROL)
                                continue;
                        k = relay_frame(r, io, &f);
                        if (k != 0)
                                break;
                }
                memmove(r->in, r->in + off, r->in_len - off);
                r->in_len -= off;
                if (k != 0)
                        return k;
        }
}

static int relay_send_winsize(Relay *r) {
        struct winsize ws = {};

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
                return 0;
        return relay_buffer_put_resize(&r->out, CLI_RELAY_CHANNEL, ws.ws_row, ws.ws_col);
}

static int relay_signal(Relay *r, RelayIo *io, int sfd) {
        struct signalfd_siginfo si;

        if (read(sfd, &si, sizeof(si)) != (ssize_t) sizeof(si))
                return 0;
        if (si.ssi_signo == SIGWINCH)
                return io->tty ? relay_send_winsize(r) : 0;
        return relay_buffer_put_u32(&r->out, RELAY_FRAME_SIGNAL, CLI_RELAY_CHANNEL, si.ssi_signo);
}

static int relay_input(Relay *r, RelayIo *io) {
        uint8_t buf[CLI_RELAY_READ_CHUNK];
        ssize_t n = read(io->in_fd, buf, sizeof(buf));

        if (n < 0 && IN_SET(errno, EAGAIN, EINTR))
                return 0;
        if (n <= 0) {
                io->in_fd = -1;
                return relay_buffer_put_frame(&r->out, RELAY_FRAME_EOF, CLI_RELAY_CHANNEL, NULL, 0);
        }
        return relay_buffer_put_frame(&r->out, RELAY_FRAME_STDIN, CLI_RELAY_CHANNEL, buf, (size_t) n);
}

static int relay_loop(Relay *r, RelayIo *io, int sfd) {
        int k;

        for (;;) {
                struct pollfd p[3] = {
                        { .fd = r->fd, .events = POLLIN | (relay_buffer_pending(&r->out) > 0 ? POLLOUT : 0) },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = relay_buffer_pending(&r->out) < RELAY_CONN_HIGH_WATER ? io->in_fd : -1, .events = POLLIN },
                };

                k = relay_flush(r);
                if (k < 0)
                        return k;
                /* OpenSSL may hold decrypted bytes that poll() cannot see. */
                if (!(r->ssl && SSL_pending(r->ssl) > 0) && poll(p, ELEMENTSOF(p), -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) || (r->ssl && SSL_pending(r->ssl) > 0)) {
                        k = relay_receive(r, io);
                        if (k != 0)
                                return k < 0 ? k : relay_flush(r);
                }
                if (p[1].revents & POLLIN)
                        (void) relay_signal(r, io, sfd);
                if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
                        k = relay_input(r, io);
                        if (k < 0)
                                return k;
                }
        }
}

static struct termios saved_termios;
static bool termios_saved;

static void tty_restore(void) {
        if (termios_saved)
                (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
        termios_saved = false;
}

static int tty_raw(void) {
        struct termios t;

        if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return negative_errno();
        t = saved_termios;
        cfmakeraw(&t);
        if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) < 0)
                return negative_errno();
        termios_saved = true;
        return 0;
}

/* Opens the channel described by o and runs it to its EXIT. Returns the remote exit code, or a CliExit
 * (CLI_EXIT_RELAY when the relay broke). */
static int relay_run(CliContext *ctx, const char *name, RelayOpen *o, RelayIo *io) {
        _cleanup_(relay_done) Relay r = { .fd = -EBADF };
        _cleanup_free_ char *path = NULL, *open_json = NULL;
        _cleanup_close_ int sfd = -EBADF;
        RelayEndpoint e;
        CliGateway *g;
        sigset_t ss;
        size_t n;
        int k;

        k = cli_gateway_resolve(ctx, &g);
        if (k != 0)
                return k;
        if (relay_endpoint_parse(g->url, &e) < 0)
                return cli_error(CLI_EXIT_USAGE, "the gateway URL '%s' is not https://HOST[:PORT]", g->url);
        path = strjoin("/v1/sandboxes/", name, "/exec");
        r.in = malloc(CLI_RELAY_INPUT_SIZE);
        if (!path || !r.in)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        k = relay_dial(g, &e, &r);
        if (k == 0)
                k = relay_upgrade(&r, &e, path);
        if (k != 0)
                return k;
        if (o->tty && isatty(STDIN_FILENO)) {
                struct winsize ws = {};
                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) >= 0)
                        o->rows = ws.ws_row, o->cols = ws.ws_col;
        }
        if (relay_open_to_json(o, &open_json, &n) < 0 ||
            relay_buffer_put_frame(&r.out, RELAY_FRAME_OPEN, CLI_RELAY_CHANNEL, open_json, n) < 0)
                return cli_error(CLI_EXIT_USAGE, "the command and its environment are too large (at most %u bytes)", RELAY_FRAME_PAYLOAD_MAX);
        if (io->in_fd < 0 && relay_buffer_put_frame(&r.out, RELAY_FRAME_EOF, CLI_RELAY_CHANNEL, NULL, 0) < 0)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");

        sigemptyset(&ss);
        sigaddset(&ss, SIGWINCH);
        if (!o->tty || !isatty(STDIN_FILENO)) {
                sigaddset(&ss, SIGINT);
                sigaddset(&ss, SIGTERM);
                sigaddset(&ss, SIGHUP);
        }
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0 || (sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
                return cli_error(CLI_EXIT_FAILURE, "cannot set up signal handling: %m");
        /* A gateway that hangs up must be an error from SSL_write(), not our death. */
        (void) signal(SIGPIPE, SIG_IGN);
        (void) fd_nonblock(r.fd, true);
        if (io->in_fd >= 0)
                (void) fd_nonblock(io->in_fd, true);
        if (o->tty && isatty(STDIN_FILENO) && tty_raw() < 0)
                return cli_error(CLI_EXIT_FAILURE, "cannot put the terminal in raw mode: %m");
        io->tty = o->tty;
        io->exit_code = -1;
        k = relay_loop(&r, io, sfd);
        tty_restore();
        if (io->in_fd >= 0)
                (void) fd_nonblock(io->in_fd, false);
        if (k < 0 || io->exit_code < 0)
                return cli_error(CLI_EXIT_RELAY, "the session to sandbox '%s' broke%s%s", name, k < 0 ? ": " : "",
                                 k < 0 ? strerror(-k) : "");
        return io->exit_code;
}

static int exec_parse(int argc, char **argv, RelayOpen *o, const char *verb, const char **ret_name) {
        static const struct option options[] = {
                { "tty", no_argument, NULL, 't' }, { "env", required_argument, NULL, 'e' },
                { "workdir", required_argument, NULL, 'w' }, {},
        };
        int c;

        optind = 0;
        /* Options before and after NAME; the command starts at "--" (or at the first word after NAME). */
        for (;;) {
                c = getopt_long(argc, argv, "+te:w:", options, NULL);
                if (c < 0) {
                        if (optind < argc && !streq(argv[optind - 1], "--") && !*ret_name) {
                                *ret_name = argv[optind++];
                                continue;
                        }
                        break;
                }
                switch (c) {
                case 't':
                        o->tty = true;
                        break;
                case 'e':
                        if (!relay_env_entry_is_valid(optarg))
                                return cli_usage_error("sandbox", verb, "--env wants KEY=VALUE, got '%s'", optarg);
                        if (strv_extend(&o->env, optarg) < 0)
                                return cli_error(CLI_EXIT_FAILURE, "out of memory");
                        break;
                case 'w':
                        if (!path_is_normalized_absolute(optarg))
                                return cli_usage_error("sandbox", verb, "--workdir wants an absolute path");
                        free(o->workdir);
                        o->workdir = strdup(optarg);
                        break;
                default:
                        return cli_usage_error("sandbox", verb, "unknown option");
                }
        }
        if (!*ret_name || !cli_is_valid_name(*ret_name))
                return cli_usage_error("sandbox", verb, "missing or invalid sandbox NAME");
        return 0;
}

int cli_sandbox_exec(CliContext *ctx, int argc, char **argv) {
        _cleanup_(relay_open_done) RelayOpen o = { .kind = RELAY_OPEN_EXEC };
        RelayIo io = { .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO };
        const char *name = NULL;
        int r;

        r = exec_parse(argc, argv, &o, "exec", &name);
        if (r != 0)
                return r;
        if (optind >= argc)
                return cli_usage_error("sandbox", "exec", "missing the COMMAND: openshell sandbox exec %s -- COMMAND [ARG...]", name);
        for (int i = optind; i < argc; i++)
                if (strv_extend(&o.argv, argv[i]) < 0)
                        return cli_error(CLI_EXIT_FAILURE, "out of memory");
        return relay_run(ctx, name, &o, &io);
}

int cli_sandbox_connect(CliContext *ctx, int argc, char **argv) {
        _cleanup_(relay_open_done) RelayOpen o = { .kind = RELAY_OPEN_EXEC, .tty = true };
        RelayIo io = { .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO };
        const char *term = getenv("TERM"), *name = NULL;
        int r;

        r = exec_parse(argc, argv, &o, "connect", &name);
        if (r != 0)
                return r;
        if (optind != argc)
                return cli_usage_error("sandbox", "connect", "unexpected argument '%s' (use 'sandbox exec' to run a command)",
                                       argv[optind]);
        if (!isatty(STDIN_FILENO))
                return cli_error(CLI_EXIT_USAGE, "'connect' needs a terminal; use 'openshell sandbox exec %s -- CMD' for scripts",
                                 name);
        if (strv_extend(&o.argv, "/bin/sh") < 0 || strv_extend(&o.argv, "-l") < 0 ||
            (term && !isempty(term) && strv_consume(&o.env, strjoin("TERM=", term)) < 0))
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        return relay_run(ctx, name, &o, &io);
}

/* Runs tar locally with one end of a pipe as its stdin or stdout. */
static pid_t tar_spawn(char *const *argv, bool tar_reads, int *ret_fd) {
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                if (dup2(tar_reads ? p[0] : p[1], tar_reads ? STDIN_FILENO : STDOUT_FILENO) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                fprintf(stderr, "openshell: cannot run tar: %m\n");
                _exit(127);
        }
        safe_close(tar_reads ? p[0] : p[1]);
        *ret_fd = tar_reads ? p[1] : p[0];
        return pid;
}

static int tar_wait(pid_t pid) {
        int status;

        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
                return CLI_EXIT_FAILURE;
        return WEXITSTATUS(status) == 0 ? 0 : cli_error(CLI_EXIT_FAILURE, "local tar failed (exit %d)", WEXITSTATUS(status));
}

int cli_sandbox_upload(CliContext *ctx, int argc, char **argv) {
        _cleanup_(relay_open_done) RelayOpen o = { .kind = RELAY_OPEN_UPLOAD };
        _cleanup_free_ char *src = NULL, *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *base;
        pid_t pid;
        int r, t;

        if (argc < 3 || argc > 4 || !cli_is_valid_name(argv[1]))
                return cli_usage_error("sandbox", "upload", "usage: openshell sandbox upload NAME SRC [DST]");
        if (argc == 4 && !path_is_normalized_absolute(argv[3]))
                return cli_usage_error("sandbox", "upload", "DST must be an absolute path in the sandbox");
        src = strdup(argv[2]);
        o.path = strdup(argc == 4 ? argv[3] : "/tmp");
        if (!src || !o.path)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        while (strlen(src) > 1 && endswith(src, "/"))
                src[strlen(src) - 1] = 0;
        if (access(src, R_OK) < 0)
                return cli_error(CLI_EXIT_USAGE, "cannot read '%s': %m", src);
        base = path_basename(src);
        dir = base > src ? strndup_safe(src, (size_t) (base - src)) : strdup(".");
        char *tar[] = { (char *) "tar", (char *) "-c", (char *) "-f", (char *) "-", (char *) "-C", dir, (char *) base, NULL };
        pid = tar_spawn(tar, false, &fd);
        if (pid < 0)
                return cli_error(CLI_EXIT_FAILURE, "cannot run tar: %m");
        RelayIo io = { .in_fd = fd, .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO };
        r = relay_run(ctx, argv[1], &o, &io);
        fd = safe_close(fd);
        t = tar_wait(pid);
        return r != 0 ? r : t;
}

int cli_sandbox_download(CliContext *ctx, int argc, char **argv) {
        _cleanup_(relay_open_done) RelayOpen o = { .kind = RELAY_OPEN_DOWNLOAD };
        _cleanup_close_ int fd = -EBADF;
        const char *dst = argc == 4 ? argv[3] : ".";
        pid_t pid;
        int r, t;

        if (argc < 3 || argc > 4 || !cli_is_valid_name(argv[1]))
                return cli_usage_error("sandbox", "download", "usage: openshell sandbox download NAME PATH [DST]");
        if (!path_is_normalized_absolute(argv[2]))
                return cli_usage_error("sandbox", "download", "PATH must be an absolute, normalized path in the sandbox");
        if (mkdir_p(dst, 0755) < 0)
                return cli_error(CLI_EXIT_FAILURE, "cannot create '%s': %m", dst);
        o.path = strdup(argv[2]);
        if (!o.path)
                return cli_error(CLI_EXIT_FAILURE, "out of memory");
        /* -o: downloaded files belong to the user running the CLI (even root), like scp. */
        char *tar[] = { (char *) "tar", (char *) "-x", (char *) "-o", (char *) "-f", (char *) "-", (char *) "-C", (char *) dst, NULL };
        pid = tar_spawn(tar, true, &fd);
        if (pid < 0)
                return cli_error(CLI_EXIT_FAILURE, "cannot run tar: %m");
        RelayIo io = { .in_fd = -1, .out_fd = fd, .err_fd = STDERR_FILENO };
        /* Nothing to send: the remote tar's stdin ends at once. */
        r = relay_run(ctx, argv[1], &o, &io);
        fd = safe_close(fd);
        t = tar_wait(pid);
        return r != 0 ? r : t;
}
