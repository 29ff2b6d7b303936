/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The supervisor's Manager owns the event loop, the workload (PID 1 duties: reaping every child,
 * forwarding SIGTERM/SIGINT/SIGHUP, exiting with the workload's code), the gateway session and the exec
 * channels it serves. */

#include <openssl/ssl.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "relay-client.h"
#include "relay-proto.h"
#include "supervisor-seccomp.h"
#include "time-util.h"

typedef struct ExecChannel ExecChannel;
typedef struct Session Session;

/* Reconnect backoff: doubles from MIN to MAX, reset by a session that came up. */
#define SESSION_BACKOFF_MIN_USEC (1U * USEC_PER_SEC)
#define SESSION_BACKOFF_MAX_USEC (30U * USEC_PER_SEC)
#define SESSION_PING_INTERVAL_USEC (20U * USEC_PER_SEC)
/* No frame from the gateway for this long: the session is dead, reconnect. */
#define SESSION_DEAD_USEC (60U * USEC_PER_SEC)
#define SESSION_HANDSHAKE_TIMEOUT_USEC (10U * USEC_PER_SEC)
/* Channels open at the same time; more are refused with an ERROR. */
#define SUPERVISOR_CHANNELS_MAX 256U

typedef struct ManagerConfig {
        char **workload_argv;  /* NULL: no workload, serve until SIGTERM */
        char **base_env;       /* the supervisor's environment, for children */
        int landlock_fd;       /* or -EBADF */
        const SyscallFilter *syscall_filter; /* or NULL */
        /* The gateway session; endpoint_url NULL: none (exec is unavailable). */
        const char *endpoint_url;
        const char *sandbox;
        const char *tls_ca, *tls_cert, *tls_key;
        const char *server_name; /* NULL: RELAY_GATEWAY_SERVER_NAME for IP endpoints, else the host */
} ManagerConfig;

typedef struct Manager {
        sd_event *event;
        const ManagerConfig *config;

        pid_t workload_pid;
        Session *session;
        ExecChannel *channels;
        unsigned n_channels;
        unsigned n_backlogged;
} Manager;

int manager_new(const ManagerConfig *config, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Starts the workload and the session, runs the loop; returns the workload's exit code (or 0 when there
 * was none and a signal ended the loop). */
int manager_run(Manager *m);

/* Reaps every exited child (PID 1 duty); dispatches the ones we started. */
void manager_reap(Manager *m);

/* ---- used by the session and the channels ---- */
int manager_send(Manager *m, RelayFrameType type, uint32_t channel, const void *payload, size_t size);
int manager_send_u32(Manager *m, RelayFrameType type, uint32_t channel, uint32_t value);
bool manager_congested(Manager *m);
void manager_session_frame(Manager *m, const RelayFrame *f);
void manager_session_drained(Manager *m);
/* A channel's stdin is backed up (true) or caught up again (false); the session is paused meanwhile. */
void manager_input_backlog(Manager *m, bool backlog);
/* The session went away: every channel's requester is gone with it. */
void manager_session_lost(Manager *m);
