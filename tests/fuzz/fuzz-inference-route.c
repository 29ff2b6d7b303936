/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the inference.local inputs: the route parser (--inference FILE, the gateway's answer)
 * and the request body rewrite. Any input is rejected with a message or yields a route whose fields are
 * usable; a body is rewritten or refused, never crashes. Built with -fsanitize=fuzzer,address when
 * -Dfuzz=true (clang); otherwise main() replays the files named on the command line. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "alloc-util.h"
#include "fileio.h"
#include "log.h"
#include "proxy-inference.h"
#include "string-util.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(inference_route_unrefp) InferenceRoute *r = NULL;
        _cleanup_free_ char *text = NULL, *err = NULL, *body = NULL, *berr = NULL, *target = NULL;
        size_t n;
        int k;

        log_set_max_level(LOG_CRIT);
        text = strndup_safe((const char *) data, size);
        if (!text)
                return 0;
        k = inference_rewrite_body(text, strlen(text), "fuzz-model", &body, &n, &berr);
        if ((k == -EINVAL && !berr) || (k >= 0 && (!body || n != strlen(body))))
                abort();
        k = inference_route_parse(text, strlen(text), &r, &err);
        if (k < 0) {
                if (k == -EINVAL && !err)
                        abort();
                return 0;
        }
        if (!r->host || !r->authority || !r->prefix || !r->model || r->port == 0 ||
            !r->credential_header != !r->credential_value)
                abort();
        if (inference_upstream_target(r, "/v1/chat/completions?x=1", &target) < 0 || target[0] != '/')
                abort();
        (void) inference_request_denied(r->api, "POST", "/v1/messages");
        return 0;
}
