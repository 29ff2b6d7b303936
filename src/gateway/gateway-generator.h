/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* openshell-gateway-generator: a systemd generator that makes the socket units follow gateway.conf, the
 * one source of truth for listeners. It writes, into the generator's normal directory,
 *   openshell-gateway.socket.d/50-gateway-conf.conf           ListenStream= for the api listeners
 *   openshell-gateway-callback.socket.d/50-gateway-conf.conf  ListenStream= for the callback listeners
 * each starting with an empty ListenStream= that drops the shipped default. A socket path is written as
 * ListenStream=PATH, and a role with one gets SocketMode=0600 and DirectoryMode=0700 (and, with paths
 * only, FreeBind=no and NoDelay=no); a TCP callback address gets FreeBind=yes and NoDelay=yes (the user
 * unit ships a socket path, without them). With no callback address the
 * callback socket is masked (a socket unit without listeners cannot start). An invalid gateway.conf writes
 * nothing: the shipped defaults stay, and the gateway itself refuses the file loudly. */

#include "gateway-listen.h"

#define GATEWAY_SOCKET_UNIT "openshell-gateway.socket"
#define GATEWAY_CALLBACK_SOCKET_UNIT "openshell-gateway-callback.socket"
#define GATEWAY_GENERATOR_DROPIN "50-gateway-conf.conf"

/* The drop-in text for one role. */
int gateway_generator_render(const ListenSet *set, ListenRole role, const char *source, char **ret);

/* Reads config_path (+ drop-ins) and writes the drop-ins below dir. */
int gateway_generator_run(const char *config_path, bool user, const char *dir);
