/* SPDX-License-Identifier: Apache-2.0 */
#include <llhttp.h>
#include <stdio.h>
#include <strings.h>
#include <sys/types.h>

#include "alloc-util.h"
#include "http-message.h"
#include "string-util.h"

typedef enum HttpPhase {
        HTTP_PHASE_HEAD,
        HTTP_PHASE_BODY,
        HTTP_PHASE_DONE,
} HttpPhase;

struct HttpParser {
        llhttp_t parser;
        llhttp_settings_t settings;
        HttpParserKind kind;
        HttpLimits limits;
        HttpPhase phase;
        HttpMessage *message;
        size_t head_bytes;
        bool head_complete;
        bool message_complete;
        int error; /* negative errno raised from a callback */

        /* Accumulators for spans that llhttp may deliver in pieces. */
        char *field, *value, *url, *status;
        size_t n_field, n_value, n_url, n_status;
        size_t a_field, a_value, a_url, a_status;
};

HttpMessage *http_message_free(HttpMessage *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_headers; i++) {
                free(m->headers[i].name);
                free(m->headers[i].value);
        }
        free(m->headers);
        free(m->method);
        free(m->target);
        free(m->reason);
        return mfree(m);
}

static HttpParser *parser_of(llhttp_t *l) {
        return (HttpParser *) l->data;
}

/* Appends a span to an accumulator, keeping it NUL-terminated. */
static int span_append(char **buf, size_t *n, size_t *allocated, const char *at, size_t len) {
        if (!GREEDY_REALLOC(*buf, *allocated, *n + len + 1))
                return -ENOMEM;
        memcpy(*buf + *n, at, len);
        *n += len;
        (*buf)[*n] = 0;
        return 0;
}

static int fail(HttpParser *p, int error) {
        p->error = error;
        return HPE_USER;
}

#define DEFINE_SPAN_CB(name, member)                                                                       \
        static int on_##name(llhttp_t *l, const char *at, size_t len) {                                    \
                HttpParser *p = parser_of(l);                                                              \
                if (span_append(&p->member, &p->n_##member, &p->a_##member, at, len) < 0)                  \
                        return fail(p, -ENOMEM);                                                           \
                return 0;                                                                                  \
        }

DEFINE_SPAN_CB(url, url);
DEFINE_SPAN_CB(status, status);
DEFINE_SPAN_CB(header_field, field);
DEFINE_SPAN_CB(header_value, value);

/* RFC 9110 5.1: a field name is a token; RFC 9112 5.1: no whitespace before the colon. */
static int on_header_field_complete(llhttp_t *l) {
        HttpParser *p = parser_of(l);

        if (p->n_field == 0 || strspn(p->field, "!#$%&'*+-.^_`|~0123456789"
                                                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != p->n_field)
                return fail(p, -EBADMSG);
        return 0;
}

static int on_header_value_complete(llhttp_t *l) {
        HttpParser *p = parser_of(l);
        HttpMessage *m = p->message;
        HttpHeader *h;

        if (m->n_headers >= p->limits.max_headers)
                return fail(p, -EMSGSIZE);
        /* RFC 9112 5.2: obsolete line folding is rejected; a CR or LF must never reach a forwarded head. */
        if (p->value && strpbrk(p->value, "\r\n"))
                return fail(p, -EBADMSG);
        h = realloc(m->headers, (m->n_headers + 1) * sizeof(HttpHeader));
        if (!h)
                return fail(p, -ENOMEM);
        m->headers = h;
        h = &m->headers[m->n_headers];
        h->name = strdup(strempty(p->field));
        h->value = strdup(strstrip(p->value ?: (char *) ""));
        if (!h->name || !h->value) {
                free(h->name);
                free(h->value);
                return fail(p, -ENOMEM);
        }
        m->n_headers++;
        p->n_field = p->n_value = 0;
        if (p->field)
                p->field[0] = 0;
        if (p->value)
                p->value[0] = 0;
        return 0;
}

static bool response_has_no_body(unsigned status) {
        return (status >= 100 && status < 200) || status == 204 || status == 304;
}

static int on_headers_complete(llhttp_t *l) {
        HttpParser *p = parser_of(l);
        HttpMessage *m = p->message;

        m->version_major = l->http_major;
        m->version_minor = l->http_minor;
        m->keep_alive = llhttp_should_keep_alive(l);
        m->chunked = l->flags & F_CHUNKED;
        m->content_length = (l->flags & F_CONTENT_LENGTH) ? l->content_length : HTTP_CONTENT_LENGTH_NONE;
        if (p->kind == HTTP_PARSER_REQUEST) {
                m->method = strdup(llhttp_method_name((llhttp_method_t) l->method));
                m->target = strdup(strempty(p->url));
                if (!m->method || !m->target)
                        return fail(p, -ENOMEM);
                m->has_body = !streq(m->method, "CONNECT") &&
                              (m->chunked || (m->content_length != HTTP_CONTENT_LENGTH_NONE && m->content_length > 0));
        } else {
                m->status = l->status_code;
                m->reason = strdup(strempty(p->status));
                if (!m->reason)
                        return fail(p, -ENOMEM);
                if (response_has_no_body(m->status))
                        m->has_body = false;
                else if (m->chunked)
                        m->has_body = true;
                else if (m->content_length != HTTP_CONTENT_LENGTH_NONE)
                        m->has_body = m->content_length > 0;
                else
                        m->has_body = m->body_until_eof = true;
        }
        p->head_complete = true;
        /* Stop here so that the caller sees exactly where the head ends. */
        return HPE_PAUSED;
}

static int on_message_complete(llhttp_t *l) {
        HttpParser *p = parser_of(l);

        p->message_complete = true;
        /* Stop at the message boundary: pipelined bytes after it belong to the next message. */
        return HPE_PAUSED;
}

static int on_message_begin(llhttp_t *l) {
        HttpParser *p = parser_of(l);

        if (!p->message) {
                p->message = new0(HttpMessage, 1);
                if (!p->message)
                        return fail(p, -ENOMEM);
        }
        return 0;
}

int http_parser_new(HttpParserKind kind, const HttpLimits *limits, HttpParser **ret) {
        HttpParser *p;

        if (kind < 0 || kind >= _HTTP_PARSER_KIND_MAX)
                return -EINVAL;
        if (limits && (limits->max_header_bytes == 0 || limits->max_header_bytes > HTTP_MAX_HEADER_BYTES_MAX ||
                       limits->max_headers == 0))
                return -EINVAL;
        p = new0(HttpParser, 1);
        if (!p)
                return -ENOMEM;
        p->kind = kind;
        p->limits = limits ? *limits
                           : (HttpLimits){ .max_header_bytes = HTTP_MAX_HEADER_BYTES_DEFAULT,
                                           .max_headers = HTTP_MAX_HEADERS_DEFAULT };
        llhttp_settings_init(&p->settings);
        p->settings.on_message_begin = on_message_begin;
        p->settings.on_url = on_url;
        p->settings.on_status = on_status;
        p->settings.on_header_field = on_header_field;
        p->settings.on_header_value = on_header_value;
        p->settings.on_header_field_complete = on_header_field_complete;
        p->settings.on_header_value_complete = on_header_value_complete;
        p->settings.on_headers_complete = on_headers_complete;
        p->settings.on_message_complete = on_message_complete;
        llhttp_init(&p->parser, kind == HTTP_PARSER_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE, &p->settings);
        p->parser.data = p;
        *ret = p;
        return 0;
}

static void reset_accumulators(HttpParser *p) {
        p->n_field = p->n_value = p->n_url = p->n_status = 0;
        if (p->field)
                p->field[0] = 0;
        if (p->value)
                p->value[0] = 0;
        if (p->url)
                p->url[0] = 0;
        if (p->status)
                p->status[0] = 0;
}

HttpParser *http_parser_free(HttpParser *p) {
        if (!p)
                return NULL;
        http_message_free(p->message);
        free(p->field);
        free(p->value);
        free(p->url);
        free(p->status);
        return mfree(p);
}

static int map_error(HttpParser *p, llhttp_errno_t e) {
        if (p->error < 0)
                return p->error;
        return -EBADMSG;
}

/* Runs llhttp over data; returns the number of bytes it consumed or a negative errno. Pauses are the
 * normal way out (head complete, message complete). */
static ssize_t run(HttpParser *p, const char *data, size_t size) {
        llhttp_errno_t e;

        e = llhttp_execute(&p->parser, data, size);
        if (e == HPE_OK)
                return (ssize_t) size;
        if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
                const char *pos = llhttp_get_error_pos(&p->parser);
                llhttp_resume(&p->parser);
                return pos ? pos - data : (ssize_t) size;
        }
        return map_error(p, e);
}

static int feed_head(HttpParser *p, const char *data, size_t size, size_t *ret_consumed) {
        size_t room = p->limits.max_header_bytes - p->head_bytes;
        ssize_t n;

        /* Never let llhttp see more than the limit allows: a head that does not end within it fails. */
        n = run(p, data, MIN(size, room));
        if (n < 0)
                return (int) n;
        p->head_bytes += (size_t) n;
        if (!p->head_complete) {
                if (p->head_bytes >= p->limits.max_header_bytes)
                        return -EMSGSIZE;
                *ret_consumed = (size_t) n;
                return HTTP_PARSE_AGAIN;
        }
        p->message->head_bytes = p->head_bytes;
        p->phase = p->message->has_body ? HTTP_PHASE_BODY : HTTP_PHASE_DONE;
        *ret_consumed = (size_t) n;
        return HTTP_PARSE_HEAD;
}

int http_parser_feed(HttpParser *p, const void *data, size_t size, size_t *ret_consumed) {
        ssize_t n;

        *ret_consumed = 0;
        switch (p->phase) {
        case HTTP_PHASE_HEAD:
                return feed_head(p, data, size, ret_consumed);
        case HTTP_PHASE_BODY:
                n = run(p, data, size);
                if (n < 0)
                        return (int) n;
                *ret_consumed = (size_t) n;
                if (p->message_complete) {
                        p->phase = HTTP_PHASE_DONE;
                        return HTTP_PARSE_DONE;
                }
                return HTTP_PARSE_AGAIN;
        case HTTP_PHASE_DONE:
                return HTTP_PARSE_DONE;
        }
        return -EINVAL;
}

int http_parser_finish(HttpParser *p) {
        llhttp_errno_t e;

        if (p->phase == HTTP_PHASE_DONE)
                return HTTP_PARSE_DONE;
        if (p->phase == HTTP_PHASE_HEAD)
                return p->head_bytes == 0 ? HTTP_PARSE_AGAIN : -EBADMSG;
        if (!p->message->body_until_eof)
                return -EBADMSG;
        e = llhttp_finish(&p->parser);
        if (e != HPE_OK && e != HPE_PAUSED)
                return map_error(p, e);
        p->phase = HTTP_PHASE_DONE;
        return HTTP_PARSE_DONE;
}

HttpMessage *http_parser_message(HttpParser *p) {
        return p->phase == HTTP_PHASE_HEAD ? NULL : p->message;
}

HttpMessage *http_parser_steal_message(HttpParser *p) {
        return p->phase == HTTP_PHASE_HEAD ? NULL : TAKE_PTR(p->message);
}

void http_parser_skip_body(HttpParser *p) {
        if (p->phase != HTTP_PHASE_BODY)
                return;
        /* llhttp's documented way to say "no body" is returning 1 from on_headers_complete; since we paused
         * there instead, set the same public flag before resuming. */
        p->parser.flags |= F_SKIPBODY;
        if (p->message) {
                p->message->has_body = p->message->body_until_eof = false;
        }
        p->phase = HTTP_PHASE_DONE;
}

void http_parser_next(HttpParser *p) {
        p->message = http_message_free(p->message);
        p->message_complete = p->head_complete = false;
        p->head_bytes = 0;
        p->error = 0;
        p->phase = HTTP_PHASE_HEAD;
        reset_accumulators(p);
        /* A fresh llhttp state: the previous message may have ended without llhttp seeing its end (skipped
         * body, CONNECT). */
        llhttp_init(&p->parser, p->kind == HTTP_PARSER_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE, &p->settings);
        p->parser.data = p;
}

const char *http_message_header(const HttpMessage *m, const char *name) {
        for (size_t i = 0; i < m->n_headers; i++)
                if (strcasecmp(m->headers[i].name, name) == 0)
                        return m->headers[i].value;
        return NULL;
}

bool http_token_list_contains(const char *list, const char *token) {
        size_t n = strlen(token);

        for (const char *p = list; p && *p;) {
                const char *e;
                size_t len;

                p += strspn(p, " \t,");
                e = strchrnul(p, ',');
                len = (size_t) (e - p);
                while (len > 0 && IN_SET(p[len - 1], ' ', '\t'))
                        len--;
                if (len == n && strncasecmp(p, token, n) == 0)
                        return true;
                p = e;
        }
        return false;
}

bool http_message_header_is_hop_by_hop(const HttpMessage *m, const char *name) {
        static const char *const hop[] = {
                "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
                "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        };

        for (size_t i = 0; i < ELEMENTSOF(hop); i++)
                if (strcasecmp(name, hop[i]) == 0)
                        return true;
        for (size_t i = 0; i < m->n_headers; i++)
                if (strcasecmp(m->headers[i].name, "Connection") == 0 &&
                    http_token_list_contains(m->headers[i].value, name))
                        return true;
        return false;
}

int http_message_format_head(const HttpMessage *m, const char *target, bool strip_hop_by_hop, const char *extra,
                             char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        if (m->method)
                fprintf(f, "%s %s HTTP/%u.%u\r\n", m->method, target ?: m->target, m->version_major,
                        m->version_minor);
        else
                fprintf(f, "HTTP/%u.%u %03u %s\r\n", m->version_major, m->version_minor, m->status,
                        isempty(m->reason) ? http_status_reason(m->status) : m->reason);
        for (size_t i = 0; i < m->n_headers; i++) {
                /* Transfer-Encoding frames the body we forward verbatim: it must stay. */
                if (strip_hop_by_hop && strcasecmp(m->headers[i].name, "Transfer-Encoding") != 0 &&
                    http_message_header_is_hop_by_hop(m, m->headers[i].name))
                        continue;
                fprintf(f, "%s: %s\r\n", m->headers[i].name, m->headers[i].value);
        }
        fputs(strempty(extra), f);
        fputs("\r\n", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

const char *http_status_reason(unsigned status) {
        switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 204: return "No Content";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 413: return "Content Too Large";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "Unknown";
        }
}
