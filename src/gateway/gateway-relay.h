/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The gateway's relay hub (docs/supervisor.md): supervisors dial in and hold a session per sandbox
 * (GET /v1/sandboxes/NAME/session, upgraded to openshell-relay/1, only with NAME's agent certificate); the
 * CLI opens exec/connect/upload/download channels (POST /v1/sandboxes/NAME/exec, upgraded, administrators
 * only) and the hub bridges each one onto the sandbox's session under a channel id of its own. The
 * gateway never dials into a sandbox.
 *
 * An upgraded connection stays a gateway Conn (it owns the socket and counts against MaxConnections=);
 * the Conn forwards its I/O to the RelayPeer it hands the TlsConn to. Flow control: a CLI that reads
 * slowly pauses its sandbox's session (all of that session's channels wait: head-of-line, by design
 * simple), a session that is backed up pauses the CLIs that feed it. A new session for a sandbox
 * replaces the old one (the supervisor reconnected); the old one's channels end with an ERROR. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "gateway-api.h"
#include "gateway-route.h"
#include "http-message.h"
#include "tls-conn.h"

/* A session that sends nothing (supervisors PING every 20 s) for this long is dropped. */
#define GATEWAY_RELAY_SESSION_IDLE_USEC (90U * USEC_PER_SEC)
/* A CLI connection that has not sent its OPEN by then is closed. */
#define GATEWAY_RELAY_OPEN_TIMEOUT_USEC (30U * USEC_PER_SEC)
/* Channels one session may carry at a time; the supervisor has the same limit. */
#define GATEWAY_RELAY_CHANNELS_MAX 256U

typedef struct Conn Conn;
typedef struct Manager Manager;
typedef struct RelayHub RelayHub;
typedef struct RelayPeer RelayPeer;

/* The Manager's hub is created on first use (m->relay) and freed after every connection. */
RelayHub *relay_hub_free(RelayHub *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(RelayHub *, relay_hub_free);

typedef enum RelayDispatch {
        RELAY_DISPATCH_NONE,   /* not a relay route: the API handles the request */
        RELAY_DISPATCH_TAKEN,  /* the connection is a relay peer now (*ret_peer); 101 is queued */
        RELAY_DISPATCH_ANSWER, /* answer *ret_error (an API error response) instead */
        _RELAY_DISPATCH_MAX,
        _RELAY_DISPATCH_INVALID = -EINVAL,
} RelayDispatch;

/* Looks at a complete request head on conn. rest/rest_size: bytes that followed the head (the first
 * frames). Returns a RelayDispatch or -ENOMEM. */
int gateway_relay_dispatch(Manager *m, Conn *conn, TlsConn *tls, const HttpMessage *request, const Identity *identity,
                           ListenRole role, const void *rest, size_t rest_size, RelayPeer **ret_peer,
                           ApiResponse *ret_error);

/* The Conn's TlsConn made progress. */
void gateway_relay_io(RelayPeer *p);
/* From conn_free(): detaches the peer from its session/channels. Never frees the Conn. */
RelayPeer *gateway_relay_peer_free(RelayPeer *p);

/* Sessions currently up, for status. */
bool relay_hub_has_session(RelayHub *h, const char *name);
