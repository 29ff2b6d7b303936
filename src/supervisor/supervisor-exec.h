/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* One exec channel: a process started for an OPEN frame (exec, or tar for upload/download), its stdin
 * fed from STDIN frames, its stdout/stderr (or its pty) sent as STDOUT/STDERR frames, and EXIT once the
 * process has exited and its output is drained — so EXIT is always the channel's last frame. */

#include "relay-proto.h"
#include "supervisor-manager.h"

/* Bytes read from a child's output per frame. */
#define EXEC_READ_CHUNK (32U * 1024U)

/* Handles an OPEN. Failures are answered on the channel (ERROR + EXIT 127/126), never returned. */
void exec_channel_open(Manager *m, uint32_t id, const RelayFrame *f);
ExecChannel *exec_channel_free(ExecChannel *c);
/* Kills the process group (SIGHUP, as a terminal hang-up would) and frees the channel. */
void exec_channel_abandon(ExecChannel *c);

ExecChannel *exec_channel_find(Manager *m, uint32_t id);
ExecChannel *exec_channel_by_pid(Manager *m, pid_t pid);

/* STDIN, EOF, RESIZE, SIGNAL, CLOSE. May free c. */
void exec_channel_frame(ExecChannel *c, const RelayFrame *f);
/* The process exited with this wait status. May free c. */
void exec_channel_exited(ExecChannel *c, int status);
/* Stops or resumes reading the process's output (session congestion). */
void exec_channel_pause_output(ExecChannel *c, bool paused);
ExecChannel *exec_channel_next(ExecChannel *c);
