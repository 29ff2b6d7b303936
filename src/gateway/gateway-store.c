/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fd-util.h"
#include "fileio.h"
#include "gateway-store.h"
#include "json-util.h"
#include "path-util.h"
#include "sandbox-spec.h"
#include "string-util.h"

struct Store {
        char *dir;
};

static int set_error(char **ret_error, const char *msg) {
        if (ret_error) {
                free(*ret_error);
                *ret_error = strdup(msg);
        }
        return -EINVAL;
}

static int store_recover(Store *s);

int store_open(const char *state_dir, Store **ret) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL;
        int r;

        s = new0(Store, 1);
        if (!s)
                return -ENOMEM;
        s->dir = strdup(state_dir);
        a = path_join(state_dir, "sandboxes");
        b = path_join(state_dir, "providers");
        if (!s->dir || !a || !b)
                return -ENOMEM;
        r = mkdir_p(a, 0700);
        if (r < 0)
                return r;
        r = mkdir_p(b, 0700);
        if (r < 0)
                return r;
        /* Best effort: a state that cannot be tidied (read-only, full) still serves, and is tidied next time. */
        r = store_recover(s);
        if (r == -ENOMEM)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        free(s->dir);
        return mfree(s);
}

static char *sandbox_path(Store *s, const char *name, const char *file) {
        return file ? strjoin(s->dir, "/sandboxes/", name, "/", file) : strjoin(s->dir, "/sandboxes/", name);
}

static char *provider_path(Store *s, const char *name) {
        return strjoin(s->dir, "/providers/", name, ".json");
}

static int read_json(const char *path, cJSON **ret) {
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r;

        r = read_full_file(path, STORE_RECORD_MAX, &text, &n);
        if (r < 0)
                return r;
        r = json_parse(text, n, ret, NULL, NULL);
        return r < 0 ? -EBADMSG : 0;
}

static int write_json(const char *path, const cJSON *j, mode_t mode) {
        _cleanup_free_ char *text = json_print(j, true);

        if (!text)
                return -ENOMEM;
        return write_file_atomic(path, text, strlen(text), mode);
}

int store_sandbox_policy_file(Store *s, const char *name, char **ret) {
        if (!sandbox_name_is_valid(name))
                return -EINVAL;
        *ret = sandbox_path(s, name, "policy-current.json");
        return *ret ? 0 : -ENOMEM;
}

int store_sandbox_tls_dir(Store *s, const char *name, char **ret) {
        if (!sandbox_name_is_valid(name))
                return -EINVAL;
        *ret = sandbox_path(s, name, "tls");
        return *ret ? 0 : -ENOMEM;
}

static bool sandbox_exists(Store *s, const char *name) {
        _cleanup_free_ char *p = sandbox_path(s, name, "sandbox.json");
        return p && access(p, F_OK) == 0;
}

/* Marks a create in progress (store_sandbox_create() until store_sandbox_complete()). */
#define SANDBOX_CREATING "creating"

/* Removes what the store keeps of a sandbox, the record first: from then on the sandbox does not exist,
 * whatever else survives a crash (store_recover() removes the rest). */
static int sandbox_remove(Store *s, const char *name) {
        static const char *const files[] = { "sandbox.json", "policy.json",   "policy-current.json", "inference.json",
                                             "tls/ca.crt",   "tls/tls.crt",   "tls/tls.key",         "tls/agent.crt",
                                             "tls/agent.key", SANDBOX_CREATING };
        _cleanup_free_ char *dir = NULL, *tls = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *p = sandbox_path(s, name, files[i]);
                if (!p)
                        return -ENOMEM;
                r = unlink_if_exists(p);
                if (r < 0)
                        return r;
        }
        tls = sandbox_path(s, name, "tls");
        dir = sandbox_path(s, name, NULL);
        if (!tls || !dir)
                return -ENOMEM;
        if (rmdir(tls) < 0 && errno != ENOENT)
                return -errno;
        if (rmdir(dir) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int validate_provider_list(Store *s, const cJSON *providers, char **ret_error) {
        const cJSON *p;

        if (!providers)
                return 0;
        if (!cJSON_IsArray(providers) || cJSON_GetArraySize(providers) > (int) STORE_PROVIDERS_PER_SANDBOX_MAX)
                return set_error(ret_error, "providers: must be an array of at most 16 provider names");
        cJSON_ArrayForEach(p, providers) {
                _cleanup_free_ char *path = NULL;
                if (!cJSON_IsString(p) || !sandbox_name_is_valid(p->valuestring))
                        return set_error(ret_error, "providers: each entry must be a provider name");
                path = provider_path(s, p->valuestring);
                if (!path)
                        return -ENOMEM;
                if (access(path, F_OK) < 0)
                        return set_error(ret_error, "providers: no such provider");
        }
        return 0;
}

int store_sandbox_create(Store *s, const char *name, const cJSON *spec, const cJSON *providers, char **ret_error) {
        _cleanup_json_ cJSON *rec = NULL;
        _cleanup_free_ char *dir = NULL, *path = NULL, *marker = NULL;
        int r;

        if (!sandbox_name_is_valid(name))
                return set_error(ret_error, "name: not a valid sandbox name");
        if (sandbox_exists(s, name))
                return -EEXIST;
        r = validate_provider_list(s, providers, ret_error);
        if (r < 0)
                return r;

        rec = cJSON_CreateObject();
        if (!rec || !cJSON_AddStringToObject(rec, "name", name) ||
            !cJSON_AddNumberToObject(rec, "created", (double) time(NULL)) ||
            !cJSON_AddItemToObject(rec, "providers", providers ? cJSON_Duplicate(providers, true) : cJSON_CreateArray()) ||
            !cJSON_AddItemToObject(rec, "spec", cJSON_Duplicate(spec, true)))
                return -ENOMEM;
        dir = sandbox_path(s, name, NULL);
        path = sandbox_path(s, name, "sandbox.json");
        marker = sandbox_path(s, name, SANDBOX_CREATING);
        if (!dir || !path || !marker)
                return -ENOMEM;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        /* Until store_sandbox_complete(), a crash makes store_recover() take the sandbox back. */
        r = write_file_atomic(marker, "", 0, 0600);
        if (r < 0)
                return r;
        r = write_json(path, rec, 0600);
        if (r < 0)
                (void) sandbox_remove(s, name);
        return r;
}

int store_sandbox_get(Store *s, const char *name, cJSON **ret) {
        _cleanup_free_ char *path = NULL;

        if (!sandbox_name_is_valid(name))
                return -ENOENT;
        path = sandbox_path(s, name, "sandbox.json");
        if (!path)
                return -ENOMEM;
        return read_json(path, ret);
}

/* Lists names in dir whose entries end in suffix ("" for directories), sorted. */
static int list_names(const char *dir, const char *suffix, char ***ret) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;
        int r;

        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *name = NULL;
                const char *e = *suffix ? endswith(de->d_name, suffix) : de->d_name + strlen(de->d_name);

                if (de->d_name[0] == '.' || !e)
                        continue;
                name = strndup_safe(de->d_name, (size_t) (e - de->d_name));
                if (!name)
                        return -ENOMEM;
                if (!sandbox_name_is_valid(name))
                        continue;
                if (++n > STORE_OBJECTS_MAX)
                        return -E2BIG;
                r = strv_consume(&l, TAKE_PTR(name));
                if (r < 0)
                        return r;
        }
        *ret = strv_sort(TAKE_PTR(l));
        return 0;
}

/* The records under DIR/subdir (names ending in suffix), each read with get, as a JSON array sorted by
 * name. An entry get cannot read is skipped: a directory without a record is a create that crashed
 * half-way, not an error of the listing. */
static int list_records(
                Store *s,
                const char *subdir,
                const char *suffix,
                int (*get)(Store *s, const char *name, cJSON **ret),
                cJSON **ret) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *dir = strjoin(s->dir, "/", subdir);
        _cleanup_json_ cJSON *arr = cJSON_CreateArray();
        int r;

        if (!dir || !arr)
                return -ENOMEM;
        r = list_names(dir, suffix, &names);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                cJSON *rec = NULL;
                if (get(s, *n, &rec) < 0)
                        continue;
                cJSON_AddItemToArray(arr, rec);
        }
        *ret = TAKE_PTR(arr);
        return 0;
}

int store_sandbox_list(Store *s, cJSON **ret) {
        return list_records(s, "sandboxes", "", store_sandbox_get, ret);
}

int store_sandbox_delete(Store *s, const char *name) {
        if (!sandbox_name_is_valid(name) || !sandbox_exists(s, name))
                return -ENOENT;
        return sandbox_remove(s, name);
}

int store_sandbox_complete(Store *s, const char *name) {
        _cleanup_free_ char *p = NULL;

        if (!sandbox_name_is_valid(name) || !sandbox_exists(s, name))
                return -ENOENT;
        p = sandbox_path(s, name, SANDBOX_CREATING);
        if (!p)
                return -ENOMEM;
        return unlink_if_exists(p);
}

int store_policy_get(Store *s, const char *name, cJSON **ret_policy, uint64_t *ret_revision) {
        _cleanup_free_ char *path = NULL;
        _cleanup_json_ cJSON *j = NULL;
        cJSON *pol, *rev;
        int r;

        if (!sandbox_name_is_valid(name) || !sandbox_exists(s, name))
                return -ENOENT;
        path = sandbox_path(s, name, "policy.json");
        if (!path)
                return -ENOMEM;
        r = read_json(path, &j);
        if (r == -ENOENT) {
                *ret_revision = 0;
                *ret_policy = cJSON_CreateObject();
                return *ret_policy ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        rev = cJSON_GetObjectItemCaseSensitive(j, "revision");
        pol = cJSON_DetachItemFromObjectCaseSensitive(j, "policy");
        if (!cJSON_IsNumber(rev) || rev->valuedouble < 0 || !cJSON_IsObject(pol)) {
                cJSON_Delete(pol);
                return -EBADMSG;
        }
        *ret_revision = (uint64_t) rev->valuedouble;
        *ret_policy = pol;
        return 0;
}

int store_policy_set(Store *s, const char *name, const cJSON *policy, uint64_t *ret_revision, char **ret_error) {
        _cleanup_json_ cJSON *old = NULL, *rec = NULL;
        _cleanup_free_ char *path = NULL, *current = NULL, *rec_text = NULL, *policy_text = NULL;
        uint64_t rev;
        int r;

        if (!cJSON_IsObject(policy))
                return set_error(ret_error, "policy: must be a JSON object");
        r = store_policy_get(s, name, &old, &rev);
        if (r < 0)
                return r;
        rec = cJSON_CreateObject();
        if (!rec || !cJSON_AddNumberToObject(rec, "revision", (double) (rev + 1)) ||
            !cJSON_AddItemToObject(rec, "policy", cJSON_Duplicate(policy, true)))
                return -ENOMEM;
        path = sandbox_path(s, name, "policy.json");
        current = sandbox_path(s, name, "policy-current.json");
        rec_text = json_print(rec, true);
        policy_text = json_print(policy, true);
        if (!path || !current || !rec_text || !policy_text)
                return -ENOMEM;
        /* One change: the revisioned record, which is what counts, then the plain copy the proxy reads. A
         * full disk changes neither; a crash between the renames is repaired by store_recover(). */
        r = write_files_atomic((AtomicFile[]) {
                { path, rec_text, strlen(rec_text), 0600 },
                { current, policy_text, strlen(policy_text), 0600 },
        }, 2);
        if (r < 0)
                return r;
        *ret_revision = rev + 1;
        return 0;
}

int store_inference_get(Store *s, const char *name, cJSON **ret) {
        _cleanup_free_ char *path = NULL;

        if (!sandbox_name_is_valid(name) || !sandbox_exists(s, name))
                return -ENOENT;
        path = sandbox_path(s, name, "inference.json");
        if (!path)
                return -ENOMEM;
        return read_json(path, ret);
}

static bool is_short_string(const cJSON *j, size_t max) {
        return cJSON_IsString(j) && !isempty(j->valuestring) && strlen(j->valuestring) <= max &&
               !string_has_cc(j->valuestring, NULL);
}

static int validate_inference(Store *s, const cJSON *route, char **ret_error) {
        const cJSON *url, *model, *prov, *api, *it;

        if (!cJSON_IsObject(route))
                return set_error(ret_error, "inference: must be a JSON object");
        cJSON_ArrayForEach(it, route)
                if (!IN_SET(0, strcmp(it->string, "base_url"), strcmp(it->string, "model"),
                            strcmp(it->string, "provider"), strcmp(it->string, "api")))
                        return set_error(ret_error, "inference: unknown key (allowed: base_url, model, provider, api)");
        url = cJSON_GetObjectItemCaseSensitive(route, "base_url");
        model = cJSON_GetObjectItemCaseSensitive(route, "model");
        prov = cJSON_GetObjectItemCaseSensitive(route, "provider");
        api = cJSON_GetObjectItemCaseSensitive(route, "api");
        if (!is_short_string(url, 2048) ||
            !(startswith(url->valuestring, "https://") || startswith(url->valuestring, "http://")))
                return set_error(ret_error, "inference.base_url: must be an http:// or https:// URL");
        if (!is_short_string(model, 256))
                return set_error(ret_error, "inference.model: must be a non-empty string");
        if (api && (!cJSON_IsString(api) || !IN_SET(0, strcmp(api->valuestring, "openai"),
                                                     strcmp(api->valuestring, "anthropic"))))
                return set_error(ret_error, "inference.api: must be \"openai\" or \"anthropic\"");
        if (prov) {
                _cleanup_free_ char *p = NULL;
                if (!cJSON_IsString(prov) || !sandbox_name_is_valid(prov->valuestring))
                        return set_error(ret_error, "inference.provider: must be a provider name");
                p = provider_path(s, prov->valuestring);
                if (!p)
                        return -ENOMEM;
                if (access(p, F_OK) < 0)
                        return set_error(ret_error, "inference.provider: no such provider");
        }
        return 0;
}

int store_inference_set(Store *s, const char *name, const cJSON *route, char **ret_error) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (!sandbox_name_is_valid(name) || !sandbox_exists(s, name))
                return -ENOENT;
        r = validate_inference(s, route, ret_error);
        if (r < 0)
                return r;
        path = sandbox_path(s, name, "inference.json");
        if (!path)
                return -ENOMEM;
        return write_json(path, route, 0600);
}

/* A provider as shown to administrators: the credential values replaced by their keys. */
static int provider_redact(const cJSON *p, cJSON **ret) {
        _cleanup_json_ cJSON *out = cJSON_Duplicate(p, true);
        const cJSON *creds = cJSON_GetObjectItemCaseSensitive(p, "credentials"), *c;
        cJSON *keys;

        if (!out)
                return -ENOMEM;
        cJSON_DeleteItemFromObjectCaseSensitive(out, "credentials");
        keys = cJSON_AddArrayToObject(out, "credential_keys");
        if (!keys)
                return -ENOMEM;
        cJSON_ArrayForEach(c, creds) {
                cJSON *k = cJSON_CreateString(c->string);
                if (!k)
                        return -ENOMEM;
                cJSON_AddItemToArray(keys, k);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static bool credential_key_is_valid(const char *k) {
        size_t n = strlen(k);

        if (n == 0 || n > 128 || !((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z') || k[0] == '_'))
                return false;
        for (const char *p = k; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

static int validate_provider(const cJSON *body, char **ret_error) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name"),
                    *type = cJSON_GetObjectItemCaseSensitive(body, "type"),
                    *creds = cJSON_GetObjectItemCaseSensitive(body, "credentials"), *it;

        if (!cJSON_IsObject(body))
                return set_error(ret_error, "provider: must be a JSON object");
        cJSON_ArrayForEach(it, body)
                if (!IN_SET(0, strcmp(it->string, "name"), strcmp(it->string, "type"), strcmp(it->string, "credentials")))
                        return set_error(ret_error, "provider: unknown key (allowed: name, type, credentials)");
        if (!cJSON_IsString(name) || !sandbox_name_is_valid(name->valuestring))
                return set_error(ret_error, "name: must be a DNS label ([a-z0-9-], at most 63)");
        if (!is_short_string(type, 64))
                return set_error(ret_error, "type: must be a non-empty string");
        if (!cJSON_IsObject(creds) || cJSON_GetArraySize(creds) == 0 ||
            cJSON_GetArraySize(creds) > (int) STORE_CREDENTIALS_MAX)
                return set_error(ret_error, "credentials: must be an object with 1..64 entries");
        cJSON_ArrayForEach(it, creds) {
                if (!credential_key_is_valid(it->string))
                        return set_error(ret_error, "credentials: keys must match [A-Za-z_][A-Za-z0-9_]*");
                /* CR/LF/NUL would let a secret split a header when the proxy injects it. */
                if (!is_short_string(it, STORE_CREDENTIAL_VALUE_MAX))
                        return set_error(ret_error, "credentials: values must be non-empty single-line strings");
        }
        return 0;
}

int store_provider_create(Store *s, const cJSON *body, cJSON **ret_redacted, char **ret_error) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = validate_provider(body, ret_error);
        if (r < 0)
                return r;
        path = provider_path(s, cJSON_GetObjectItemCaseSensitive(body, "name")->valuestring);
        if (!path)
                return -ENOMEM;
        if (access(path, F_OK) == 0)
                return -EEXIST;
        r = write_json(path, body, 0600);
        if (r < 0)
                return r;
        return ret_redacted ? provider_redact(body, ret_redacted) : 0;
}

static int provider_load(Store *s, const char *name, cJSON **ret) {
        _cleanup_free_ char *path = NULL;

        if (!sandbox_name_is_valid(name))
                return -ENOENT;
        path = provider_path(s, name);
        if (!path)
                return -ENOMEM;
        return read_json(path, ret);
}

int store_provider_get(Store *s, const char *name, cJSON **ret_redacted) {
        _cleanup_json_ cJSON *p = NULL;
        int r;

        r = provider_load(s, name, &p);
        if (r < 0)
                return r;
        return provider_redact(p, ret_redacted);
}

int store_provider_list(Store *s, cJSON **ret) {
        return list_records(s, "providers", ".json", store_provider_get, ret);
}

static bool provider_in_use(Store *s, const char *name) {
        _cleanup_json_ cJSON *list = NULL;
        const cJSON *rec, *p;

        if (store_sandbox_list(s, &list) < 0)
                return true; /* fail closed: keep the secret if we cannot tell */
        cJSON_ArrayForEach(rec, list) {
                cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(rec, "providers"))
                        if (cJSON_IsString(p) && streq(p->valuestring, name))
                                return true;
        }
        return false;
}

int store_provider_delete(Store *s, const char *name) {
        _cleanup_free_ char *path = NULL;

        if (!sandbox_name_is_valid(name))
                return -ENOENT;
        path = provider_path(s, name);
        if (!path)
                return -ENOMEM;
        if (access(path, F_OK) < 0)
                return -ENOENT;
        if (provider_in_use(s, name))
                return -EBUSY;
        return unlink(path) < 0 ? -errno : 0;
}

int store_inference_for_sandbox(Store *s, const char *name, cJSON **ret) {
        _cleanup_json_ cJSON *route = NULL, *prov = NULL;
        const cJSON *p, *api, *creds, *value;
        cJSON *cred;
        int r;

        r = store_inference_get(s, name, &route);
        if (r < 0)
                return r;
        p = cJSON_GetObjectItemCaseSensitive(route, "provider");
        if (!cJSON_IsString(p) || provider_load(s, p->valuestring, &prov) < 0) {
                *ret = TAKE_PTR(route);
                return 0; /* no provider (a keyless backend), or it vanished: no credential */
        }
        api = cJSON_GetObjectItemCaseSensitive(route, "api");
        creds = cJSON_GetObjectItemCaseSensitive(prov, "credentials");
        value = cJSON_GetObjectItemCaseSensitive(creds, cJSON_IsString(api) && streq(api->valuestring, "anthropic")
                                                                ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");
        if (!value && cJSON_GetArraySize(creds) == 1)
                value = cJSON_GetArrayItem(creds, 0);
        if (cJSON_IsString(value)) {
                cred = cJSON_AddObjectToObject(route, "credential");
                if (!cred || !cJSON_AddStringToObject(cred, "value", value->valuestring))
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(route);
        return 0;
}

int store_sandbox_credentials(Store *s, const char *name, cJSON **ret) {
        _cleanup_json_ cJSON *rec = NULL, *out = cJSON_CreateObject();
        const cJSON *p;
        int r;

        if (!out)
                return -ENOMEM;
        r = store_sandbox_get(s, name, &rec);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(rec, "providers")) {
                _cleanup_json_ cJSON *prov = NULL;
                const cJSON *c;

                if (!cJSON_IsString(p) || provider_load(s, p->valuestring, &prov) < 0)
                        continue; /* deleted providers are refused while in use; tolerate a damaged one */
                cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(prov, "credentials")) {
                        cJSON *v = cJSON_Duplicate(c, false);
                        if (!v)
                                return -ENOMEM;
                        cJSON_DeleteItemFromObjectCaseSensitive(out, c->string);
                        cJSON_AddItemToObject(out, c->string, v);
                }
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* Makes the state whole after a crash: the temporaries of interrupted atomic writes go, sandboxes whose
 * create or delete was interrupted go, and a proxy policy copy that is behind its record (a crash between
 * the two renames of store_policy_set()) is written again from the record, which is what counts. */
static int store_recover_sandbox(Store *s, const char *name) {
        _cleanup_free_ char *dir = sandbox_path(s, name, NULL), *tls = sandbox_path(s, name, "tls"),
                            *current = sandbox_path(s, name, "policy-current.json"),
                            *marker = sandbox_path(s, name, SANDBOX_CREATING);
        _cleanup_json_ cJSON *policy = NULL, *copy = NULL;
        uint64_t rev;

        if (!dir || !tls || !current || !marker)
                return -ENOMEM;
        (void) remove_stale_temporaries(dir);
        (void) remove_stale_temporaries(tls);
        /* A create that did not complete, or a delete that did not: take back what is left. */
        if (access(marker, F_OK) == 0 || !sandbox_exists(s, name))
                return sandbox_remove(s, name);
        if (store_policy_get(s, name, &policy, &rev) < 0 || rev == 0)
                return 0; /* no record or no policy yet: nothing to agree with */
        if (read_json(current, &copy) >= 0 && cJSON_Compare(copy, policy, true))
                return 0;
        return write_json(current, policy, 0600);
}

static int store_recover(Store *s) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *sandboxes = strjoin(s->dir, "/sandboxes"), *providers = strjoin(s->dir, "/providers");
        int r;

        if (!sandboxes || !providers)
                return -ENOMEM;
        (void) remove_stale_temporaries(providers);
        r = list_names(sandboxes, "", &names);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                r = store_recover_sandbox(s, *n);
                if (r < 0)
                        return r;
        }
        return 0;
}
