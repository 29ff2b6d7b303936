/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The set of installed specs in a spec directory, and the subnet allocation over them
 * (ARCHITECTURE.md "Addresses"): pinned subnets first, then fnv1a32(NAME) mod 4096 probing linearly
 * past taken slots, in name order. */

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "sandbox-spec.h"

#define SANDBOX_SPECS_MAX 4096U /* one per subnet slot */

typedef struct SandboxEntry {
        char *path;
        char *name;        /* from the file name (NAME.json) */
        SandboxSpec *spec; /* NULL if invalid */
        char *error;       /* why it is invalid */
        bool pinned;       /* the spec carried its subnet */
} SandboxEntry;

typedef struct SandboxSet {
        SandboxEntry *entries; /* sorted by name */
        size_t n;
} SandboxSet;

typedef struct SandboxPaths {
        char *spec_dir;    /* /etc/openshell/sandboxes or $XDG_CONFIG_HOME/openshell/sandboxes */
        char *quadlet_dir; /* /run/openshell/quadlet or $XDG_RUNTIME_DIR/openshell/quadlet */
} SandboxPaths;

uint32_t fnv1a32(const char *s) _pure_;
/* The slot a name hashes to, before probing. */
unsigned sandbox_default_slot(const char *name) _pure_;

/* Paths for the system or the user instance. User paths follow $XDG_CONFIG_HOME/$HOME and
 * $XDG_RUNTIME_DIR (falling back to the password database and /run/user/UID). */
int sandbox_paths_get(bool user, SandboxPaths *ret);
void sandbox_paths_done(SandboxPaths *p);

/* Loads every "*.json" in dir (a missing dir is an empty set). Invalid specs become entries with an
 * error; only I/O errors on the directory itself and OOM fail. */
int sandbox_set_load_dir(const char *dir, SandboxSet *ret);
/* Adds a parsed spec (ownership taken on success), replacing an entry of the same name. */
int sandbox_set_put(SandboxSet *set, const char *path, SandboxSpec *spec);
/* Assigns a subnet to every valid entry; conflicts and exhaustion turn entries invalid. */
int sandbox_set_allocate(SandboxSet *set);
SandboxEntry *sandbox_set_find(SandboxSet *set, const char *name);

/* Installs spec (always taken) into spec_dir as NAME.json, written atomically with mode 0600: allocates
 * its subnet against the specs already installed there (a reinstall keeps the subnet it had) and pins
 * it in the written file. On success returns 0 and, if asked, the file's path and the pinned slot. A
 * spec the allocation rejects (subnet conflict, pool exhausted) returns -EINVAL with *ret_error set. */
int sandbox_store_install(
                const char *spec_dir,
                SandboxSpec *spec,
                char **ret_path,
                unsigned *ret_slot,
                char **ret_error);
void sandbox_set_done(SandboxSet *set);
static inline void sandbox_set_donep(SandboxSet *set) {
        sandbox_set_done(set);
}
