/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for gateway.conf (conf-parser + the gateway table), the listener merge and the socket-unit
 * drop-ins the generator renders: any input is rejected with an error or yields a listener set whose
 * drop-ins contain only ListenStream= lines of numeric addresses or socket paths, and the fixed socket
 * options the generator adds for them.
 * Built with -fsanitize=fuzzer,address when -Dfuzz=true (clang); otherwise main() replays the files named
 * on the command line (the regression corpus). */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "alloc-util.h"
#include "fileio.h"
#include "gateway-config.h"
#include "gateway-generator.h"
#include "log.h"
#include "string-util.h"


static bool fixed_option(const char *p) {
        static const char *const lines[] = { "SocketMode=0600\n", "DirectoryMode=0700\n", "FreeBind=yes\n",
                                             "FreeBind=no\n",      "NoDelay=yes\n",         "NoDelay=no\n" };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++)
                if (startswith(p, lines[i]))
                        return true;
        return false;
}

static void check_dropin(const char *t) {
        /* Every line after the header is "[Socket]", a ListenStream= of an address we formatted, or one of
         * the fixed socket options. */
        const char *p = strchr(t, '\n');
        if (!p)
                abort();
        for (p++; *p;) {
                const char *nl = strchr(p, '\n');
                if (!nl || !(startswith(p, "[Socket]\n") || startswith(p, "ListenStream=") || fixed_option(p)))
                        abort();
                for (const char *q = p; q < nl; q++)
                        if (*q == '%' || (unsigned char) *q < ' ')
                                abort();
                p = nl + 1;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *api = NULL, *cb = NULL;
        GatewayConfig c;
        ListenSet set;

        log_set_max_level(LOG_CRIT);
        if (gateway_config_init(&c, size % 2) < 0)
                abort();
        if (gateway_config_load_text(&c, "fuzz.conf", (const char *) data, size) >= 0 &&
            gateway_config_listen_set(&c, &set) >= 0) {
                if (gateway_generator_render(&set, LISTEN_ROLE_API, "/fuzz.conf", &api) < 0 ||
                    gateway_generator_render(&set, LISTEN_ROLE_CALLBACK, "/fuzz.conf", &cb) < 0)
                        abort();
                check_dropin(api);
                check_dropin(cb);
                for (size_t i = 0; i < set.n; i++)
                        for (size_t k = i + 1; k < set.n; k++)
                                if (listen_address_equal(&set.items[i].address, &set.items[k].address))
                                        abort(); /* deduplicated */
        }
        gateway_config_done(&c);
        return 0;
}
