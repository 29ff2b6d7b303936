/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Sandbox spec -> the four Quadlet files of one sandbox (ARCHITECTURE.md "Fixed names"). Rendering is a
 * pure function of the spec and the options: no I/O, deterministic output (golden-file tests). Writing
 * the files is separate (quadlet_files_write()). */

#include <stdbool.h>

#include "macro.h"
#include "sandbox-spec.h"

/* Paths and values fixed by ARCHITECTURE.md. */
#define QUADLET_PROXY_PORT 3128
#define QUADLET_FORWARD_PORT 8081
#define QUADLET_PROXY_TLS_DIR "/var/lib/openshell/tls"  /* the TLS volume, read-write, in the proxy */
#define QUADLET_AGENT_TLS_DIR "/etc/openshell-tls"      /* the TLS volume, read-only, in the agent */
#define QUADLET_PROXY_POLICY "/etc/openshell/policy.json"
#define QUADLET_CLIENT_TLS_DIR "/etc/openshell/tls/client"
#define QUADLET_AGENT_POLICY "/etc/openshell/policy.json"   /* read-only, for Landlock */
#define QUADLET_PROXY_HOST "host.openshell.internal"       /* the proxy, in the agent's /etc/hosts */
#define QUADLET_GATEWAY_SOCKET_DIR "/run/openshell/gateway" /* the gateway socket's directory, in the proxy */
#define QUADLET_SIDECAR_ROOT "/opt/openshell"
#define QUADLET_EGRESS_NETWORK "openshell.network"
#define QUADLET_STOP_TIMEOUT_SEC 10
#if defined(__aarch64__)
#define QUADLET_SIDECAR_LOADER QUADLET_SIDECAR_ROOT "/lib/ld-linux-aarch64.so.1"
#else
#define QUADLET_SIDECAR_LOADER QUADLET_SIDECAR_ROOT "/lib/ld-linux-x86-64.so.2"
#endif

typedef enum QuadletFileType {
        QUADLET_FILE_NETWORK,
        QUADLET_FILE_VOLUME,
        QUADLET_FILE_PROXY,
        QUADLET_FILE_AGENT,
        _QUADLET_FILE_TYPE_MAX,
        _QUADLET_FILE_TYPE_INVALID = -EINVAL,
} QuadletFileType;

typedef struct QuadletFiles {
        char *name[_QUADLET_FILE_TYPE_MAX];    /* "openshell-sbx-NAME.network", ... */
        char *content[_QUADLET_FILE_TYPE_MAX];
} QuadletFiles;

typedef struct RenderOptions {
        const char *spec_path;     /* named in the header comment */
        bool selinux;              /* relabel our bind mounts (relabel=shared, i.e. ":z") */
        char *const *resolvers;    /* DNS= for the proxy; NULL or empty: Podman's default */
        const char *sidecar_image; /* NULL: SIDECAR_IMAGE from config.h */
} RenderOptions;

void quadlet_files_done(QuadletFiles *f);

/* Renders spec. The spec must carry a subnet (spec->has_subnet): allocation is the caller's job.
 * Returns 0, -EINVAL if a value cannot be written safely (the spec parser rejects those first), or
 * -ENOMEM. */
int quadlet_render(const SandboxSpec *spec, const RenderOptions *opts, QuadletFiles *ret);

/* Writes the files atomically (mode 0644) into dir, which must exist. */
int quadlet_files_write(const QuadletFiles *f, const char *dir);

/* The file names of a sandbox's Quadlet files, for removal. */
int quadlet_file_name(const char *sandbox, QuadletFileType type, char **ret);

/* True if SELinux is enabled on this host (selinuxfs is mounted). */
bool quadlet_selinux_enabled(void);
