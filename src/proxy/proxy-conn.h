/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* One client connection to the HTTP proxy port: reads request heads, applies the policy, and either
 * relays absolute-URI HTTP requests (keep-alive, RFC 9112 framing, hop-by-hop headers stripped) or answers
 * CONNECT and splices the tunnel. A failure ends this connection only. */

#include "macro.h"
#include "proxy-manager.h"

typedef enum ConnState {
        CONN_REQUEST,      /* waiting for a request head */
        CONN_CONNECTING,   /* resolving and connecting upstream */
        CONN_EXCHANGE,     /* relaying one request and its response */
        CONN_TUNNEL_SETUP, /* CONNECT answered; flushing buffered bytes before splicing */
        CONN_TUNNEL,       /* splicing */
        CONN_MITM_HANDSHAKE, /* TLS handshakes with the client (our leaf) and the upstream */
        CONN_INFERENCE_BODY, /* buffering an inference.local request body to rewrite its model */
        CONN_CLOSING,      /* flushing a final response */
        CONN_LINGER,       /* response sent and write side shut; draining input before close */
        _CONN_STATE_MAX,
        _CONN_STATE_INVALID = -EINVAL,
} ConnState;

DECLARE_STRING_TABLE_LOOKUP(conn_state, ConnState);

/* Takes ownership of fd (also on failure). */
int conn_new(Manager *m, int fd, Conn **ret);
Conn *conn_free(Conn *c);

/* After a policy reload: re-decides the connection's current request or tunnel against m->policy and
 * closes it if the new policy denies it (that may free c). Must be called for every connection before
 * the old policy is freed: decisions point into it. */
void conn_policy_changed(Conn *c);

/* Next connection in the manager's list (for iteration that may free the current one). */
Conn *conn_next(Conn *c);
