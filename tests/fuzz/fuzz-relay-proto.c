/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the relay protocol (relay-proto.c, relay-client.c) as a peer sees it:
 *  - the input as a stream of frames, cut where the input's first byte says (a peer reads what arrives):
 *    relay_frame_parse() never claims more than it was given, a frame it accepts re-encodes to the same
 *    bytes, fixed-size payloads have their size, and an OPEN payload is refused with a message or parses
 *    and round-trips through relay_open_to_json();
 *  - the input as an endpoint URL (relay_endpoint_parse, what OPENSHELL_ENDPOINT and the CLI's --gateway
 *    give): an accepted endpoint re-parses the same from its canonical form, and the upgrade request built
 *    for it parses back as one head whose Host names it.
 * Built with -fsanitize=fuzzer when -Dfuzz=true (clang); otherwise main() replays the corpus. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "alloc-util.h"
#include "http-message.h"
#include "log.h"
#include "relay-client.h"
#include "relay-proto.h"
#include "string-util.h"

static bool strv_same(char **a, char **b) {
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

static void check_open(const RelayFrame *f) {
        _cleanup_(relay_open_done) RelayOpen o = {}, again = {};
        _cleanup_free_ char *json = NULL;
        const char *err = NULL;
        size_t n;

        if (relay_open_from_json(f->payload, f->size, &o, &err) < 0) {
                if (!err)
                        abort(); /* every refusal says why (the peer gets it as an ERROR frame) */
                return;
        }
        if (o.kind < 0 || o.kind >= _RELAY_OPEN_KIND_MAX ||
            (o.kind == RELAY_OPEN_EXEC && strv_length(o.argv) == 0))
                abort();
        if (relay_open_to_json(&o, &json, &n) < 0)
                return; /* -EMSGSIZE: the canonical form may be longer (escapes) */
        if (relay_open_from_json(json, n, &again, &err) < 0 || again.kind != o.kind || again.tty != o.tty ||
            again.rows != o.rows || again.cols != o.cols || !strv_same(again.argv, o.argv) ||
            !strv_same(again.env, o.env) || !streq_ptr(again.workdir, o.workdir) ||
            !streq_ptr(again.path, o.path))
                abort();
}

static void check_frame(const uint8_t *start, size_t consumed, const RelayFrame *f) {
        _cleanup_(relay_buffer_done) RelayBuffer b = {};

        if (consumed != RELAY_FRAME_HEADER_SIZE + f->size || f->size > RELAY_FRAME_PAYLOAD_MAX ||
            f->payload != start + RELAY_FRAME_HEADER_SIZE)
                abort();
        if (relay_buffer_put_frame(&b, f->type, f->channel, f->payload, f->size) < 0)
                abort();
        if (relay_buffer_pending(&b) != consumed || memcmp(relay_buffer_head(&b), start, consumed) != 0)
                abort(); /* accepted bytes are exactly what we would have sent */
        switch (f->type) {
        case RELAY_FRAME_RESIZE: {
                uint16_t rows, cols;
                if (f->size != 4)
                        abort();
                relay_frame_get_resize(f, &rows, &cols);
                break;
        }
        case RELAY_FRAME_SIGNAL:
        case RELAY_FRAME_EXIT:
                if (f->size != 4)
                        abort();
                (void) relay_frame_get_u32(f);
                break;
        case RELAY_FRAME_EOF:
        case RELAY_FRAME_CLOSE:
                if (f->size != 0)
                        abort();
                break;
        case RELAY_FRAME_OPEN:
                check_open(f);
                break;
        case RELAY_FRAME_PING:
        case RELAY_FRAME_PONG:
                if (f->channel != RELAY_CHANNEL_CONTROL)
                        abort();
                break;
        case RELAY_FRAME_STDIN:
        case RELAY_FRAME_STDOUT:
        case RELAY_FRAME_STDERR:
        case RELAY_FRAME_ERROR:
                break;
        case _RELAY_FRAME_TYPE_MAX:
        case _RELAY_FRAME_TYPE_INVALID:
        default:
                abort();
        }
        if (!relay_frame_type_to_string(f->type))
                abort();
}

static void check_stream(const uint8_t *data, size_t size) {
        size_t off = 0, chunk = size > 0 ? data[0] % 32 + 1 : 1, avail = 0;

        /* The bytes arrive 'chunk' at a time; the reader parses whenever it has some, as relay-conn does. */
        while (off < size) {
                RelayFrame f;
                size_t consumed = 0;
                int r;

                avail = MIN(MAX(avail, off) + chunk, size);
                r = relay_frame_parse(data + off, avail - off, &f, &consumed);
                if (r < 0)
                        return; /* the session ends */
                if (r == 0) {
                        if (avail == size)
                                return; /* truncated at EOF */
                        continue;
                }
                if (consumed > avail - off)
                        abort();
                check_frame(data + off, consumed, &f);
                off += consumed;
        }
}

static void check_endpoint(const uint8_t *data, size_t size) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        _cleanup_free_ char *url = NULL, *canon = NULL, *req = NULL, *want = NULL;
        HttpLimits limits = { .max_header_bytes = HTTP_MAX_HEADER_BYTES_DEFAULT, .max_headers = 16 };
        RelayEndpoint e, again;
        bool v6;
        size_t consumed = 0;

        url = strndup_safe((const char *) data, size);
        if (!url || relay_endpoint_parse(url, &e) < 0)
                return;
        if (isempty(e.host) || strlen(e.host) > RELAY_ENDPOINT_HOST_MAX || string_has_cc(e.host, NULL))
                abort();
        v6 = strchr(e.host, ':');
        canon = asprintf_safe("%s://%s%s%s:%u", e.tls ? "https" : "http", v6 ? "[" : "", e.host,
                              v6 ? "]" : "", e.port);
        if (!canon)
                return;
        if (relay_endpoint_parse(canon, &again) < 0 || again.tls != e.tls || again.port != e.port ||
            !streq(again.host, e.host))
                abort();

        req = relay_upgrade_request("GET", "/v1/sandboxes/x/session", &e);
        want = asprintf_safe("%s%s%s:%u", v6 ? "[" : "", e.host, v6 ? "]" : "", e.port);
        if (!req || !want)
                return;
        if (http_parser_new(HTTP_PARSER_REQUEST, &limits, &p) < 0)
                abort();
        if (http_parser_feed(p, req, strlen(req), &consumed) != HTTP_PARSE_HEAD || consumed != strlen(req) ||
            !streq_ptr(http_message_header(http_parser_message(p), "Host"), want) ||
            !relay_upgrade_requested(http_parser_message(p)))
                abort(); /* the endpoint's host injected something into the upgrade request */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        log_set_max_level(LOG_CRIT);
        check_stream(data, size);
        check_endpoint(data, size);
        return 0;
}
