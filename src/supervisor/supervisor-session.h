/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The supervisor's session with the gateway. It dials OUT (the agent has no other route: through the
 * proxy's TCP forward), over mTLS with the sandbox's client certificate, and upgrades
 *
 *   GET /v1/sandboxes/NAME/session HTTP/1.1
 *   Connection: Upgrade
 *   Upgrade: openshell-relay/1
 *
 * into a relay connection (relay-proto.h) on which the gateway opens exec channels. Lost or refused
 * sessions are retried with exponential backoff (SESSION_BACKOFF_*); a session that stays silent for
 * SESSION_DEAD_USEC (despite our PINGs) is dropped and redialed. The first established session sends
 * READY=1 to $NOTIFY_SOCKET, if any. */

#include "supervisor-manager.h"

typedef enum SessionState {
        SESSION_WAITING,    /* backoff timer */
        SESSION_RESOLVING,
        SESSION_CONNECTING, /* TCP + TLS */
        SESSION_UPGRADING,  /* request sent, waiting for 101 */
        SESSION_OPEN,
        _SESSION_STATE_MAX,
        _SESSION_STATE_INVALID = -EINVAL,
} SessionState;

DECLARE_STRING_TABLE_LOOKUP(session_state, SessionState);

/* Validates the endpoint and loads the TLS material; the first dial happens at once. */
int session_new(Manager *m, Session **ret);
Session *session_free(Session *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Session *, session_free);

SessionState session_get_state(const Session *s) _pure_;
/* -ENOTCONN unless SESSION_OPEN. */
int session_send(Session *s, RelayFrameType type, uint32_t channel, const void *payload, size_t size);
bool session_congested(const Session *s) _pure_;
/* Stops reading from the gateway (a channel's stdin is backed up). */
void session_pause(Session *s, bool paused);
