/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "fileio.h"
#include "path-util.h"
#include "sandbox-store.h"
#include "string-util.h"

uint32_t fnv1a32(const char *s) {
        uint32_t h = 2166136261U;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                h ^= *p;
                h *= 16777619U;
        }
        return h;
}

unsigned sandbox_default_slot(const char *name) {
        return fnv1a32(name) % SANDBOX_SUBNET_SLOTS;
}

void sandbox_paths_done(SandboxPaths *p) {
        p->spec_dir = mfree(p->spec_dir);
        p->quadlet_dir = mfree(p->quadlet_dir);
}

static int user_dirs(char **ret_config, char **ret_runtime) {
        const char *config = getenv("XDG_CONFIG_HOME"), *runtime = getenv("XDG_RUNTIME_DIR"), *home;
        _cleanup_free_ char *c = NULL, *rt = NULL;

        if (config && path_is_normalized_absolute(config))
                c = strdup(config);
        else {
                home = getenv("HOME");
                if (!home || !path_is_normalized_absolute(home)) {
                        struct passwd *pw = getpwuid(getuid());
                        if (!pw || !pw->pw_dir)
                                return -ENXIO;
                        home = pw->pw_dir;
                }
                c = path_join(home, ".config");
        }
        if (runtime && path_is_normalized_absolute(runtime))
                rt = strdup(runtime);
        else if (asprintf(&rt, "/run/user/%u", (unsigned) getuid()) < 0)
                rt = NULL;
        if (!c || !rt)
                return -ENOMEM;
        *ret_config = TAKE_PTR(c);
        *ret_runtime = TAKE_PTR(rt);
        return 0;
}

int sandbox_paths_get(bool user, SandboxPaths *ret) {
        _cleanup_free_ char *config = NULL, *runtime = NULL;
        SandboxPaths p = {};
        int r;

        if (user) {
                r = user_dirs(&config, &runtime);
                if (r < 0)
                        return r;
                p.spec_dir = path_join(config, "openshell/sandboxes");
                p.quadlet_dir = path_join(runtime, "openshell/quadlet");
        } else {
                p.spec_dir = strdup(SYSCONFDIR "/openshell/sandboxes");
                p.quadlet_dir = strdup("/run/openshell/quadlet");
        }
        if (!p.spec_dir || !p.quadlet_dir) {
                sandbox_paths_done(&p);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

static void entry_done(SandboxEntry *e) {
        free(e->path);
        free(e->name);
        sandbox_spec_free(e->spec);
        free(e->error);
}

void sandbox_set_done(SandboxSet *set) {
        for (size_t i = 0; i < set->n; i++)
                entry_done(&set->entries[i]);
        set->entries = mfree(set->entries);
        set->n = 0;
}

static int entry_cmp(const void *a, const void *b) {
        return strcmp(((const SandboxEntry *) a)->name, ((const SandboxEntry *) b)->name);
}

SandboxEntry *sandbox_set_find(SandboxSet *set, const char *name) {
        for (size_t i = 0; i < set->n; i++)
                if (streq(set->entries[i].name, name))
                        return &set->entries[i];
        return NULL;
}

static int entry_load(SandboxEntry *e, const char *dir, const char *file) {
        e->path = path_join(dir, file);
        e->name = strndup(file, strlen(file) - STRLEN(".json"));
        if (!e->path || !e->name)
                return -ENOMEM;
        if (!sandbox_name_is_valid(e->name)) {
                e->error = strdup("file name is not NAME.json with a valid sandbox name");
                return e->error ? 0 : -ENOMEM;
        }
        if (sandbox_spec_load(e->path, &e->spec, &e->error) == -ENOMEM)
                return -ENOMEM;
        if (e->spec && !streq(e->spec->name, e->name)) {
                if (asprintf(&e->error, "name: '%s' does not match the file name '%s'", e->spec->name, file) < 0)
                        return -ENOMEM;
                e->spec = sandbox_spec_free(e->spec);
        }
        if (!e->spec && !e->error)
                return -ENOMEM;
        e->pinned = e->spec && e->spec->has_subnet;
        return 0;
}

int sandbox_set_load_dir(const char *dir, SandboxSet *ret) {
        _cleanup_closedir_ DIR *d = NULL;
        SandboxSet set = {};
        size_t allocated = 0;
        struct dirent *de;
        int r;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = set;
                        return 0;
                }
                return -errno;
        }
        while ((errno = 0, de = readdir(d))) {
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".json") || strlen(de->d_name) <= 5)
                        continue;
                if (set.n >= SANDBOX_SPECS_MAX)
                        break;
                if (!GREEDY_REALLOC(set.entries, allocated, set.n + 1)) {
                        sandbox_set_done(&set);
                        return -ENOMEM;
                }
                set.entries[set.n] = (SandboxEntry) {};
                r = entry_load(&set.entries[set.n++], dir, de->d_name);
                if (r < 0) {
                        sandbox_set_done(&set);
                        return r;
                }
        }
        if (errno != 0) {
                r = -errno;
                sandbox_set_done(&set);
                return r;
        }
        if (set.n > 0)
                qsort(set.entries, set.n, sizeof(SandboxEntry), entry_cmp);
        *ret = set;
        return 0;
}

int sandbox_set_put(SandboxSet *set, const char *path, SandboxSpec *spec) {
        SandboxEntry *e = sandbox_set_find(set, spec->name);
        SandboxEntry n = {};

        n.path = strdup(path);
        n.name = strdup(spec->name);
        if (!n.path || !n.name) {
                free(n.path);
                free(n.name);
                return -ENOMEM;
        }
        n.spec = spec;
        n.pinned = spec->has_subnet;
        if (e) {
                entry_done(e);
                *e = n;
                return 0;
        }
        e = realloc(set->entries, (set->n + 1) * sizeof(SandboxEntry));
        if (!e) {
                n.spec = NULL;
                entry_done(&n);
                return -ENOMEM;
        }
        set->entries = e;
        set->entries[set->n++] = n;
        qsort(set->entries, set->n, sizeof(SandboxEntry), entry_cmp);
        return 0;
}

static int entry_invalidate(SandboxEntry *e, const char *fmt, const char *arg) {
        free(e->error);
        if (asprintf(&e->error, fmt, arg) < 0)
                return -ENOMEM;
        e->spec = sandbox_spec_free(e->spec);
        return 0;
}

int sandbox_set_allocate(SandboxSet *set) {
        _cleanup_free_ const char **owner = new0(const char *, SANDBOX_SUBNET_SLOTS);
        int r;

        if (!owner)
                return -ENOMEM;
        for (size_t i = 0; i < set->n; i++) {
                SandboxEntry *e = &set->entries[i];
                if (!e->spec || !e->pinned)
                        continue;
                if (owner[e->spec->subnet_slot]) {
                        r = entry_invalidate(e, "subnet: already used by sandbox '%s'", owner[e->spec->subnet_slot]);
                        if (r < 0)
                                return r;
                        continue;
                }
                owner[e->spec->subnet_slot] = e->name;
        }
        for (size_t i = 0; i < set->n; i++) {
                SandboxEntry *e = &set->entries[i];
                unsigned slot, n;

                if (!e->spec || e->pinned)
                        continue;
                slot = sandbox_default_slot(e->name);
                for (n = 0; n < SANDBOX_SUBNET_SLOTS && owner[slot]; n++)
                        slot = (slot + 1) % SANDBOX_SUBNET_SLOTS;
                if (n == SANDBOX_SUBNET_SLOTS) {
                        r = entry_invalidate(e, "subnet: no free /28 left in 10.213.0.0/16%s", "");
                        if (r < 0)
                                return r;
                        continue;
                }
                owner[slot] = e->name;
                e->spec->subnet_slot = slot;
                e->spec->has_subnet = true;
        }
        return 0;
}

int sandbox_store_install(
                const char *spec_dir,
                SandboxSpec *spec,
                char **ret_path,
                unsigned *ret_slot,
                char **ret_error) {
        _cleanup_(sandbox_spec_freep) SandboxSpec *owned = spec;
        _cleanup_(sandbox_set_donep) SandboxSet set = {};
        _cleanup_free_ char *path = NULL, *json = NULL, *name = NULL;
        SandboxEntry *old, *e;
        int r;

        path = strjoin(spec_dir, "/", spec->name, ".json");
        name = strdup(spec->name);
        if (!path || !name)
                return -ENOMEM;
        r = sandbox_set_load_dir(spec_dir, &set);
        if (r < 0)
                return r;
        old = sandbox_set_find(&set, name);
        if (old && old->spec && old->pinned && !spec->has_subnet) {
                spec->subnet_slot = old->spec->subnet_slot;
                spec->has_subnet = true;
        }
        r = sandbox_set_put(&set, path, owned);
        if (r < 0)
                return r;
        TAKE_PTR(owned); /* the set owns it now */
        r = sandbox_set_allocate(&set);
        if (r < 0)
                return r;
        e = sandbox_set_find(&set, name);
        if (!e || !e->spec) {
                if (ret_error)
                        *ret_error = strdup(e && e->error ? e->error : "spec rejected");
                return -EINVAL;
        }
        r = sandbox_spec_to_json(e->spec, &json);
        if (r < 0)
                return r;
        r = mkdir_p(spec_dir, 0755);
        if (r < 0)
                return r;
        r = write_file_atomic(path, json, strlen(json), 0600);
        if (r < 0)
                return r;
        if (ret_slot)
                *ret_slot = e->spec->subnet_slot;
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return 0;
}
