/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "gateway-listen.h"

typedef struct ActivatedFd {
        int fd;
        ListenRole role;
} ActivatedFd;

/* Collects socket-activated fds with sd_listen_fds_with_names(1, ...) (which unsets LISTEN_* so nothing
 * we spawn inherits them). FileDescriptorName= decides the role: "api" or "callback"; any other name, or
 * an fd that is not a listening stream socket, is an error (fail closed). Returns the number of fds (0:
 * not socket-activated) and the fds in ret (ret_n entries), or negative errno. */
int gateway_collect_activated(ActivatedFd ret[], size_t max, size_t *ret_n);

/* Runs the gateway until SIGTERM/SIGINT (or the idle timeout when socket-activated). */
int gateway_serve(const char *config_path, bool user);

/* generate-certs: creates/refreshes the PKI in dir (pki_ensure()) and says what it did. */
int gateway_generate_certs(const char *dir, char **server_sans);
