/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "fileio.h"
#include "host-resolvers.h"
#include "log.h"
#include "path-util.h"
#include "quadlet-cli.h"
#include "quadlet-render.h"
#include "sandbox-install.h"
#include "sandbox-store.h"
#include "string-util.h"

extern char **environ;

static const char *const selinux_mode_table[_SELINUX_MODE_MAX] = {
        [SELINUX_AUTO] = "auto",
        [SELINUX_YES] = "yes",
        [SELINUX_NO] = "no",
};

DEFINE_STRING_TABLE_LOOKUP(selinux_mode, SelinuxMode, _SELINUX_MODE_MAX);

/* Loads a spec, logging the validation message once. Returns an exit status. */
static int load_spec(const char *path, SandboxSpec **ret) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = sandbox_spec_load(path, ret, &error);
        if (r == -ENOMEM)
                return log_oom(), EXIT_FAILURE_GENERIC;
        if (r < 0) {
                log_error("%s: %s", path, strna(error));
                return r == -EINVAL ? EXIT_INVALID_SPEC : EXIT_FAILURE_GENERIC;
        }
        return EXIT_OK;
}

static int spec_dir_for(const CliArgs *a, char **ret) {
        SandboxPaths p = {};
        int r;

        if (a->spec_dir) {
                *ret = strdup(a->spec_dir);
                return *ret ? 0 : log_oom();
        }
        r = sandbox_paths_get(a->user, &p);
        if (r < 0)
                return log_error_errno(r, "Failed to determine the spec directory: %m");
        *ret = TAKE_PTR(p.spec_dir);
        sandbox_paths_done(&p);
        return 0;
}

int verb_render(const CliArgs *a) {
        _cleanup_(sandbox_spec_freep) SandboxSpec *spec = NULL;
        _cleanup_strv_free_ char **resolvers = NULL;
        QuadletFiles f = {};
        int r;

        r = load_spec(a->spec, &spec);
        if (r != EXIT_OK)
                return r;
        /* Without the other installed specs there is nothing to probe past: use the name's own slot.
         * 'install' allocates against the installed specs and pins the result. */
        if (!spec->has_subnet) {
                spec->subnet_slot = sandbox_default_slot(spec->name);
                spec->has_subnet = true;
        }
        r = host_resolvers_read(NULL, &resolvers);
        if (r < 0)
                log_warning_errno(r, "Failed to read the host's resolvers, proxy gets no DNS= lines: %m");

        RenderOptions opts = {
                .spec_path = a->spec,
                .selinux = a->selinux == SELINUX_YES || (a->selinux == SELINUX_AUTO && quadlet_selinux_enabled()),
                .resolvers = resolvers,
        };
        r = quadlet_render(spec, &opts, &f);
        if (r < 0) {
                log_error_errno(r, "Failed to render %s: %m", a->spec);
                return EXIT_INVALID_SPEC;
        }
        r = mkdir_p(a->output, 0755);
        if (r >= 0)
                r = quadlet_files_write(&f, a->output);
        if (r < 0) {
                quadlet_files_done(&f);
                log_error_errno(r, "Failed to write Quadlet files into %s: %m", a->output);
                return EXIT_FAILURE_GENERIC;
        }
        for (size_t i = 0; i < _QUADLET_FILE_TYPE_MAX; i++)
                printf("%s/%s\n", a->output, f.name[i]);
        quadlet_files_done(&f);
        return EXIT_OK;
}

int verb_validate(const CliArgs *a) {
        _cleanup_(sandbox_spec_freep) SandboxSpec *spec = NULL;
        int r;

        r = load_spec(a->spec, &spec);
        if (r != EXIT_OK)
                return r;
        printf("%s: valid sandbox spec '%s'\n", a->spec, spec->name);
        return EXIT_OK;
}

/* The host files a spec refers to must exist when it is installed, or the containers fail to start. */
static int check_host_files(const SandboxSpec *spec) {
        const char *files[][2] = {
                { "policy", spec->policy },
                { "tls.ca", spec->tls_ca },
                { "tls.cert", spec->tls_cert },
                { "tls.key", spec->tls_key },
        };
        struct stat st;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                if (!files[i][1])
                        continue;
                if (stat(files[i][1], &st) < 0) {
                        log_error_errno(errno, "%s: %s: %m", files[i][0], files[i][1]);
                        return EXIT_INVALID_SPEC;
                }
                if (!S_ISREG(st.st_mode)) {
                        log_error("%s: %s is not a regular file", files[i][0], files[i][1]);
                        return EXIT_INVALID_SPEC;
                }
        }
        for (size_t i = 0; i < spec->n_mounts; i++)
                if (spec->mounts[i].type == SANDBOX_MOUNT_BIND && access(spec->mounts[i].source, F_OK) < 0) {
                        log_error_errno(errno, "mounts[%zu].source: %s: %m", i, spec->mounts[i].source);
                        return EXIT_INVALID_SPEC;
                }
        return EXIT_OK;
}

/* Allocates the new spec's subnet against the installed ones and writes it, pinned, into spec_dir. A
 * reinstall keeps the subnet the sandbox already had. */
static int install_spec(SandboxSpec **specp, const char *spec_dir, const char *src) {
        _cleanup_free_ char *path = NULL, *error = NULL, *subnet = NULL;
        unsigned slot;
        int r;

        r = sandbox_store_install(spec_dir, TAKE_PTR(*specp), &path, &slot, &error);
        if (r == -EINVAL && error) {
                log_error("%s: %s", src, error);
                return EXIT_INVALID_SPEC;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to install %s into %s: %m", src, spec_dir), EXIT_FAILURE_GENERIC;
        if (sandbox_subnet_format(slot, &subnet) < 0)
                return log_oom(), EXIT_FAILURE_GENERIC;
        log_info("Installed %s as %s (subnet %s)", src, path, subnet);
        return EXIT_OK;
}

int verb_install(const CliArgs *a) {
        _cleanup_(sandbox_spec_freep) SandboxSpec *spec = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *spec_dir = NULL, *unit = NULL, *error = NULL, *name = NULL;
        int r;

        r = load_spec(a->spec, &spec);
        if (r != EXIT_OK)
                return r;
        r = check_host_files(spec);
        if (r != EXIT_OK)
                return r;
        if (spec_dir_for(a, &spec_dir) < 0)
                return EXIT_FAILURE_GENERIC;
        name = strdup(spec->name);
        if (!name || sandbox_umbrella_unit(name, &unit) < 0)
                return log_oom(), EXIT_FAILURE_GENERIC;
        r = install_spec(&spec, spec_dir, a->spec);
        if (r != EXIT_OK)
                return r;
        if (a->no_reload)
                return EXIT_OK;

        r = sandbox_bus_open(a->user, &bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the %s bus: %m", a->user ? "user" : "system"),
                       EXIT_FAILURE_GENERIC;
        r = sandbox_daemon_reload(bus, &error);
        if (r < 0)
                return log_error("Failed to reload systemd: %s", strna(error)), EXIT_FAILURE_GENERIC;
        if (!a->now) {
                printf("Sandbox '%s' installed; start it with: systemctl%s start %s\n", name,
                       a->user ? " --user" : "", unit);
                return EXIT_OK;
        }
        r = sandbox_unit_start(bus, unit, &error);
        if (r < 0)
                return log_error("Failed to start %s: %s (see: systemctl%s status %s)", unit, strna(error),
                                 a->user ? " --user" : "", unit),
                       EXIT_FAILURE_GENERIC;
        printf("Sandbox '%s' started (%s)\n", name, unit);
        return EXIT_OK;
}

int cli_run(char *const *argv, bool quiet) {
        posix_spawn_file_actions_t fa;
        int status, r;
        pid_t pid;

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        if (quiet)
                (void) posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Removes what Podman may still hold for the sandbox after its units are gone. */
static int podman_cleanup(const char *name) {
        _cleanup_free_ char *agent = strjoin("openshell-agent-", name), *proxy = strjoin("openshell-proxy-", name),
                            *volume = strjoin("openshell-tls-", name), *network = strjoin("openshell-sbx-", name);
        int r, failed = 0;

        if (!agent || !proxy || !volume || !network)
                return log_oom();
        /* Reverse order of creation: agent, proxy, volume, network. */
        r = cli_run((char *const[]) { (char *) "podman", (char *) "rm", (char *) "--force", (char *) "--ignore",
                                      (char *) "--time", (char *) "10", agent, proxy, NULL },
                    true);
        if (r < 0)
                return log_error_errno(r, "Failed to run podman: %m");
        failed |= r != 0;
        if (cli_run((char *const[]) { (char *) "podman", (char *) "volume", (char *) "exists", volume, NULL }, true) == 0)
                failed |= cli_run((char *const[]) { (char *) "podman", (char *) "volume", (char *) "rm",
                                                    (char *) "--force", volume, NULL },
                                  true) != 0;
        if (cli_run((char *const[]) { (char *) "podman", (char *) "network", (char *) "exists", network, NULL }, true) == 0)
                failed |= cli_run((char *const[]) { (char *) "podman", (char *) "network", (char *) "rm",
                                                    (char *) "--force", network, NULL },
                                  true) != 0;
        return failed ? log_error_errno(EIO, "Podman failed to remove some of sandbox '%s''s objects", name) : 0;
}

int verb_remove(const CliArgs *a) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *spec_dir = NULL, *path = NULL, *unit = NULL, *error = NULL;
        bool had_spec;
        int r;

        if (!sandbox_name_is_valid(a->name))
                return log_error("'%s' is not a valid sandbox name", a->name), EXIT_USAGE;
        if (spec_dir_for(a, &spec_dir) < 0)
                return EXIT_FAILURE_GENERIC;
        path = strjoin(spec_dir, "/", a->name, ".json");
        if (!path || sandbox_umbrella_unit(a->name, &unit) < 0)
                return log_oom(), EXIT_FAILURE_GENERIC;
        had_spec = access(path, F_OK) == 0;

        if (!a->no_reload) {
                r = sandbox_bus_open(a->user, &bus);
                if (r < 0)
                        return log_error_errno(r, "Failed to connect to the %s bus: %m", a->user ? "user" : "system"),
                               EXIT_FAILURE_GENERIC;
                r = sandbox_unit_stop(bus, unit, &error);
                if (r < 0)
                        log_warning("Stopping %s: %s; removing anyway", unit, strna(error));
        }
        r = unlink_if_exists(path);
        if (r < 0)
                return log_error_errno(r, "Failed to remove %s: %m", path), EXIT_FAILURE_GENERIC;
        if (bus) {
                error = mfree(error);
                r = sandbox_daemon_reload(bus, &error);
                if (r < 0)
                        return log_error("Failed to reload systemd: %s", strna(error)), EXIT_FAILURE_GENERIC;
        }
        if (!a->no_reload && podman_cleanup(a->name) < 0)
                return EXIT_FAILURE_GENERIC;
        if (!had_spec) {
                log_notice("No spec %s was installed; cleaned up leftovers only", path);
                return EXIT_NO_SPEC;
        }
        printf("Sandbox '%s' removed\n", a->name);
        return EXIT_OK;
}

int verb_list(const CliArgs *a) {
        _cleanup_(sandbox_set_donep) SandboxSet set = {};
        _cleanup_free_ char *spec_dir = NULL;
        int r;

        if (spec_dir_for(a, &spec_dir) < 0)
                return EXIT_FAILURE_GENERIC;
        r = sandbox_set_load_dir(spec_dir, &set);
        if (r >= 0)
                r = sandbox_set_allocate(&set);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", spec_dir), EXIT_FAILURE_GENERIC;

        printf("%-32s %-18s %s\n", "NAME", "SUBNET", "STATUS");
        for (size_t i = 0; i < set.n; i++) {
                const SandboxEntry *e = &set.entries[i];
                _cleanup_free_ char *subnet = NULL;

                if (e->spec && sandbox_subnet_format(e->spec->subnet_slot, &subnet) < 0)
                        return log_oom(), EXIT_FAILURE_GENERIC;
                printf("%-32s %-18s %s%s%s\n", e->name, subnet ?: "-", e->spec ? "valid" : "invalid",
                       e->spec ? (e->pinned ? "" : " (subnet not pinned)") : ": ", e->spec ? "" : strna(e->error));
        }
        return EXIT_OK;
}

/* The generator's output for the sandbox's agent: present once a daemon-reload ran with the spec. */
static bool generated_unit_exists(bool user, const char *name) {
        _cleanup_free_ char *p = NULL;
        const char *rt = getenv("XDG_RUNTIME_DIR");

        if (user && rt)
                p = strjoin(rt, "/systemd/generator/openshell-agent-", name, ".service");
        else if (user)
                return true; /* cannot tell where the user manager keeps its generator output */
        else
                p = strjoin("/run/systemd/generator/openshell-agent-", name, ".service");
        return !p || access(p, F_OK) == 0;
}

int verb_check(const CliArgs *a) {
        _cleanup_(sandbox_set_donep) SandboxSet set = {};
        _cleanup_free_ char *spec_dir = NULL, *path = NULL;
        const SandboxEntry *e;
        int r;

        if (!sandbox_name_is_valid(a->name))
                return log_error("'%s' is not a valid sandbox name", a->name), EXIT_USAGE;
        if (spec_dir_for(a, &spec_dir) < 0)
                return EXIT_FAILURE_GENERIC;
        path = strjoin(spec_dir, "/", a->name, ".json");
        if (!path)
                return log_oom(), EXIT_FAILURE_GENERIC;
        if (access(path, F_OK) < 0) {
                log_error("No sandbox '%s': %s does not exist. Install a spec with 'openshell-quadlet install "
                          "--spec FILE%s' (or place it there and run 'systemctl%s daemon-reload').",
                          a->name, path, a->user ? " --user" : "", a->user ? " --user" : "");
                return EXIT_NO_SPEC;
        }
        r = sandbox_set_load_dir(spec_dir, &set);
        if (r >= 0)
                r = sandbox_set_allocate(&set);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", spec_dir), EXIT_FAILURE_GENERIC;
        e = sandbox_set_find(&set, a->name);
        if (!e || !e->spec) {
                log_error("Sandbox '%s' has an invalid spec %s: %s", a->name, path, e ? strna(e->error) : "unreadable");
                return EXIT_INVALID_SPEC;
        }
        if (!a->spec_dir && !generated_unit_exists(a->user, a->name)) {
                log_error("Sandbox '%s' has a valid spec but no generated units yet: run 'systemctl%s daemon-reload'.",
                          a->name, a->user ? " --user" : "");
                return EXIT_FAILURE_GENERIC;
        }
        return EXIT_OK;
}
