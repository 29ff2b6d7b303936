/* SPDX-License-Identifier: Apache-2.0 */
/* openshell-gateway-generator NORMAL_DIR [EARLY_DIR LATE_DIR]: see gateway-generator.h. */
#include <stdlib.h>
#include <unistd.h>

#include "alloc-util.h"
#include "gateway-config.h"
#include "gateway-generator.h"
#include "log.h"
#include "string-util.h"

int main(int argc, char *argv[]) {
        _cleanup_free_ char *path = NULL;
        const char *scope = getenv("SYSTEMD_SCOPE");
        bool user;
        int r;

        log_set_program_name("openshell-gateway-generator");
        log_parse_environment();
        if (argc != 2 && argc != 4) {
                log_error("Usage: %s NORMAL_DIR [EARLY_DIR LATE_DIR]", argv[0]);
                return EXIT_FAILURE;
        }
        /* systemd >= 251 says which manager runs us; older ones: a user manager is not root. */
        user = scope ? streq(scope, "user") : geteuid() != 0;
        r = gateway_config_default_path(user, &path);
        if (r < 0) {
                log_error_errno(r, "Cannot determine the gateway.conf path: %m");
                return EXIT_FAILURE;
        }
        r = gateway_generator_run(path, user, argv[1]);
        /* A generator failure must not hold up boot; the shipped units stay in effect. */
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
