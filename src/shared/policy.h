/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The sandbox policy in OpenShell's format (docs/policy.md), from JSON or YAML into one validated model,
 * and its matching rules. Shared by the proxy (enforcement), the supervisor (filesystem/landlock/process
 * sections) and the gateway (validation on upload). Everything not explicitly allowed is denied. */

#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "macro.h"

/* A policy file larger than this is refused (config key PolicyMaxBytes= is not offered: it is input). */
#define POLICY_MAX_BYTES (1024U * 1024U)
#define POLICY_VERSION_MAX 1U

typedef enum PolicyProtocol {
        POLICY_PROTOCOL_L4,   /* "protocol" omitted: host/port only */
        POLICY_PROTOCOL_REST, /* L7: every HTTP request checked */
        _POLICY_PROTOCOL_MAX,
        _POLICY_PROTOCOL_INVALID = -EINVAL,
} PolicyProtocol;

typedef enum PolicyEnforcement {
        POLICY_ENFORCEMENT_ENFORCE,
        POLICY_ENFORCEMENT_AUDIT, /* denials are logged, not applied */
        _POLICY_ENFORCEMENT_MAX,
        _POLICY_ENFORCEMENT_INVALID = -EINVAL,
} PolicyEnforcement;

typedef enum PolicyAccess {
        POLICY_ACCESS_NONE, /* no preset: "rules" decide */
        POLICY_ACCESS_READ_ONLY,
        POLICY_ACCESS_READ_WRITE,
        POLICY_ACCESS_FULL,
        _POLICY_ACCESS_MAX,
        _POLICY_ACCESS_INVALID = -EINVAL,
} PolicyAccess;

typedef enum PolicyTls {
        POLICY_TLS_INSPECT, /* default for protocol rest: terminate and inspect */
        POLICY_TLS_SKIP,    /* pass through uninspected */
        _POLICY_TLS_MAX,
        _POLICY_TLS_INVALID = -EINVAL,
} PolicyTls;

/* process.seccomp.profile: the system calls a filtered child is refused besides process.seccomp.deny. */
typedef enum PolicySeccompProfile {
        POLICY_SECCOMP_PROFILE_BASELINE, /* default: what an agent never needs (docs/policy.md) */
        POLICY_SECCOMP_PROFILE_NONE,     /* only the deny list */
        _POLICY_SECCOMP_PROFILE_MAX,
        _POLICY_SECCOMP_PROFILE_INVALID = -EINVAL,
} PolicySeccompProfile;

/* At most this many names in process.seccomp.deny (there are fewer than 500 system calls). */
#define POLICY_SECCOMP_DENY_MAX 512U
#define POLICY_SYSCALL_NAME_MAX 64U

typedef enum PolicyLayer {
        POLICY_LAYER_L4,
        POLICY_LAYER_L7,
        _POLICY_LAYER_MAX,
        _POLICY_LAYER_INVALID = -EINVAL,
} PolicyLayer;

DECLARE_STRING_TABLE_LOOKUP(policy_protocol, PolicyProtocol);
DECLARE_STRING_TABLE_LOOKUP(policy_enforcement, PolicyEnforcement);
DECLARE_STRING_TABLE_LOOKUP(policy_access, PolicyAccess);
DECLARE_STRING_TABLE_LOOKUP(policy_tls, PolicyTls);
DECLARE_STRING_TABLE_LOOKUP(policy_layer, PolicyLayer);
DECLARE_STRING_TABLE_LOOKUP(policy_seccomp_profile, PolicySeccompProfile);

typedef struct PolicyQueryMatch {
        char *key;
        char *glob; /* matched against the percent-decoded value */
} PolicyQueryMatch;

typedef struct PolicyHttpRule {
        char **methods;          /* upper-case; "*" = any; NULL = any */
        char *path;              /* glob, NULL = any */
        PolicyQueryMatch *query; /* every key must match */
        size_t n_query;
} PolicyHttpRule;

typedef struct PolicyCidr {
        int family;
        uint8_t addr[16];
        unsigned prefixlen;
} PolicyCidr;

typedef struct PolicyEndpoint {
        char *host; /* lower-case; "*.x" one label, "**.x" any depth */
        uint16_t *ports;
        size_t n_ports;
        PolicyProtocol protocol;
        PolicyTls tls;
        PolicyEnforcement enforcement;
        PolicyAccess access;
        PolicyHttpRule *rules;
        size_t n_rules;
        PolicyHttpRule *deny_rules;
        size_t n_deny_rules;
        PolicyCidr *allowed_ips;
        size_t n_allowed_ips;
} PolicyEndpoint;

typedef struct PolicyEntry {
        char *id;
        char *name;
        PolicyEndpoint *endpoints;
        size_t n_endpoints;
} PolicyEntry;

/* process.seccomp, applied by the supervisor to every child it starts (absent: no filter). */
typedef struct PolicySeccomp {
        bool enabled;
        PolicySeccompProfile profile;
        char **deny; /* system call names the native architecture's libseccomp knows; NULL = none */
} PolicySeccomp;

typedef struct Policy {
        unsigned version;
        PolicyEntry *entries;
        size_t n_entries;
        /* Validated here, applied by the supervisor. */
        cJSON *filesystem_policy;
        cJSON *landlock;
        cJSON *process;
        PolicySeccomp seccomp; /* parsed from process.seccomp */
} Policy;

Policy *policy_free(Policy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Policy *, policy_free);

/* Builds a policy from a parsed document. On -EINVAL, *ret_error (if given) says where and why, e.g.
 * "network_policies.github.endpoints[0].port: expected 1..65535". lines (may be NULL) maps nodes to
 * source lines for the message (YAML). */
typedef struct PolicyLineMap PolicyLineMap;
int policy_from_json(const cJSON *root, const PolicyLineMap *lines, Policy **ret, char **ret_error);

/* Parses JSON or YAML text (YAML unless the first non-blank byte is '{'). */
int policy_parse(const char *text, size_t size, Policy **ret, char **ret_error);
/* Reads and parses a file (JSON or YAML, by content as policy_parse()). */
int policy_load(const char *path, Policy **ret, char **ret_error);

/* YAML → cJSON with a node → line map for messages (policy-yaml.c). */
int policy_yaml_to_json(const char *text, size_t size, cJSON **ret, PolicyLineMap **ret_lines, char **ret_error);
PolicyLineMap *policy_line_map_free(PolicyLineMap *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(PolicyLineMap *, policy_line_map_free);
unsigned policy_line_map_lookup(const PolicyLineMap *m, const cJSON *node);

/* Is name a system call libseccomp knows (on any architecture it supports: names another architecture
 * has, such as "umount" on x86-64, are accepted and filter nothing here)? */
bool policy_syscall_name_valid(const char *name);

/* ---- matching (policy-match.c) ---- */

typedef struct PolicyRequest {
        const char *host;   /* as the client named it */
        uint16_t port;
        const char *method; /* NULL for an L4-only check (CONNECT) */
        const char *path;   /* origin-form path without query */
        const char *query;  /* raw query without '?', may be NULL */
} PolicyRequest;

typedef struct PolicyDecision {
        bool allowed;  /* final verdict, after audit mode */
        bool audit;    /* a denial that audit mode let through */
        PolicyLayer layer;
        const PolicyEntry *entry;       /* matched policy, NULL if none */
        const PolicyEndpoint *endpoint; /* matched endpoint, NULL if none */
        char rule[96];                  /* e.g. "endpoints[0].rules[1]", "" if none */
        const char *reason;             /* static text */
} PolicyDecision;

/* Decides a request. Returns 0 (see ret->allowed) or -EINVAL for a malformed request. */
int policy_check(const Policy *p, const PolicyRequest *req, PolicyDecision *ret);

/* Host pattern match (case-insensitive; the pattern is lower-case). */
bool policy_host_match(const char *pattern, const char *host) _pure_;
/* Path glob: '*' within one segment, '**' across segments. */
bool policy_glob_match(const char *pattern, const char *s) _pure_;

int policy_cidr_parse(const char *s, PolicyCidr *ret);
bool policy_cidr_contains(const PolicyCidr *c, const struct sockaddr *sa) _pure_;
/* Loopback, link-local (incl. 169.254.169.254), unspecified, multicast, or one of 'own' networks. */
bool policy_address_is_internal(const struct sockaddr *sa, const PolicyCidr *own, size_t n_own) _pure_;
/* May the endpoint's traffic go to this address? Internal addresses need an allowed_ips entry. */
bool policy_endpoint_allows_address(const PolicyEndpoint *e, const struct sockaddr *sa, const PolicyCidr *own,
                                    size_t n_own) _pure_;
