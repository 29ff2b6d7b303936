/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Credential placeholders: the agent only ever holds "openshell:resolve:env:KEY"; the proxy swaps in the
 * real value, in flight, for the endpoints the credential is bound to. The real values come from a file
 * only the proxy reads (a Podman secret for now, the gateway later):
 *
 *   {"credentials": {"GITHUB_TOKEN": {"value": "ghp_…", "hosts": ["api.github.com", "*.github.com"]},
 *                    "PYPI": {"value_file": "/run/secrets/pypi", "hosts": ["upload.pypi.org"]}}}
 *
 * Unknown placeholders fail closed (-ENOKEY), a placeholder sent to a host its credential is not bound to
 * is -EACCES (403 credential_endpoint_mismatch). Values containing CR, LF or NUL are refused at load. */

#include <stdbool.h>

#include "http-message.h"
#include "json-util.h"
#include "macro.h"

#define CREDENTIAL_PLACEHOLDER_PREFIX "openshell:resolve:env:"
#define CREDENTIALS_MAX_BYTES (1024U * 1024U)
#define CREDENTIAL_VALUE_MAX 16384U

typedef struct CredentialStore CredentialStore;

int credential_store_load(const char *path, CredentialStore **ret, char **ret_error);
int credential_store_parse(const char *text, size_t size, CredentialStore **ret, char **ret_error);
/* The gateway's {"KEY": "VALUE"} object (GET /v1/sandboxes/NAME/credentials): not bound to hosts, each
 * value may go to any destination the policy allows. */
int credential_store_from_map(const cJSON *map, CredentialStore **ret, char **ret_error);
CredentialStore *credential_store_free(CredentialStore *s);

/* {"value": "..."} or {"value_file": "/abs"} (a trailing newline is dropped): one secret, non-empty,
 * without CR/LF/NUL, at most CREDENTIAL_VALUE_MAX bytes. On -EINVAL *ret_why says why (static text). */
int credential_value_from_json(const cJSON *j, char **ret, const char **ret_why);
DEFINE_TRIVIAL_CLEANUP_FUNC(CredentialStore *, credential_store_free);

/* Replaces placeholders in a string. mode: plain text (headers) or percent-encoded (URL path/query,
 * where the placeholder may also arrive percent-encoded). *ret is NULL when nothing was replaced. On
 * -ENOKEY/-EACCES *ret_key names the offending KEY. A NULL store treats every placeholder as unknown. */
typedef enum CredentialContext {
        CREDENTIAL_CONTEXT_HEADER,
        CREDENTIAL_CONTEXT_URL,
        _CREDENTIAL_CONTEXT_MAX,
        _CREDENTIAL_CONTEXT_INVALID = -EINVAL,
} CredentialContext;

int credential_substitute(const CredentialStore *s, const char *host, const char *in, CredentialContext context,
                          char **ret, char **ret_key);

/* A header value, including "Basic base64(user:pass)" whose decoded form is searched, replaced and
 * re-encoded. */
int credential_substitute_header(const CredentialStore *s, const char *host, const char *value, char **ret,
                                 char **ret_key);

/* Applies both to a request: every header value and the origin-form target (*target is replaced when it
 * changes). */
int credential_substitute_request(const CredentialStore *s, const char *host, HttpMessage *m, char **target,
                                  char **ret_key);
