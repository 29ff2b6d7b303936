/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* An incremental HTTP/1.x message parser on llhttp (RFC 9112), for request and response heads, that then
 * tracks the body's framing so that a proxy can forward body bytes verbatim and knows where a message ends.
 * Used by the proxy and the gateway's API server.
 *
 *   feed(data) → HTTP_PARSE_AGAIN (all consumed, need more) | HTTP_PARSE_HEAD (head complete, 'consumed'
 *   bytes were the head; read http_parser_message()) — then feed body bytes: AGAIN (all were body) |
 *   HTTP_PARSE_DONE ('consumed' bytes finish the message). http_parser_next() starts the next message.
 *
 * Errors: -EMSGSIZE head larger than max_header_bytes or more than max_headers headers (answer 431),
 * -EBADMSG malformed (answer 400), -ENOMEM. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Defaults for HttpLimits (config keys MaxHeaderBytes=, MaxHeaders=). */
#define HTTP_MAX_HEADER_BYTES_DEFAULT (32U * 1024U)
#define HTTP_MAX_HEADERS_DEFAULT 100U
#define HTTP_MAX_HEADER_BYTES_MAX (1024U * 1024U)

#define HTTP_CONTENT_LENGTH_NONE UINT64_MAX

typedef enum HttpParserKind {
        HTTP_PARSER_REQUEST,
        HTTP_PARSER_RESPONSE,
        _HTTP_PARSER_KIND_MAX,
        _HTTP_PARSER_KIND_INVALID = -EINVAL,
} HttpParserKind;

typedef enum HttpParseResult {
        HTTP_PARSE_AGAIN,
        HTTP_PARSE_HEAD,
        HTTP_PARSE_DONE,
        _HTTP_PARSE_RESULT_MAX,
        _HTTP_PARSE_RESULT_INVALID = -EINVAL,
} HttpParseResult;

typedef struct HttpLimits {
        size_t max_header_bytes;
        size_t max_headers;
} HttpLimits;

/* Name and value exactly as received (the value without surrounding whitespace, RFC 9110 5.5). */
typedef struct HttpHeader {
        char *name;
        char *value;
} HttpHeader;

typedef struct HttpMessage {
        char *method;          /* requests: "GET", "CONNECT"… */
        char *target;          /* requests: request-target as received */
        unsigned status;       /* responses */
        char *reason;          /* responses, may be empty */
        unsigned version_major;
        unsigned version_minor;
        HttpHeader *headers;
        size_t n_headers;
        bool keep_alive;       /* per llhttp: version default, Connection: close/keep-alive */
        bool chunked;
        uint64_t content_length; /* HTTP_CONTENT_LENGTH_NONE if absent */
        bool has_body;         /* false: the message ends with its head */
        bool body_until_eof;   /* response delimited by connection close */
        size_t head_bytes;
} HttpMessage;

typedef struct HttpParser HttpParser;

HttpMessage *http_message_free(HttpMessage *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpMessage *, http_message_free);

/* First header with this name (case-insensitive), or NULL. */
const char *http_message_header(const HttpMessage *m, const char *name);
/* True if a comma-separated header value list contains token (case-insensitive), e.g. Connection. */
bool http_token_list_contains(const char *list, const char *token);
/* True for hop-by-hop headers (RFC 9110 7.6.1) and those named by the message's Connection header. */
bool http_message_header_is_hop_by_hop(const HttpMessage *m, const char *name);

int http_parser_new(HttpParserKind kind, const HttpLimits *limits, HttpParser **ret);
HttpParser *http_parser_free(HttpParser *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpParser *, http_parser_free);

int http_parser_feed(HttpParser *p, const void *data, size_t size, size_t *ret_consumed);
/* The connection reached EOF: returns HTTP_PARSE_DONE if that completes a body read until EOF, else
 * -EBADMSG for a truncated message, or HTTP_PARSE_AGAIN if no message had started. */
int http_parser_finish(HttpParser *p);
/* The head just parsed; owned by the parser until http_parser_next(). NULL before HTTP_PARSE_HEAD. */
HttpMessage *http_parser_message(HttpParser *p);
/* Detaches the message from the parser. */
HttpMessage *http_parser_steal_message(HttpParser *p);
/* Call right after HTTP_PARSE_HEAD for a response to HEAD (or a 2xx to CONNECT): no body follows. */
void http_parser_skip_body(HttpParser *p);
/* After HTTP_PARSE_DONE: prepare for the next message on the same connection. */
void http_parser_next(HttpParser *p);

/* Serializes a head: the start line, then every header except hop-by-hop ones when strip_hop_by_hop.
 * 'extra' (may be NULL) is appended verbatim before the empty line; it must be complete CRLF lines. For
 * requests the target is 'target' if non-NULL, else m->target. */
int http_message_format_head(const HttpMessage *m, const char *target, bool strip_hop_by_hop, const char *extra,
                             char **ret, size_t *ret_size);

/* Reason phrase for a status code ("Forbidden"), "Unknown" otherwise. */
const char *http_status_reason(unsigned status) _const_;
