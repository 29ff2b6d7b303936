/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The body of openshell-sandbox-generator: renders every valid spec of a spec directory into the
 * private Quadlet directory, adds the shipped openshell.network, and writes the umbrella drop-ins that
 * bind openshell-sandbox@NAME.service to the generated agent. main() then execs Podman's quadlet on the
 * private directory. */

#include <stdbool.h>

#include "macro.h"

typedef struct GeneratorConfig {
        const char *spec_dir;
        const char *quadlet_dir;  /* private; emptied of stale Quadlet files first */
        const char *network_file; /* shipped openshell.network, copied into quadlet_dir */
        const char *unit_dir;     /* the generator's normal output directory, for the drop-ins */
        char *const *resolvers;
        bool selinux;
} GeneratorConfig;

/* Returns the number of sandboxes rendered, or a negative errno when nothing could be done (the spec
 * directory or the output directories are unusable). Invalid specs are logged and skipped. */
int generator_render_all(const GeneratorConfig *c);

/* True when systemd runs us as a user generator: $SYSTEMD_SCOPE=user (systemd >= 251), else the
 * directory we were started from (…/user-generators/). */
bool generator_is_user(const char *argv0);
