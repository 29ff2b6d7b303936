/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A sandbox's logs from the journal: the entries of its proxy and agent services (and its umbrella unit),
 * newest last. */

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Lines a client may ask for at most (GET /v1/sandboxes/NAME/logs?lines=N). */
#define JOURNAL_LINES_DEFAULT 100U
#define JOURNAL_LINES_MAX 1000U
/* Bytes of one message we return; longer ones are cut. */
#define JOURNAL_MESSAGE_MAX 4096U

/* Returns a JSON array of {"time": "2026-11-22T23:00:00.000000Z", "unit": "...", "message": "..."}: the last 'lines' entries. user
 * reads the user's journal and matches _SYSTEMD_USER_UNIT=. journal_dir (NULL: the system's) is for tests.
 * Reading is bounded by 'lines' (memory-mapped journal files, no network). */
int journal_read_sandbox(const char *name, bool user, unsigned lines, const char *journal_dir, cJSON **ret);
