/* SPDX-License-Identifier: Apache-2.0 */
/* main() for the corpus replayers (the unit suite runs them): feeds every file named on the command line,
 * and every regular file in a directory named there (in name order), to the fuzz target once. A crash or
 * a sanitizer report fails the test; so does an input that cannot be read. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc-util.h"
#include "fileio.h"
#include "fuzz.h"
#include "string-util.h"

#define FUZZ_REPLAY_MAX_INPUT (1U << 20)

static int replay_file(const char *path) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file(path, FUZZ_REPLAY_MAX_INPUT, &text, &size);
        if (r < 0) {
                fprintf(stderr, "fuzz-replay: cannot read %s: %s\n", path, strerror(-r));
                return r;
        }
        LLVMFuzzerTestOneInput((const uint8_t *) text, size);
        return 0;
}

static int filter_visible(const struct dirent *de) {
        return de->d_name[0] != '.';
}

/* Returns the number of inputs replayed, or a negative errno. */
static int replay_dir(const char *dir) {
        struct dirent **names = NULL;
        int n, count = 0, r = 0;

        n = scandir(dir, &names, filter_visible, alphasort);
        if (n < 0) {
                fprintf(stderr, "fuzz-replay: cannot list %s: %m\n", dir);
                return -errno;
        }
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *p = strjoin(dir, "/", names[i]->d_name);
                struct stat st;

                if (r >= 0 && !p)
                        r = -ENOMEM;
                else if (r >= 0 && stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
                        r = replay_file(p);
                        count++;
                }
                free(names[i]);
        }
        free(names);
        return r < 0 ? r : count;
}

int main(int argc, char **argv) {
        int total = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                int r;

                if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
                        r = replay_dir(argv[i]);
                else
                        r = replay_file(argv[i]) < 0 ? -EIO : 1;
                if (r < 0)
                        return EXIT_FAILURE;
                total += r;
        }
        printf("%d inputs replayed\n", total);
        return EXIT_SUCCESS;
}
