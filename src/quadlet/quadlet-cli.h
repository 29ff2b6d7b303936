/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The verbs of openshell-quadlet, one function each; quadlet-main.c dispatches. Each returns an exit
 * status (below), having logged its error once. */

#include <stdbool.h>

#include "macro.h"

enum {
        EXIT_OK = 0,
        EXIT_FAILURE_GENERIC = 1, /* I/O, D-Bus or Podman failure */
        EXIT_USAGE = 2,           /* bad command line */
        EXIT_INVALID_SPEC = 3,    /* the spec does not validate (or no subnet is free) */
        EXIT_NO_SPEC = 4,         /* no spec is installed under that name */
};

typedef enum SelinuxMode {
        SELINUX_AUTO,
        SELINUX_YES,
        SELINUX_NO,
        _SELINUX_MODE_MAX,
        _SELINUX_MODE_INVALID = -EINVAL,
} SelinuxMode;

DECLARE_STRING_TABLE_LOOKUP(selinux_mode, SelinuxMode);

typedef struct CliArgs {
        const char *spec;     /* --spec */
        const char *output;   /* --output */
        const char *spec_dir; /* --spec-dir: overrides the system/user spec directory */
        const char *name;     /* positional NAME (remove, check) */
        SelinuxMode selinux;
        bool user;
        bool now;
        bool no_reload;
} CliArgs;

int verb_render(const CliArgs *a);
int verb_validate(const CliArgs *a);
int verb_install(const CliArgs *a);
int verb_remove(const CliArgs *a);
int verb_list(const CliArgs *a);
int verb_check(const CliArgs *a);

/* Runs argv (PATH lookup) and returns its exit status, or a negative errno if it could not run.
 * stdout is discarded when quiet. */
int cli_run(char *const *argv, bool quiet);
