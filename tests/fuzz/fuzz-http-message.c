/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for http-message (the proxy's and the gateway's HTTP/1.1 parser): the input is fed to a
 * request and a response parser in pieces whose sizes come from the input itself. Invariants: the parser
 * never consumes more than it is given, a parsed head has its fields, and a re-serialized head contains
 * CR/LF only as line ends (no header injection survives parsing).
 * Built with -fsanitize=fuzzer,address when -Dfuzz=true (clang); otherwise main() replays the files named
 * on the command line (the regression corpus). */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "alloc-util.h"
#include "fileio.h"
#include "http-message.h"
#include "log.h"
#include "string-util.h"


static void check_head(const HttpMessage *m) {
        _cleanup_free_ char *out = NULL;
        size_t n;

        if (m->method && !m->target)
                abort();
        if (http_message_format_head(m, NULL, true, NULL, &out, &n) < 0)
                return;
        if (strlen(out) != n)
                abort(); /* no NUL inside */
        for (const char *p = out; *p; p++)
                if ((*p == '\r' && p[1] != '\n') || (*p == '\n' && (p == out || p[-1] != '\r')))
                        abort();
}

static void run(HttpParserKind kind, const uint8_t *data, size_t size) {
        HttpLimits limits = { .max_header_bytes = 1024, .max_headers = 16 };
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        size_t off = 0, step = size > 0 ? (size_t) data[0] % 7 + 1 : 1;

        if (http_parser_new(kind, &limits, &p) < 0)
                abort();
        while (off < size) {
                size_t chunk = MIN(step, size - off), consumed = 0;
                int r = http_parser_feed(p, data + off, chunk, &consumed);

                if (r < 0)
                        return;
                if (consumed > chunk)
                        abort();
                if (r == HTTP_PARSE_HEAD) {
                        HttpMessage *m = http_parser_message(p);
                        if (!m)
                                abort();
                        check_head(m);
                        if (kind == HTTP_PARSER_RESPONSE && (m->status % 2))
                                http_parser_skip_body(p);
                } else if (r == HTTP_PARSE_DONE)
                        http_parser_next(p);
                else if (consumed == 0)
                        return; /* no progress without an error would loop */
                off += consumed;
        }
        (void) http_parser_finish(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        log_set_max_level(LOG_CRIT);
        run(HTTP_PARSER_REQUEST, data, size);
        run(HTTP_PARSER_RESPONSE, data, size);
        return 0;
}
