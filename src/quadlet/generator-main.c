/* SPDX-License-Identifier: Apache-2.0 */
/* openshell-sandbox-generator: a systemd generator (system and user). See docs/units.md. */
#include <stdio.h>
#include <unistd.h>

#include "alloc-util.h"
#include "host-resolvers.h"
#include "log.h"
#include "quadlet-generator.h"
#include "quadlet-render.h"
#include "sandbox-store.h"
#include "string-util.h"

static int exec_quadlet(bool user, const char *quadlet_dir, char **dirs, int n_dirs) {
        _cleanup_free_ char *env_dirs = strjoin("QUADLET_UNIT_DIRS=", quadlet_dir);
        const char *argv[6];
        int k = 0;

        if (!env_dirs)
                return log_oom();
        if (putenv(env_dirs) != 0)
                return log_oom();
        TAKE_PTR(env_dirs); /* the environment owns it now */

        argv[k++] = PODMAN_QUADLET;
        if (user)
                argv[k++] = "-user";
        for (int i = 0; i < n_dirs; i++)
                argv[k++] = dirs[i];
        argv[k] = NULL;
        execv(PODMAN_QUADLET, (char **) argv);
        return log_error_errno(errno, "Failed to execute %s: %m", PODMAN_QUADLET);
}

int main(int argc, char **argv) {
        _cleanup_strv_free_ char **resolvers = NULL;
        SandboxPaths paths = {};
        bool user;
        int r;

        log_set_program_name("openshell-sandbox-generator");
        log_parse_environment();

        /* systemd passes normal, early and late output directories; one is enough for manual runs. */
        if (argc != 2 && argc != 4) {
                log_error("This program takes one or three arguments (the generator output directories).");
                return 1;
        }
        user = generator_is_user(argv[0]);

        r = sandbox_paths_get(user, &paths);
        if (r < 0) {
                log_error_errno(r, "Failed to determine the spec and Quadlet directories: %m");
                return 1;
        }
        r = host_resolvers_read(NULL, &resolvers);
        if (r < 0)
                log_warning_errno(r, "Failed to read the host's resolvers, proxies use Podman's default DNS: %m");

        GeneratorConfig c = {
                .spec_dir = paths.spec_dir,
                .quadlet_dir = paths.quadlet_dir,
                /* The user bridge has its own subnet: rootful and rootless sandboxes run side by side. */
                .network_file = user ? OPENSHELL_USER_NETWORK_FILE : OPENSHELL_NETWORK_FILE,
                .unit_dir = argv[1],
                .resolvers = resolvers,
                .selinux = quadlet_selinux_enabled(),
        };
        r = generator_render_all(&c);
        if (r < 0) {
                sandbox_paths_done(&paths);
                return 1;
        }
        log_debug("Rendered %d sandbox(es) into %s", r, paths.quadlet_dir);

        /* Podman's quadlet turns the private directory into services in the same output directories. */
        r = exec_quadlet(user, paths.quadlet_dir, argv + 1, argc - 1);
        sandbox_paths_done(&paths);
        return r < 0 ? 1 : 0;
}
