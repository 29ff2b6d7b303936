/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "alloc-util.h"
#include "log.h"
#include "string-util.h"
#include "supervisor-env.h"
#include "supervisor-exec.h"
#include "supervisor-manager.h"
#include "supervisor-session.h"
#include "supervisor-spawn.h"

/* Signals forwarded to the workload (what a container runtime sends to stop or nudge PID 1). */
static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP };

int manager_new(const ManagerConfig *config, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = new0(Manager, 1);
        if (!m)
                return log_oom();
        m->config = config;
        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        while (m->channels)
                exec_channel_abandon(m->channels);
        session_free(m->session);
        sd_event_unref(m->event);
        return mfree(m);
}

int manager_send(Manager *m, RelayFrameType type, uint32_t channel, const void *payload, size_t size) {
        if (!m->session)
                return -ENOTCONN;
        return session_send(m->session, type, channel, payload, size);
}

int manager_send_u32(Manager *m, RelayFrameType type, uint32_t channel, uint32_t value) {
        uint8_t p[4] = { value >> 24, value >> 16, value >> 8, value };

        return manager_send(m, type, channel, p, sizeof(p));
}

bool manager_congested(Manager *m) {
        return m->session && session_congested(m->session);
}

void manager_session_frame(Manager *m, const RelayFrame *f) {
        ExecChannel *c;

        if (f->type == RELAY_FRAME_OPEN) {
                exec_channel_open(m, f->channel, f);
                return;
        }
        c = exec_channel_find(m, f->channel);
        if (!c) {
                log_debug("Dropping %s frame for unknown channel %" PRIu32 ".",
                          strna(relay_frame_type_to_string(f->type)), f->channel);
                return;
        }
        exec_channel_frame(c, f);
}

void manager_session_drained(Manager *m) {
        for (ExecChannel *c = m->channels; c; c = exec_channel_next(c))
                exec_channel_pause_output(c, false);
}

void manager_input_backlog(Manager *m, bool backlog) {
        if (backlog)
                m->n_backlogged++;
        else if (m->n_backlogged > 0)
                m->n_backlogged--;
        if (m->session)
                session_pause(m->session, m->n_backlogged > 0);
}

void manager_session_lost(Manager *m) {
        if (m->n_channels > 0)
                log_notice("Gateway session lost: hanging up %u session(s).", m->n_channels);
        while (m->channels)
                exec_channel_abandon(m->channels);
}

void manager_reap(Manager *m) {
        for (;;) {
                ExecChannel *c;
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);

                if (pid <= 0)
                        return;
                if (pid == m->workload_pid) {
                        int code = spawn_exit_code(status);

                        log_info("Workload (PID %d) exited with %d.", (int) pid, code);
                        m->workload_pid = 0;
                        (void) sd_event_exit(m->event, code);
                        continue;
                }
                c = exec_channel_by_pid(m, pid);
                if (c)
                        exec_channel_exited(c, status);
                /* Anything else is an orphan re-parented to us as PID 1: reaped, nothing more. */
        }
}

static int manager_sigchld_cb(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        manager_reap(userdata);
        return 0;
}

static int manager_forward_cb(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        if (m->workload_pid > 0) {
                log_debug("Forwarding signal %u to the workload (PID %d).", si->ssi_signo, (int) m->workload_pid);
                (void) kill(m->workload_pid, (int) si->ssi_signo);
                return 0;
        }
        /* No workload (or it is gone): the signal is for us. SIGTERM is how systemd and Podman stop the
         * sandbox: a clean stop, exit 0, so the agent unit does not end up "failed". */
        log_info("Received signal %u, exiting.", si->ssi_signo);
        return sd_event_exit(m->event, si->ssi_signo == SIGTERM ? 0 : 128 + (int) si->ssi_signo);
}

static int manager_setup_signals(Manager *m) {
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                sigaddset(&ss, forwarded_signals[i]);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        /* A write to a closed pipe or socket must be an EPIPE, not our death. */
        (void) signal(SIGPIPE, SIG_IGN);
        r = sd_event_add_signal(m->event, NULL, SIGCHLD, manager_sigchld_cb, m);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(forwarded_signals); i++)
                r = sd_event_add_signal(m->event, NULL, forwarded_signals[i], manager_forward_cb, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch signals: %m");
        return 0;
}

static int manager_start_workload(Manager *m) {
        _cleanup_strv_free_ char **env = NULL;
        SpawnedProcess p;
        int r;

        r = supervisor_env_build(m->config->base_env, NULL, false, &env);
        if (r < 0)
                return log_oom();
        SpawnOptions o = { .argv = m->config->workload_argv, .env = env, .inherit_stdio = true,
                           .landlock_fd = m->config->landlock_fd, .syscall_filter = m->config->syscall_filter };
        r = spawn_process(&o, &p);
        if (r < 0)
                return log_error_errno(r, "Failed to start the workload '%s': %m", m->config->workload_argv[0]);
        m->workload_pid = p.pid;
        log_info("Started the workload '%s' as PID %d.", m->config->workload_argv[0], (int) p.pid);
        return 0;
}

int manager_run(Manager *m) {
        int r, code;

        r = manager_setup_signals(m);
        if (r < 0)
                return r;
        /* Not PID 1 (podman --init, tests): orphans of our children still come to us to be reaped. */
        if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                log_debug_errno(errno, "Failed to become a child subreaper: %m");
        if (m->config->endpoint_url) {
                r = session_new(m, &m->session);
                if (r < 0)
                        return r;
        } else
                log_notice("No OPENSHELL_ENDPOINT: running without a gateway session (no exec/connect).");
        if (m->config->workload_argv) {
                r = manager_start_workload(m);
                if (r < 0)
                        return r;
        }
        /* Without a gateway there is no session to wait for: ready once the workload runs. */
        if (!m->session)
                (void) sd_notify(false, "READY=1\nSTATUS=Running without a gateway session");
        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        code = r;
        /* Let the exec'd sessions go the way a terminal hang-up would. */
        while (m->channels)
                exec_channel_abandon(m->channels);
        return code;
}
