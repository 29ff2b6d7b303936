/* SPDX-License-Identifier: Apache-2.0 */
/* Rendering benchmark: parse and render every *.json spec in a directory in one process (the library the
 * generator, the gateway and the CLI link), and print the time. Figures only, never pass/fail.
 *
 * usage: bench-render DIR */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc-util.h"
#include "fileio.h"
#include "quadlet-render.h"
#include "sandbox-spec.h"
#include "string-util.h"

static double now_sec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Parses and renders one spec; a spec without a subnet gets slot i (allocation is not measured here). */
static int render_one(const char *path, unsigned i, size_t *ret_bytes) {
        _cleanup_(sandbox_spec_freep) SandboxSpec *spec = NULL;
        _cleanup_free_ char *text = NULL, *error = NULL;
        RenderOptions opts = { .spec_path = path };
        QuadletFiles files = {};
        size_t size;
        int r;

        r = read_full_file(path, SANDBOX_SPEC_FILE_MAX, &text, &size);
        if (r < 0)
                return r;
        r = sandbox_spec_from_json(text, size, &spec, &error);
        if (r < 0) {
                fprintf(stderr, "bench-render: %s: %s\n", path, error ?: strerror(-r));
                return r;
        }
        if (!spec->has_subnet) {
                spec->has_subnet = true;
                spec->subnet_slot = i % SANDBOX_SUBNET_SLOTS;
        }
        r = quadlet_render(spec, &opts, &files);
        if (r < 0)
                return r;
        for (QuadletFileType t = 0; t < _QUADLET_FILE_TYPE_MAX; t++)
                *ret_bytes += strlen(files.content[t]);
        quadlet_files_done(&files);
        return 0;
}

int main(int argc, char **argv) {
        size_t bytes = 0;
        unsigned n = 0;
        struct dirent *de;
        double t0, t;
        DIR *d;

        if (argc != 2) {
                fprintf(stderr, "usage: bench-render DIR\n");
                return 2;
        }
        d = opendir(argv[1]);
        if (!d) {
                fprintf(stderr, "bench-render: cannot open %s: %m\n", argv[1]);
                return 1;
        }
        t0 = now_sec();
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;
                int r;

                if (!endswith(de->d_name, ".json"))
                        continue;
                path = strjoin(argv[1], "/", de->d_name);
                if (!path) {
                        closedir(d);
                        return 1;
                }
                r = render_one(path, n, &bytes);
                if (r < 0) {
                        fprintf(stderr, "bench-render: %s: %s\n", path, strerror(-r));
                        closedir(d);
                        return 1;
                }
                n++;
        }
        t = now_sec() - t0;
        closedir(d);
        printf("render: %u specs parsed and rendered in one process (library): %.3f s total, %.1f us per spec, "
               "%zu bytes of units (goal < 1 s total)\n",
               n, t, n ? t * 1e6 / n : 0.0, bytes);
        return 0;
}
