/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the sandbox spec parser and the Quadlet renderer: any input either fails validation
 * with a message, or parses, renders, serializes and re-parses to the same canonical JSON.
 * Built with -fsanitize=fuzzer,address when -Dfuzz=true (clang); otherwise main() below replays the
 * files named on the command line (the regression corpus). */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "alloc-util.h"
#include "fileio.h"
#include "quadlet-render.h"
#include "sandbox-spec.h"
#include "string-util.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(sandbox_spec_freep) SandboxSpec *spec = NULL, *again = NULL;
        _cleanup_free_ char *error = NULL, *json = NULL, *json2 = NULL;
        QuadletFiles f = {};

        if (sandbox_spec_from_json((const char *) data, size, &spec, &error) < 0) {
                if (!error)
                        abort(); /* every rejection names its reason (or it was OOM, which fuzzing excludes) */
                return 0;
        }
        spec->has_subnet = true;
        RenderOptions opts = { .spec_path = "/fuzz.json", .selinux = size % 2 };
        if (quadlet_render(spec, &opts, &f) < 0)
                abort(); /* a valid spec always renders */
        for (size_t i = 0; i < _QUADLET_FILE_TYPE_MAX; i++)
                if (!f.content[i] || strstr(f.content[i], "\n\n\n"))
                        abort();
        quadlet_files_done(&f);

        if (sandbox_spec_to_json(spec, &json) < 0 || sandbox_spec_from_json(json, strlen(json), &again, NULL) < 0 ||
            sandbox_spec_to_json(again, &json2) < 0 || !streq(json, json2))
                abort();
        return 0;
}
