/* SPDX-License-Identifier: Apache-2.0 */
/* openshell-quadlet: sandbox spec -> Quadlet units; install/remove sandboxes. See docs/units.md. */
#include <getopt.h>
#include <stdio.h>

#include "log.h"
#include "quadlet-cli.h"
#include "sandbox-spec.h"
#include "string-util.h"

static void help(void) {
        printf("openshell-quadlet [OPTIONS] VERB ...\n\n"
               "Sandbox specs to Podman Quadlet units (docs/spec.md, docs/units.md).\n\n"
               "Verbs:\n"
               "  render --spec FILE --output DIR [--selinux auto|yes|no]\n"
               "                          Write the four Quadlet files of a spec into DIR\n"
               "  validate --spec FILE    Check a spec and print the first error\n"
               "  install --spec FILE [--user] [--now]\n"
               "                          Pin a subnet, install the spec, daemon-reload (and start)\n"
               "  remove NAME [--user]    Stop the sandbox, delete its spec, daemon-reload, remove\n"
               "                          leftover Podman containers, volume and network\n"
               "  list [--user]           List installed specs with their subnets\n"
               "  check NAME [--user]     Exit 0 if sandbox NAME has a valid installed spec\n\n"
               "Options:\n"
               "  --user                  Use the user's spec directory and bus (systemctl --user)\n"
               "  --spec-dir DIR          Use DIR instead of the system or user spec directory\n"
               "  --no-reload             Do not talk to systemd or Podman (install/remove)\n"
               "  -h --help               Show this help\n"
               "  --version               Show the version\n\n"
               "Exit status: 0 ok, 1 failure, 2 usage, 3 invalid spec, 4 no such sandbox.\n");
}

enum {
        ARG_SPEC = 0x100,
        ARG_OUTPUT,
        ARG_SELINUX,
        ARG_USER,
        ARG_NOW,
        ARG_SPEC_DIR,
        ARG_NO_RELOAD,
        ARG_VERSION,
};

static int parse_argv(int argc, char **argv, CliArgs *a) {
        static const struct option options[] = {
                { "spec", required_argument, NULL, ARG_SPEC },
                { "output", required_argument, NULL, ARG_OUTPUT },
                { "selinux", required_argument, NULL, ARG_SELINUX },
                { "user", no_argument, NULL, ARG_USER },
                { "now", no_argument, NULL, ARG_NOW },
                { "spec-dir", required_argument, NULL, ARG_SPEC_DIR },
                { "no-reload", no_argument, NULL, ARG_NO_RELOAD },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_SPEC:
                        a->spec = optarg;
                        break;
                case ARG_OUTPUT:
                        a->output = optarg;
                        break;
                case ARG_SELINUX:
                        a->selinux = selinux_mode_from_string(optarg);
                        if (a->selinux < 0)
                                return log_error("--selinux= takes auto, yes or no, not '%s'", optarg), -EINVAL;
                        break;
                case ARG_USER:
                        a->user = true;
                        break;
                case ARG_NOW:
                        a->now = true;
                        break;
                case ARG_SPEC_DIR:
                        a->spec_dir = optarg;
                        break;
                case ARG_NO_RELOAD:
                        a->no_reload = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("openshell-quadlet %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        return 1;
}

static const struct {
        const char *verb;
        bool needs_spec, needs_output, needs_name;
        int (*run)(const CliArgs *a);
} verbs[] = {
        { "render", true, true, false, verb_render },      { "validate", true, false, false, verb_validate },
        { "install", true, false, false, verb_install },   { "remove", false, false, true, verb_remove },
        { "list", false, false, false, verb_list },        { "check", false, false, true, verb_check },
};

int main(int argc, char **argv) {
        CliArgs a = { .selinux = SELINUX_AUTO };
        int r;

        log_set_program_name("openshell-quadlet");
        log_parse_environment();

        r = parse_argv(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_OK;
        if (optind >= argc) {
                log_error("Missing verb; see --help.");
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                if (!streq(argv[optind], verbs[i].verb))
                        continue;
                if (argc - optind != (verbs[i].needs_name ? 2 : 1))
                        return log_error("%s: wrong number of arguments; see --help.", verbs[i].verb), EXIT_USAGE;
                if (verbs[i].needs_spec && !a.spec)
                        return log_error("%s: --spec FILE is required.", verbs[i].verb), EXIT_USAGE;
                if (verbs[i].needs_output && !a.output)
                        return log_error("%s: --output DIR is required.", verbs[i].verb), EXIT_USAGE;
                if (verbs[i].needs_name)
                        a.name = argv[optind + 1];
                return verbs[i].run(&a);
        }
        log_error("Unknown verb '%s'; see --help.", argv[optind]);
        return EXIT_USAGE;
}
