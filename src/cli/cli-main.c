/* SPDX-License-Identifier: Apache-2.0 */
/* openshell: the CLI (docs/cli.md). main() only wires. */
#include <curl/curl.h>

#include "cli.h"

int main(int argc, char **argv) {
        int r;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return cli_error(CLI_EXIT_FAILURE, "cannot initialize libcurl");
        r = cli_main(argc, argv);
        curl_global_cleanup();
        return r;
}
