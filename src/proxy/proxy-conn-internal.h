/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Internals shared by proxy-conn.c (life cycle, I/O legs, events), proxy-conn-http.c (requests, policy,
 * relaying) and proxy-conn-tls.c (TLS inspection). Not for use outside the connection object. */

#include <arpa/inet.h>
#include <netinet/in.h>

#include "http-message.h"
#include "proxy-buffer.h"
#include "proxy-conn.h"
#include "proxy-connector.h"
#include "proxy-inference.h"
#include "proxy-tunnel.h"
#include "tls-conn.h"

/* Headroom in the output buffer for a response head we rewrite (added Connection: close, reason). */
#define CONN_HEAD_SLACK 512U

/* One inference.local request on its way to the backend (proxy-conn-inference.c). */
typedef struct InferenceExchange {
        InferenceRoute *route; /* a reference: a reload mid-request does not change this request */
        char *target;          /* the backend's request-target */
        char *body;            /* buffered request body, then the rewritten one */
        size_t body_size, body_filled, body_sent;
} InferenceExchange;

struct Conn {
        Manager *manager;
        Conn *prev, *next;
        ConnState state;
        int fd;
        sd_event_source *io;
        int up_fd;
        sd_event_source *up_io;
        sd_event_source *timer;
        usec_t last_activity;
        Buffer in, out, up_in, up_out;
        HttpParser *req_parser, *resp_parser;
        Connector *connector;
        Tunnel *tunnel;
        /* TLS inspection: both legs are TlsConns (they own the fds) after the CONNECT. */
        TlsConn *tls, *up_tls;
        bool mitm;
        bool inference_tunnel; /* CONNECT inference.local: TLS towards the client only */
        InferenceExchange *inference; /* the current request goes to the inference backend */
        unsigned handshakes;
        char *tunnel_host;
        uint16_t tunnel_port;
        char client[INET6_ADDRSTRLEN + 8];
        unsigned n_requests;
        size_t head_bytes;   /* bytes of the request head parsed so far */
        usec_t head_started; /* its first byte (the accept, for the first request): HandshakeTimeoutSec= */

        /* The current exchange. */
        bool active;
        usec_t started;
        char *method, *host, *authority, *target, *up_key;
        uint16_t port;
        bool is_connect, head_request;
        bool request_done, response_started, response_done, client_eof, close_after;
        bool resp_head_seen, up_eof, dead;
        unsigned status;
        uint64_t bytes_up, bytes_down;
        PolicyDecision decision;
        const char *reason; /* for the log line; static text */
};

void conn_log(Conn *c, const char *reason);
void conn_exchange_reset(Conn *c);
void conn_drop_upstream(Conn *c);
bool conn_wants_inspection(const Conn *c);
bool conn_leg_open(const Conn *c, bool up);
int conn_respond_error(Conn *c, unsigned status, const char *code, const char *detail);
int conn_respond_denied(Conn *c, const char *detail, bool keep_alive);
int conn_respond_denied_full(Conn *c, const char *error, const char *detail, bool keep_alive);
int conn_respond_and_close(Conn *c, char *data, size_t size);
int conn_client_read(Conn *c);
int conn_up_read(Conn *c);
int conn_client_write(Conn *c);
int conn_up_write(Conn *c);
int conn_up_io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata);
int conn_update(Conn *c);
int conn_after(Conn *c, int r);
int conn_process(Conn *c);
int conn_start_mitm(Conn *c);
void conn_tls_io(TlsConn *t, void *userdata);

/* proxy-conn-inference.c */
int conn_inference_connect(Conn *c);
int conn_inference_request(Conn *c, const HttpMessage *m);
int conn_inference_process_body(Conn *c);
int conn_inference_feed_upstream(Conn *c);
InferenceExchange *inference_exchange_free(InferenceExchange *x);
