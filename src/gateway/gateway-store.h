/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The gateway's records in its state directory, every write atomic (write_file_atomic: temp file, fsync,
 * rename, fsync of the directory), so a crash leaves the old or the new record, never half of one.
 *
 *   STATE/sandboxes/NAME/sandbox.json    {"name", "created", "providers": [..], "spec": {..}}
 *   STATE/sandboxes/NAME/policy.json     {"revision": N, "policy": {..}}        (0600)
 *   STATE/sandboxes/NAME/policy-current.json  the policy alone: the spec's "policy" file for the proxy
 *   STATE/sandboxes/NAME/inference.json  {"base_url", "model", "provider"?, "api"?}
 *   STATE/sandboxes/NAME/tls/            ca.crt tls.crt tls.key agent.crt agent.key (gateway-pki.h)
 *   STATE/providers/NAME.json            {"name", "type", "credentials": {KEY: VALUE}} (0600)
 *
 * Secret values are returned by store_sandbox_credentials() only; every other provider view is redacted
 * to the credential keys. Errors: -ENOENT (no such object), -EEXIST, -EINVAL with a message in
 * *ret_error (bad input), -EBUSY (provider still used by a sandbox), -errno from the file system. */

#include <cjson/cJSON.h>
#include <stdint.h>

#include "macro.h"

#define STORE_RECORD_MAX (1024U * 1024U)
#define STORE_PROVIDERS_PER_SANDBOX_MAX 16U
#define STORE_CREDENTIALS_MAX 64U
#define STORE_CREDENTIAL_VALUE_MAX 8192U
#define STORE_OBJECTS_MAX 4096U

typedef struct Store Store;

int store_open(const char *state_dir, Store **ret);
Store *store_free(Store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Store *, store_free);

/* The file holding a sandbox's current policy (what its spec's "policy" names). */
int store_sandbox_policy_file(Store *s, const char *name, char **ret);
/* The directory for a sandbox's TLS material. */
int store_sandbox_tls_dir(Store *s, const char *name, char **ret);

/* spec is the validated spec JSON (copied). providers may be NULL. */
int store_sandbox_create(Store *s, const char *name, const cJSON *spec, const cJSON *providers, char **ret_error);
int store_sandbox_get(Store *s, const char *name, cJSON **ret);
int store_sandbox_list(Store *s, cJSON **ret);
int store_sandbox_delete(Store *s, const char *name);
/* The create finished (certificates and policy written): from now on the sandbox survives a restart.
 * Until then a crash makes the next store_open() remove it, so that the create can simply be retried. */
int store_sandbox_complete(Store *s, const char *name);

/* A missing policy is revision 0 with an empty object. */
int store_policy_get(Store *s, const char *name, cJSON **ret_policy, uint64_t *ret_revision);
int store_policy_set(Store *s, const char *name, const cJSON *policy, uint64_t *ret_revision, char **ret_error);

int store_inference_get(Store *s, const char *name, cJSON **ret);
int store_inference_set(Store *s, const char *name, const cJSON *route, char **ret_error);
/* The route as the sandbox's own proxy needs it: with "credential": {"value": SECRET} taken from the route's
 * provider — its OPENAI_API_KEY/ANTHROPIC_API_KEY (by "api"), else its only credential. Never for admins. */
int store_inference_for_sandbox(Store *s, const char *name, cJSON **ret);

int store_provider_create(Store *s, const cJSON *body, cJSON **ret_redacted, char **ret_error);
int store_provider_get(Store *s, const char *name, cJSON **ret_redacted);
int store_provider_list(Store *s, cJSON **ret);
int store_provider_delete(Store *s, const char *name);

/* {"KEY": "value", ...} merged over the sandbox's providers, in their order. */
int store_sandbox_credentials(Store *s, const char *name, cJSON **ret);
