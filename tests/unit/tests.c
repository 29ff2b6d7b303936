/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "tests.h"

TestCase *test_list_head = NULL;
TestCase *test_list_tail = NULL;
int test_failed = 0;
int test_skipped = 0;

void test_register(TestCase *t) {
        /* Constructors run in definition order in practice; keep it so the output reads like the file. */
        if (test_list_tail)
                test_list_tail->next = t;
        else
                test_list_head = t;
        test_list_tail = t;
}

static int selected(const TestCase *t, int argc, char **argv) {
        if (argc <= 1)
                return 1;
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], t->name) == 0)
                        return 1;
        return 0;
}

int test_run_all(int argc, char **argv) {
        unsigned n = 0, passed = 0, failed = 0, skipped = 0;

        for (TestCase *t = test_list_head; t; t = t->next)
                if (selected(t, argc, argv))
                        n++;
        printf("1..%u\n", n);
        n = 0;
        for (TestCase *t = test_list_head; t; t = t->next) {
                if (!selected(t, argc, argv))
                        continue;
                test_failed = test_skipped = 0;
                fflush(stdout);
                t->func();
                fflush(stderr);
                n++;
                if (test_failed) {
                        failed++;
                        printf("not ok %u - %s\n", n, t->name);
                } else if (test_skipped) {
                        skipped++;
                        printf("ok %u - %s # SKIP\n", n, t->name);
                } else {
                        passed++;
                        printf("ok %u - %s\n", n, t->name);
                }
        }
        printf("# %u passed, %u failed, %u skipped\n", passed, failed, skipped);
        if (failed > 0)
                return 1;
        if (n > 0 && skipped == n)
                return 77;
        return 0;
}
