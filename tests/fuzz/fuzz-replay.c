/* SPDX-License-Identifier: Apache-2.0 */
/* main() for the corpus replayers: feeds each file named on the command line to the fuzz target once. */
#include <stdio.h>

#include "alloc-util.h"
#include "fileio.h"
#include "fuzz.h"

#define FUZZ_REPLAY_MAX_INPUT (1U << 20)

int main(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *text = NULL;
                size_t size;

                if (read_full_file(argv[i], FUZZ_REPLAY_MAX_INPUT, &text, &size) < 0) {
                        fprintf(stderr, "cannot read %s\n", argv[i]);
                        return 1;
                }
                LLVMFuzzerTestOneInput((const uint8_t *) text, size);
        }
        printf("%d inputs replayed\n", argc - 1);
        return 0;
}
