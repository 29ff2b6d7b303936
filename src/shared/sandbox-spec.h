/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The sandbox spec: the JSON document that describes one sandbox (docs/spec.md). Parsing validates
 * everything strictly, because every value ends up in a unit file: an invalid spec is rejected with a
 * message that names the offending field ("env.FOO: value contains a control character"). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Size caps (docs/spec.md lists them). */
#define SANDBOX_SPEC_FILE_MAX (256U * 1024U) /* bytes of JSON */
#define SANDBOX_NAME_MAX 63U                 /* a DNS label */
#define SANDBOX_IMAGE_MAX 512U
#define SANDBOX_PATH_MAX 1024U
#define SANDBOX_COMMAND_ARGS_MAX 128U
#define SANDBOX_COMMAND_ARG_MAX 4096U
#define SANDBOX_COMMAND_TOTAL_MAX (64U * 1024U) /* sum of all argument lengths */
#define SANDBOX_ENV_MAX 128U
#define SANDBOX_ENV_KEY_MAX 128U
#define SANDBOX_ENV_VALUE_MAX 4096U
#define SANDBOX_ENV_TOTAL_MAX (64U * 1024U) /* sum of all key and value lengths */
#define SANDBOX_LABELS_MAX 64U
#define SANDBOX_LABEL_KEY_MAX 128U
#define SANDBOX_LABEL_VALUE_MAX 1024U
#define SANDBOX_MOUNTS_MAX 64U
#define SANDBOX_VOLUME_NAME_MAX 128U
#define SANDBOX_GATEWAY_MAX 300U
#define SANDBOX_SOCKET_PATH_MAX 107U /* an AF_UNIX sun_path, without its NUL */
/* The gateway socket's file name: QUADLET_GATEWAY_SOCKET_DIR "/" NAME (23 + NAME bytes) must fit a
 * sun_path inside the proxy container too (quadlet-render.c asserts the sum). */
#define SANDBOX_GATEWAY_SOCKET_NAME_MAX 84U
#define SANDBOX_CPUS_MAX 1024U                                  /* whole CPUs */
#define SANDBOX_MEMORY_MIN (6ULL * 1024 * 1024)                 /* Podman's minimum */
#define SANDBOX_MEMORY_MAX (16ULL * 1024 * 1024 * 1024 * 1024) /* 16 TiB */
#define SANDBOX_PIDS_MAX 4194304U                               /* the kernel's pid_max limit */

/* Sandbox subnets: one /28 per sandbox in 10.213.0.0/16 (ARCHITECTURE.md "Addresses"). */
#define SANDBOX_SUBNET_SLOTS 4096U

typedef enum SandboxMountType {
        SANDBOX_MOUNT_VOLUME,
        SANDBOX_MOUNT_BIND,
        SANDBOX_MOUNT_TMPFS,
        _SANDBOX_MOUNT_TYPE_MAX,
        _SANDBOX_MOUNT_TYPE_INVALID = -EINVAL,
} SandboxMountType;

DECLARE_STRING_TABLE_LOOKUP(sandbox_mount_type, SandboxMountType);

typedef struct SandboxMount {
        SandboxMountType type;
        char *source; /* NULL for tmpfs */
        char *target;
        bool readonly;
} SandboxMount;

typedef struct SandboxKeyValue {
        char *key;
        char *value;
} SandboxKeyValue;

typedef struct SandboxSpec {
        char *name;
        char *image;
        char **command; /* NULL: no workload, the supervisor serves exec/connect */
        SandboxKeyValue *env;
        size_t n_env; /* sorted by key */
        char *policy;

        unsigned cpus_milli; /* 0: unset */
        uint64_t memory;     /* bytes, 0: unset */
        unsigned pids;       /* 0: unset */

        SandboxMount *mounts;
        size_t n_mounts;
        char *userns; /* NULL: Podman's default */
        SandboxKeyValue *labels;
        size_t n_labels; /* sorted by key */

        char *tls_ca, *tls_cert, *tls_key; /* all or none: the proxy's client identity (CN=sandbox:NAME) */
        char *tls_agent_cert, *tls_agent_key; /* both or none, only with tls_ca: the supervisor's (CN=agent:NAME) */

        char *gateway; /* NULL or "http(s)://HOST[:PORT]" as written, without a trailing '/' */
        bool gateway_https;
        char *gateway_host; /* as written, IPv6 literals with brackets */
        uint16_t gateway_port; /* the scheme's default (443, 80) when the URL has none */
        char *gateway_socket; /* NULL, or the host path of the gateway's AF_UNIX callback socket (with gateway) */

        bool has_subnet;
        unsigned subnet_slot; /* < SANDBOX_SUBNET_SLOTS */
} SandboxSpec;

SandboxSpec *sandbox_spec_free(SandboxSpec *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(SandboxSpec *, sandbox_spec_free);

/* Parses and validates a spec. On a validation error returns -EINVAL and, if ret_error is given, a
 * message naming the field; -ENOMEM on OOM. */
int sandbox_spec_from_json(const char *text, size_t size, SandboxSpec **ret, char **ret_error);

/* Reads path (at most SANDBOX_SPEC_FILE_MAX bytes) and parses it. I/O errors return their errno and a
 * message too. */
int sandbox_spec_load(const char *path, SandboxSpec **ret, char **ret_error);

/* Serializes a spec back to canonical, indented JSON (keys in documentation order, memory in bytes,
 * the subnet if one is set). */
int sandbox_spec_to_json(const SandboxSpec *s, char **ret);

/* True for a DNS label: [a-z0-9-], 1..63, no leading or trailing '-'. */
bool sandbox_name_is_valid(const char *name) _pure_;

/* "10.213.X.Y/28" for a slot, and back. */
int sandbox_subnet_format(unsigned slot, char **ret);
int sandbox_subnet_parse(const char *s, unsigned *ret_slot);
/* The address ".host" (1 gateway, 2 proxy, 3 agent) of a slot's subnet, as a string. */
int sandbox_subnet_address(unsigned slot, unsigned host, char **ret);

/* Looks up an env entry; NULL if absent. */
const char *sandbox_spec_get_env(const SandboxSpec *s, const char *key);
