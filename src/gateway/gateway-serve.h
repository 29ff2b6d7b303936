/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "gateway-config.h"
#include "gateway-listen.h"

/* The TLS name sandboxes verify when they reach the gateway through its callback socket (a SAN of the
 * server certificate, see PKI_SERVER_DNS_SANS). */
#define GATEWAY_CALLBACK_TLS_NAME "host.openshell.internal"

typedef struct ActivatedFd {
        int fd;
        ListenRole role;
} ActivatedFd;

/* Collects socket-activated fds with sd_listen_fds_with_names(1, ...) (which unsets LISTEN_* so nothing
 * we spawn inherits them). FileDescriptorName= decides the role: "api" or "callback"; any other name, or
 * an fd that is not a listening stream socket, is an error (fail closed). Returns the number of fds (0:
 * not socket-activated) and the fds in ret (ret_n entries), or negative errno. */
int gateway_collect_activated(ActivatedFd ret[], size_t max, size_t *ret_n);

/* What the gateway writes into specs that name no "gateway": the URL (ret_url) and, for a Unix callback
 * listener, the host path of its socket (ret_socket, else NULL). The first callback listener that is not
 * an unspecified address decides:
 *   - a Unix socket: "https://host.openshell.internal" (http:// with DisableTLS=yes) and the socket path;
 *     the proxy connects to the socket (mounted into its container) and verifies that name;
 *   - a loopback address, or any address of a user gateway: https://host.containers.internal:PORT (rootless
 *     containers reach the host only through pasta's mapping of that name);
 *   - else https://ADDRESS:PORT.
 * CallbackEndpoint= replaces the URL (the socket path stays). Both NULL when there is no callback
 * listener. Returns 0 or -ENOMEM. */
int gateway_callback_target(const GatewayConfig *c, const ListenSet *set, bool user, char **ret_url,
                            char **ret_socket);

/* Runs the gateway until SIGTERM/SIGINT (or the idle timeout when socket-activated). */
int gateway_serve(const char *config_path, bool user);

/* generate-certs: creates/refreshes the PKI in dir (pki_ensure()) and says what it did. */
int gateway_generate_certs(const char *dir, char **server_sans);
