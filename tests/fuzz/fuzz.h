/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Every fuzz target defines the libFuzzer entry point. Built with -DFUZZING_ENGINE and
 * -fsanitize=fuzzer it is a libFuzzer binary; otherwise it is linked with fuzz-replay.c, whose main()
 * replays the corpus files named on the command line (the unit suite does that). */

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
