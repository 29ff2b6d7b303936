/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The environment of every process the supervisor starts (the workload, exec'd commands, interactive
 * sessions, file transfers): the supervisor's own environment (what Quadlet gave the agent container:
 * HTTP_PROXY, SSL_CERT_FILE, ... see quadlet-render.c) minus what belongs to the supervisor alone, plus
 * the caller's KEY=VALUE overrides — except for the proxy and CA variables, which always keep the
 * container's values so that every child goes through the proxy and trusts its CA. */

#include "macro.h"

/* Variables a request may not override (when the container has them). */
#define SUPERVISOR_ENV_PINNED                                                                              \
        "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE",      \
                "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS",                \
                "NODE_USE_ENV_PROXY", "GIT_SSH_COMMAND", "OPENSHELL_SANDBOX"

#define SUPERVISOR_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Builds a child's environment from base (NULL-terminated "K=V", e.g. environ) and overrides. Drops the
 * supervisor's private variables (NOTIFY_SOCKET, LISTEN_*, OPENSHELL_TLS_KEY, OPENSHELL_LOG_LEVEL…), adds
 * PATH and, for a tty, TERM when missing. Returns 0 or -ENOMEM; invalid overrides are skipped. */
int supervisor_env_build(char *const *base, char *const *overrides, bool tty, char ***ret);

/* The value of key in a "K=V" list, or NULL. */
const char *supervisor_env_get(char *const *env, const char *key) _pure_;
