/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the policy parser (JSON and YAML) and matcher: any input is rejected with a message or
 * yields a policy that answers every request without crashing; an error always comes with a message.
 * Built with -fsanitize=fuzzer,address when -Dfuzz=true (clang); otherwise main() replays the files named
 * on the command line (the regression corpus). */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "alloc-util.h"
#include "fileio.h"
#include "log.h"
#include "policy.h"
#include "string-util.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const PolicyRequest requests[] = {
                { .host = "github.com", .port = 443 },
                { .host = "api.github.com", .port = 443, .method = "POST", .path = "/repos/x", .query = "a=b" },
                { .host = "a.b.example.com", .port = 80, .method = "GET", .path = "/", .query = NULL },
                { .host = "127.0.0.1", .port = 8080, .method = "DELETE", .path = "/x/y/z", .query = "q=%41&r" },
        };
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_free_ char *text = NULL, *err = NULL;
        PolicyDecision d;
        int r;

        log_set_max_level(LOG_CRIT);
        text = strndup_safe((const char *) data, size); /* policy_parse expects a NUL-terminated buffer */
        if (!text)
                return 0;
        r = policy_parse(text, strlen(text), &p, &err);
        if (r < 0) {
                if (r == -EINVAL && !err)
                        abort();
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(requests); i++)
                if (policy_check(p, &requests[i], &d) < 0 || !d.reason)
                        abort();
        return 0;
}
