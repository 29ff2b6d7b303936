/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc-util.h"
#include "gateway-api.h"
#include "gateway-journal.h"
#include "gateway-pki.h"
#include "json-util.h"
#include "log.h"
#include "parse-util.h"
#include "policy.h"
#include "sandbox-install.h"
#include "string-util.h"

void api_response_done(ApiResponse *r) {
        cJSON_Delete(r->json);
        *r = (ApiResponse) {};
}

int api_error(ApiResponse *r, unsigned status, const char *code, const char *message) {
        cJSON_Delete(r->json);
        r->status = status;
        r->json = cJSON_CreateObject();
        if (!r->json || !cJSON_AddStringToObject(r->json, "error", code) ||
            !cJSON_AddStringToObject(r->json, "message", message))
                return -ENOMEM;
        return 0;
}

static int api_ok(ApiResponse *r, unsigned status, cJSON *json) {
        if (!json)
                return api_error(r, 500, "internal_error", "Out of memory");
        cJSON_Delete(r->json);
        r->status = status;
        r->json = json;
        return 0;
}

/* Maps a store/ops errno to a response. message: the validation message, if any. */
static int api_errno(ApiResponse *r, int error, const char *invalid_code, const char *message) {
        switch (-error) {
        case ENOENT:
                return api_error(r, 404, "not_found", message ?: "No such object");
        case EEXIST:
                return api_error(r, 409, "already_exists", message ?: "An object of that name already exists");
        case EBUSY:
                return api_error(r, 409, "in_use", message ?: "The object is still in use");
        case EINVAL:
                return api_error(r, 400, invalid_code, message ?: "Invalid request");
        case ENOSPC:
        case EDQUOT:
                log_error_errno(error, "The state directory is full, request refused: %m");
                return api_error(r, 507, "insufficient_storage", "The gateway's state directory is full; nothing was changed");
        default:
                log_warning_errno(error, "API request failed: %m");
                return api_error(r, 500, "internal_error", message ?: "Internal error; see the gateway's journal");
        }
}

static int parse_body(const ApiRequest *req, ApiResponse *r, cJSON **ret) {
        unsigned line = 0, col = 0;
        char msg[96];

        if (req->body_size == 0)
                return api_error(r, 400, "invalid_json", "A JSON request body is required"), -EINVAL;
        if (json_parse(req->body, req->body_size, ret, &line, &col) < 0) {
                snprintf(msg, sizeof(msg), "The request body is not valid JSON (line %u, column %u)", line, col);
                return api_error(r, 400, "invalid_json", msg), -EINVAL;
        }
        return 0;
}

static bool only_keys(const cJSON *o, const char *const *allowed, size_t n) {
        const cJSON *it;
        cJSON_ArrayForEach(it, o) {
                bool ok = false;
                for (size_t i = 0; i < n && !ok; i++)
                        ok = streq(it->string, allowed[i]);
                if (!ok)
                        return false;
        }
        return true;
}

static int handle_health(const ApiContext *ctx, const ApiRequest *req, ApiResponse *r) {
        cJSON *j = cJSON_CreateObject();
        char who[80];

        if (j && (!cJSON_AddStringToObject(j, "status", "ok") || !cJSON_AddStringToObject(j, "version", PACKAGE_VERSION) ||
                  !cJSON_AddStringToObject(j, "identity", identity_to_string(req->identity, who, sizeof(who))) ||
                  !cJSON_AddStringToObject(j, "listener", listen_role_to_string(req->role))))
                j = (cJSON_Delete(j), NULL);
        return api_ok(r, 200, j);
}

/* What GET reports about a sandbox's units: the umbrella unit's ActiveState as "state", then "units"
 * with each generated unit under its key, in the order they come up. */
static const struct {
        const char *key, *prefix, *suffix;
} status_units[] = {
        { NULL, "openshell-sandbox@", ".service" },
        { "network", "openshell-sbx-", "-network.service" },
        { "volume", "openshell-tls-", "-volume.service" },
        { "proxy", "openshell-proxy-", ".service" },
        { "agent", "openshell-agent-", ".service" },
};

static int status_unit_names(const char *name, char ***units) {
        for (size_t i = 0; i < ELEMENTSOF(status_units); i++) {
                char *u = strjoin(status_units[i].prefix, name, status_units[i].suffix);
                if (!u || strv_consume(units, u) < 0)
                        return free(u), -ENOMEM;
        }
        return 0;
}

static const char *record_name(const cJSON *rec) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "name"));
        return sandbox_name_is_valid(name) ? name : NULL;
}

/* states: ELEMENTSOF(status_units) entries, or NULL: the units are "unknown", the umbrella unit's state
 * comes from ops->state (a backend without unit_states). */
static int add_status_one(const ApiContext *ctx, cJSON *rec, const char *name, char *const *states) {
        _cleanup_free_ char *state = NULL;
        cJSON *units;

        if (!states && name && !ctx->ops->unit_states && ctx->ops->state(ctx->ops_userdata, name, &state) < 0)
                state = mfree(state);
        if (!cJSON_AddStringToObject(rec, "state", states ? states[0] : state ?: "unknown"))
                return -ENOMEM;
        units = cJSON_CreateObject();
        if (!units || !cJSON_AddItemToObject(rec, "units", units))
                return cJSON_Delete(units), -ENOMEM;
        for (size_t i = 1; i < ELEMENTSOF(status_units); i++)
                if (!cJSON_AddStringToObject(units, status_units[i].key, states ? states[i] : "unknown"))
                        return -ENOMEM;
        if (!cJSON_AddBoolToObject(rec, "session", name && ctx->has_session && ctx->has_session(ctx->session_userdata, name)))
                return -ENOMEM;
        return 0;
}

/* Adds "state" (the umbrella unit's ActiveState), "units" (the generated units' ActiveStates) and
 * "session" (a supervisor session is up) to n sandbox records, asking systemd once for all of them.
 * Without systemd every state is "unknown". */
static int add_status(const ApiContext *ctx, cJSON *const *recs, size_t n) {
        _cleanup_strv_free_ char **units = NULL, **states = NULL;
        int r;

        /* A damaged record without a valid name gets "unknown"s; its slots ask about a harmless name. */
        for (size_t i = 0; i < n; i++) {
                r = status_unit_names(record_name(recs[i]) ?: "invalid", &units);
                if (r < 0)
                        return r;
        }
        if (n > 0 && ctx->ops->unit_states && ctx->ops->unit_states(ctx->ops_userdata, units, &states) < 0)
                states = NULL;
        if (states && strv_length(states) != n * ELEMENTSOF(status_units))
                states = strv_free(states);
        for (size_t i = 0; i < n; i++) {
                const char *name = record_name(recs[i]);

                r = add_status_one(ctx, recs[i], name, name && states ? states + i * ELEMENTSOF(status_units) : NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int handle_sandbox_get(const ApiContext *ctx, const RouteMatch *m, ApiResponse *r) {
        cJSON *rec = NULL;
        int e;

        e = store_sandbox_get(ctx->store, m->name, &rec);
        if (e < 0)
                return api_errno(r, e, "bad_request", NULL);
        if (add_status(ctx, &rec, 1) < 0)
                rec = (cJSON_Delete(rec), NULL);
        return api_ok(r, 200, rec);
}

static int handle_sandbox_list(const ApiContext *ctx, ApiResponse *r) {
        _cleanup_free_ cJSON **recs = NULL;
        cJSON *list = NULL, *j, *it;
        size_t n = 0;
        int e = store_sandbox_list(ctx->store, &list);

        if (e < 0)
                return api_errno(r, e, "bad_request", NULL);
        recs = new0(cJSON *, (size_t) cJSON_GetArraySize(list) + 1);
        if (recs) {
                cJSON_ArrayForEach(it, list)
                        recs[n++] = it;
        }
        j = cJSON_CreateObject();
        if (!recs || add_status(ctx, recs, n) < 0 || !j || !cJSON_AddItemToObject(j, "sandboxes", list)) {
                cJSON_Delete(list);
                j = (cJSON_Delete(j), NULL);
        }
        return api_ok(r, 200, j);
}

/* Fills in what the gateway owns in a spec: its TLS client material and the callback endpoint. A spec
 * that names its own "tls" keeps it (an administrator's choice); a partial one is rejected by the parser.
 * Two identities (gateway-pki.h): cert/key are the proxy's, agent_cert/agent_key the supervisor's, the
 * only ones the agent container mounts. */
static int spec_complete(const ApiContext *ctx, cJSON *spec, const char *name) {
        _cleanup_free_ char *dir = NULL, *ca = NULL, *cert = NULL, *key = NULL, *agent_cert = NULL, *agent_key = NULL,
                            *policy = NULL;
        cJSON *tls;
        int e;

        /* The socket path goes only with the gateway's own URL: a spec that names its gateway names how it
         * is reached. */
        if (ctx->callback_url && !cJSON_GetObjectItemCaseSensitive(spec, "gateway")) {
                if (!cJSON_AddStringToObject(spec, "gateway", ctx->callback_url))
                        return -ENOMEM;
                if (ctx->callback_socket && !cJSON_GetObjectItemCaseSensitive(spec, "gateway_socket") &&
                    !cJSON_AddStringToObject(spec, "gateway_socket", ctx->callback_socket))
                        return -ENOMEM;
        }
        /* The gateway owns the policy: the spec points the proxy at the file the store keeps current. */
        if (!cJSON_GetObjectItemCaseSensitive(spec, "policy")) {
                e = store_sandbox_policy_file(ctx->store, name, &policy);
                if (e < 0)
                        return e;
                if (!cJSON_AddStringToObject(spec, "policy", policy))
                        return -ENOMEM;
        }
        if (!ctx->tls_dir || cJSON_GetObjectItemCaseSensitive(spec, "tls"))
                return 0;
        e = store_sandbox_tls_dir(ctx->store, name, &dir);
        if (e < 0)
                return e;
        ca = strjoin(dir, "/ca.crt");
        cert = strjoin(dir, "/tls.crt");
        key = strjoin(dir, "/tls.key");
        agent_cert = strjoin(dir, "/agent.crt");
        agent_key = strjoin(dir, "/agent.key");
        tls = cJSON_AddObjectToObject(spec, "tls");
        if (!ca || !cert || !key || !agent_cert || !agent_key || !tls || !cJSON_AddStringToObject(tls, "ca", ca) ||
            !cJSON_AddStringToObject(tls, "cert", cert) || !cJSON_AddStringToObject(tls, "key", key) ||
            !cJSON_AddStringToObject(tls, "agent_cert", agent_cert) ||
            !cJSON_AddStringToObject(tls, "agent_key", agent_key))
                return -ENOMEM;
        return 0;
}

static int validate_policy(const cJSON *policy, ApiResponse *r) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_free_ char *err = NULL;

        if (!cJSON_IsObject(policy))
                return api_error(r, 400, "invalid_policy", "policy: must be a JSON object"), -EINVAL;
        if (policy_from_json(policy, NULL, &p, &err) < 0)
                return api_error(r, 400, "invalid_policy", err ?: "policy: invalid"), -EINVAL;
        return 0;
}

/* Everything after the record exists; on failure the record is removed again so a retry can succeed. */
static int sandbox_create_finish(const ApiContext *ctx, const char *name, SandboxSpec **spec, const cJSON *policy,
                                 bool start, ApiResponse *r) {
        _cleanup_json_ cJSON *default_policy = cJSON_CreateObject();
        _cleanup_free_ char *tls = NULL, *err = NULL;
        uint64_t rev;
        int e;

        if (!default_policy || !cJSON_AddNumberToObject(default_policy, "version", 1))
                return api_errno(r, -ENOMEM, "bad_request", NULL), -ENOMEM;
        if (ctx->tls_dir) {
                e = store_sandbox_tls_dir(ctx->store, name, &tls);
                if (e >= 0)
                        e = pki_issue_sandbox_cert(ctx->tls_dir, name, tls);
                if (IN_SET(e, -ENOSPC, -EDQUOT))
                        return api_errno(r, e, NULL, NULL), e;
                if (e < 0)
                        return log_error_errno(e, "Failed to issue a certificate for sandbox '%s': %m", name),
                               api_error(r, 500, "internal_error", "Failed to issue the sandbox certificate"), e;
        }
        /* Every sandbox starts at revision 1: the given policy, or deny-all. */
        e = store_policy_set(ctx->store, name, policy ?: default_policy, &rev, &err);
        if (e >= 0)
                e = store_sandbox_complete(ctx->store, name); /* survives a crash from here on */
        if (e < 0)
                return api_errno(r, e, "invalid_policy", err), e;
        e = ctx->ops->install(ctx->ops_userdata, TAKE_PTR(*spec), start, &err);
        if (e == -EINVAL)
                return api_error(r, 400, "invalid_spec", err ?: "The spec cannot be installed"), e;
        if (e < 0)
                return api_error(r, 502, "systemd_error", err ?: "Failed to install the sandbox units"), e;
        return 0;
}

/* A create killed after its record became complete but before systemd had done its part (between
 * store_sandbox_complete() and the install, or before the queued daemon-reload/start left the bus; found by
 * e2e/test-faults-system.sh) leaves a record that answers 409 while no unit exists, or exists and was never
 * started. The same request again (same completed spec, same providers) finishes it then: when systemd has
 * no unit of that sandbox, or when a start is asked for and the sandbox is inactive or failed. Any other
 * duplicate stays a 409. */
static bool sandbox_create_interrupted(const ApiContext *ctx, const char *name, const cJSON *jspec,
                                       const cJSON *providers, bool start) {
        _cleanup_json_ cJSON *rec = NULL, *none = cJSON_CreateArray();
        _cleanup_strv_free_ char **states = NULL;
        _cleanup_free_ char *proxy = NULL, *umbrella = NULL;

        if (!ctx->ops->unit_states || !none || store_sandbox_get(ctx->store, name, &rec) < 0 ||
            !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(rec, "spec"), jspec, true) ||
            !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(rec, "providers"), providers ?: none, true))
                return false;
        /* The proxy's unit exists only once the generator has rendered the installed spec. */
        if (asprintf(&proxy, "openshell-proxy-%s.service", name) < 0 ||
            sandbox_umbrella_unit(name, &umbrella) < 0)
                return false;
        if (ctx->ops->unit_states(ctx->ops_userdata, (char *[]) { proxy, umbrella, NULL }, &states) < 0 ||
            strv_length(states) != 2)
                return false;
        return streq(states[0], "unknown") ||
               (start && (streq(states[1], "inactive") || streq(states[1], "failed")));
}

/* The record, certificates and policy exist already: only the install is left. The record stays on
 * failure. */
static int sandbox_create_resume(const ApiContext *ctx, const char *name, SandboxSpec **spec, bool start,
                                 ApiResponse *r) {
        _cleanup_free_ char *err = NULL;
        int e;

        log_notice("Sandbox '%s': finishing a create that was interrupted before its units existed.", name);
        e = ctx->ops->install(ctx->ops_userdata, TAKE_PTR(*spec), start, &err);
        if (e == -EINVAL)
                return api_error(r, 400, "invalid_spec", err ?: "The spec cannot be installed"), e;
        if (e < 0)
                return api_error(r, 502, "systemd_error", err ?: "Failed to install the sandbox units"), e;
        return 0;
}

static int handle_sandbox_create(const ApiContext *ctx, const ApiRequest *req, ApiResponse *r) {
        static const char *const keys[] = { "spec", "providers", "policy", "start" };
        _cleanup_json_ cJSON *body = NULL;
        _cleanup_free_ char *text = NULL, *err = NULL;
        _cleanup_(sandbox_spec_freep) SandboxSpec *spec = NULL;
        cJSON *jspec, *jname, *policy, *start, *providers, *rec = NULL;
        char name[IDENTITY_NAME_MAX];
        int e;

        if (parse_body(req, r, &body) < 0)
                return 0;
        if (!cJSON_IsObject(body) || !only_keys(body, keys, ELEMENTSOF(keys)))
                return api_error(r, 400, "bad_request", "The body must be an object with keys spec, providers, policy, start");
        jspec = cJSON_GetObjectItemCaseSensitive(body, "spec");
        jname = cJSON_GetObjectItemCaseSensitive(jspec, "name");
        policy = cJSON_GetObjectItemCaseSensitive(body, "policy");
        start = cJSON_GetObjectItemCaseSensitive(body, "start");
        if (!cJSON_IsObject(jspec) || !cJSON_IsString(jname) || !sandbox_name_is_valid(jname->valuestring))
                return api_error(r, 400, "invalid_spec", "spec.name: must be a DNS label ([a-z0-9-], at most 63)");
        if (start && !cJSON_IsBool(start))
                return api_error(r, 400, "bad_request", "start: must be a boolean");
        if (policy && validate_policy(policy, r) < 0)
                return 0;
        strcpy(name, jname->valuestring);

        e = spec_complete(ctx, jspec, name);
        if (e < 0)
                return api_errno(r, e, "invalid_spec", NULL);
        text = json_print(jspec, false);
        if (!text)
                return api_errno(r, -ENOMEM, "invalid_spec", NULL);
        e = sandbox_spec_from_json(text, strlen(text), &spec, &err);
        if (e < 0)
                return api_errno(r, e, "invalid_spec", err);

        providers = cJSON_GetObjectItemCaseSensitive(body, "providers");
        e = store_sandbox_create(ctx->store, name, jspec, providers, &err);
        if (e == -EEXIST && sandbox_create_interrupted(ctx, name, jspec, providers, cJSON_IsTrue(start)))
                e = sandbox_create_resume(ctx, name, &spec, cJSON_IsTrue(start), r);
        else if (e < 0)
                return api_errno(r, e, "invalid_spec", err);
        else if ((e = sandbox_create_finish(ctx, name, &spec, policy, cJSON_IsTrue(start), r)) < 0)
                (void) store_sandbox_delete(ctx->store, name);
        if (e < 0)
                return 0;
        log_info("Sandbox '%s' created.", name);
        e = store_sandbox_get(ctx->store, name, &rec);
        if (e < 0)
                return api_errno(r, e, "bad_request", NULL);
        if (add_status(ctx, &rec, 1) < 0)
                rec = (cJSON_Delete(rec), NULL);
        return api_ok(r, 201, rec);
}

static int handle_sandbox_delete(const ApiContext *ctx, const RouteMatch *m, ApiResponse *r) {
        _cleanup_free_ char *err = NULL;
        cJSON *rec = NULL;
        int e;

        e = store_sandbox_get(ctx->store, m->name, &rec);
        if (e == -ENOENT)
                /* No record, but a delete killed after the store forgot the sandbox and before its removal
                 * left the bus (found by e2e/test-faults-system.sh) leaves the spec's units and Podman's
                 * objects behind: the same call again removes them (nothing to do when there are none). */
                (void) ctx->ops->uninstall(ctx->ops_userdata, m->name, NULL);
        if (e < 0)
                return api_errno(r, e, "bad_request", NULL);
        cJSON_Delete(rec);
        e = ctx->ops->uninstall(ctx->ops_userdata, m->name, &err);
        if (e < 0)
                return api_error(r, 502, "systemd_error", err ?: "Failed to remove the sandbox units");
        e = store_sandbox_delete(ctx->store, m->name);
        if (e < 0)
                return api_errno(r, e, "bad_request", NULL);
        log_info("Sandbox '%s' deleted.", m->name);
        /* Parked policy watches learn at once that the sandbox is gone (they answer 404). */
        strcpy(r->notify_policy, m->name);
        rec = cJSON_CreateObject();
        if (rec && !cJSON_AddStringToObject(rec, "deleted", m->name))
                rec = (cJSON_Delete(rec), NULL);
        return api_ok(r, 200, rec);
}

static int handle_sandbox_start_stop(const ApiContext *ctx, const RouteMatch *m, bool start, ApiResponse *r) {
        _cleanup_free_ char *err = NULL;
        cJSON *rec = NULL;
        int e;

        e = store_sandbox_get(ctx->store, m->name, &rec);
        if (e < 0)
                return api_errno(r, e, "bad_request", NULL);
        cJSON_Delete(rec);
        e = (start ? ctx->ops->start : ctx->ops->stop)(ctx->ops_userdata, m->name, &err);
        if (e < 0)
                return api_error(r, 502, "systemd_error", err ?: "systemd refused the job");
        rec = cJSON_CreateObject();
        if (rec && (!cJSON_AddStringToObject(rec, "name", m->name) ||
                    !cJSON_AddStringToObject(rec, "job", start ? "start" : "stop")))
                rec = (cJSON_Delete(rec), NULL);
        return api_ok(r, 202, rec);
}

int api_policy_response(const ApiContext *ctx, const char *name, bool changed, ApiResponse *r) {
        cJSON *policy = NULL, *j;
        uint64_t rev;
        int e;

        e = store_policy_get(ctx->store, name, &policy, &rev);
        if (e < 0)
                return api_errno(r, e, "bad_request", NULL);
        j = cJSON_CreateObject();
        if (!j || !cJSON_AddStringToObject(j, "name", name) || !cJSON_AddNumberToObject(j, "revision", (double) rev) ||
            !cJSON_AddBoolToObject(j, "changed", changed) || !cJSON_AddItemToObject(j, "policy", policy)) {
                cJSON_Delete(policy);
                j = (cJSON_Delete(j), NULL);
        }
        return api_ok(r, 200, j);
}

static int handle_sandbox_logs(const ApiContext *ctx, const RouteMatch *m, ApiResponse *r) {
        cJSON *rec = NULL, *lines = NULL, *j;
        unsigned n = JOURNAL_LINES_DEFAULT;
        char buf[16];
        int e;

        if (query_get(m->query, "lines", buf, sizeof(buf)) >= 0 &&
            (safe_atou(buf, &n) < 0 || n == 0 || n > JOURNAL_LINES_MAX))
                return api_error(r, 400, "bad_request", "lines: expected 1..1000");
        e = store_sandbox_get(ctx->store, m->name, &rec);
        if (e < 0)
                return api_errno(r, e, "bad_request", NULL);
        cJSON_Delete(rec);
        e = ctx->ops->logs(ctx->ops_userdata, m->name, n, &lines);
        if (e < 0)
                return log_warning_errno(e, "Failed to read the journal for sandbox '%s': %m", m->name),
                       api_error(r, 502, "journal_error", "Cannot read the journal");
        j = cJSON_CreateObject();
        if (!j || !cJSON_AddStringToObject(j, "name", m->name) || !cJSON_AddItemToObject(j, "lines", lines)) {
                cJSON_Delete(lines);
                j = (cJSON_Delete(j), NULL);
        }
        return api_ok(r, 200, j);
}

static int handle_policy_get(const ApiContext *ctx, const RouteMatch *m, ApiResponse *r) {
        _cleanup_json_ cJSON *policy = NULL;
        char buf[32];
        uint64_t rev, want, timeout = ctx->watch_timeout_default;
        int e;

        if (query_get(m->query, "watch", buf, sizeof(buf)) < 0)
                return api_policy_response(ctx, m->name, true, r);
        if (safe_atou64(buf, &want) < 0)
                return api_error(r, 400, "bad_request", "watch: expected a revision number");
        if (query_get(m->query, "timeout", buf, sizeof(buf)) >= 0 && (parse_sec(buf, &timeout) < 0 || timeout == 0))
                return api_error(r, 400, "bad_request", "timeout: expected a positive duration such as 30 or 500ms");
        e = store_policy_get(ctx->store, m->name, &policy, &rev);
        if (e < 0)
                return api_errno(r, e, "bad_request", NULL);
        if (rev != want)
                return api_policy_response(ctx, m->name, true, r);
        r->watch = true;
        strcpy(r->watch_name, m->name);
        r->watch_revision = rev;
        r->watch_timeout = MIN(timeout, ctx->watch_timeout_max);
        return 0;
}

static int handle_policy_set(const ApiContext *ctx, const ApiRequest *req, const RouteMatch *m, ApiResponse *r) {
        static const char *const keys[] = { "policy" };
        _cleanup_json_ cJSON *body = NULL;
        _cleanup_free_ char *err = NULL;
        cJSON *j;
        uint64_t rev;
        int e;

        if (parse_body(req, r, &body) < 0)
                return 0;
        if (!cJSON_IsObject(body) || !only_keys(body, keys, ELEMENTSOF(keys)))
                return api_error(r, 400, "bad_request", "The body must be {\"policy\": {...}}");
        if (validate_policy(cJSON_GetObjectItemCaseSensitive(body, "policy"), r) < 0)
                return 0;
        e = store_policy_set(ctx->store, m->name, cJSON_GetObjectItemCaseSensitive(body, "policy"), &rev, &err);
        if (e < 0)
                return api_errno(r, e, "invalid_policy", err);
        log_info("Policy of sandbox '%s' set to revision %" PRIu64 ".", m->name, rev);
        strcpy(r->notify_policy, m->name);
        j = cJSON_CreateObject();
        if (j && (!cJSON_AddStringToObject(j, "name", m->name) || !cJSON_AddNumberToObject(j, "revision", (double) rev)))
                j = (cJSON_Delete(j), NULL);
        return api_ok(r, 200, j);
}

static int wrap(ApiResponse *r, unsigned status, const char *key, cJSON *value, int e) {
        cJSON *j;

        if (e < 0)
                return api_errno(r, e, "bad_request", NULL);
        j = cJSON_CreateObject();
        if (!j || !cJSON_AddItemToObject(j, key, value)) {
                cJSON_Delete(value);
                j = (cJSON_Delete(j), NULL);
        }
        return api_ok(r, status, j);
}

static int handle_inference_set(const ApiContext *ctx, const ApiRequest *req, const RouteMatch *m, ApiResponse *r) {
        _cleanup_json_ cJSON *body = NULL;
        _cleanup_free_ char *err = NULL;
        int e;

        if (parse_body(req, r, &body) < 0)
                return 0;
        e = store_inference_set(ctx->store, m->name, body, &err);
        if (e < 0)
                return api_errno(r, e, "invalid_inference", err);
        return api_ok(r, 200, cJSON_Duplicate(body, true));
}

static int handle_provider_create(const ApiContext *ctx, const ApiRequest *req, ApiResponse *r) {
        _cleanup_json_ cJSON *body = NULL;
        _cleanup_free_ char *err = NULL;
        cJSON *red = NULL;
        int e;

        if (parse_body(req, r, &body) < 0)
                return 0;
        e = store_provider_create(ctx->store, body, &red, &err);
        if (e < 0)
                return api_errno(r, e, "invalid_provider", err);
        return api_ok(r, 201, red);
}

static int handle_provider_delete(const ApiContext *ctx, const RouteMatch *m, ApiResponse *r) {
        cJSON *j;
        int e = store_provider_delete(ctx->store, m->name);

        if (e == -EBUSY)
                return api_error(r, 409, "provider_in_use", "A sandbox still uses this provider; delete it first");
        if (e < 0)
                return api_errno(r, e, "bad_request", NULL);
        j = cJSON_CreateObject();
        if (j && !cJSON_AddStringToObject(j, "deleted", m->name))
                j = (cJSON_Delete(j), NULL);
        return api_ok(r, 200, j);
}

static int dispatch(const ApiContext *ctx, const ApiRequest *req, const RouteMatch *m, ApiResponse *r) {
        cJSON *j = NULL;

        switch (m->route) {
        case ROUTE_HEALTH:
                return handle_health(ctx, req, r);
        case ROUTE_SANDBOX_LIST:
                return handle_sandbox_list(ctx, r);
        case ROUTE_SANDBOX_CREATE:
                return handle_sandbox_create(ctx, req, r);
        case ROUTE_SANDBOX_GET:
                return handle_sandbox_get(ctx, m, r);
        case ROUTE_SANDBOX_DELETE:
                return handle_sandbox_delete(ctx, m, r);
        case ROUTE_SANDBOX_START:
                return handle_sandbox_start_stop(ctx, m, true, r);
        case ROUTE_SANDBOX_STOP:
                return handle_sandbox_start_stop(ctx, m, false, r);
        case ROUTE_SANDBOX_LOGS:
                return handle_sandbox_logs(ctx, m, r);
        case ROUTE_POLICY_GET:
                return handle_policy_get(ctx, m, r);
        case ROUTE_POLICY_SET:
                return handle_policy_set(ctx, req, m, r);
        case ROUTE_CREDENTIALS_GET: {
                int e = store_sandbox_credentials(ctx->store, m->name, &j);
                return wrap(r, 200, "credentials", j, e);
        }
        case ROUTE_INFERENCE_GET: {
                /* The sandbox itself (its proxy) gets the provider's secret; administrators never do. */
                int e = req->identity && req->identity->kind == IDENTITY_SANDBOX
                                ? store_inference_for_sandbox(ctx->store, m->name, &j)
                                : store_inference_get(ctx->store, m->name, &j);
                if (e == -ENOENT && store_sandbox_get(ctx->store, m->name, &j) >= 0) {
                        cJSON_Delete(j);
                        return api_error(r, 404, "not_found", "No inference route is set for this sandbox");
                }
                return e < 0 ? api_errno(r, e, "bad_request", NULL) : api_ok(r, 200, j);
        }
        case ROUTE_INFERENCE_SET:
                return handle_inference_set(ctx, req, m, r);
        case ROUTE_PROVIDER_LIST: {
                int e = store_provider_list(ctx->store, &j);
                return wrap(r, 200, "providers", j, e);
        }
        case ROUTE_PROVIDER_CREATE:
                return handle_provider_create(ctx, req, r);
        case ROUTE_PROVIDER_GET: {
                int e = store_provider_get(ctx->store, m->name, &j);
                return e < 0 ? api_errno(r, e, "bad_request", NULL) : api_ok(r, 200, j);
        }
        case ROUTE_PROVIDER_DELETE:
                return handle_provider_delete(ctx, m, r);
        case ROUTE_SANDBOX_SESSION:
        case ROUTE_SANDBOX_EXEC:
                return api_error(r, 426, "upgrade_required", "Send Connection: Upgrade and Upgrade: openshell-relay/1");
        case _ROUTE_MAX:
        case _ROUTE_INVALID:
        default:
                return api_error(r, 404, "not_found", "No such route");
        }
}

int api_handle(const ApiContext *ctx, const ApiRequest *req, ApiResponse *ret) {
        RouteMatch m;
        int e;

        *ret = (ApiResponse) {};
        e = gateway_route_match(req->method, req->target, &m);
        if (e == -ENOENT)
                return api_error(ret, 404, "not_found", "No such API path");
        if (e == -EOPNOTSUPP)
                return api_error(ret, 405, "method_not_allowed", "Method not allowed on this path");
        if (e < 0)
                return api_error(ret, 400, "invalid_name", "The name in the path is not a valid name");
        if (!req->identity)
                return api_error(ret, 403, "unknown_identity",
                                 "The client certificate names no known identity (openshell-admin, sandbox:NAME or agent:NAME)");
        if (gateway_authorize(req->identity, req->role, &m) < 0)
                return api_error(ret, 403, "forbidden",
                                 req->role == LISTEN_ROLE_CALLBACK ? "Not available on the sandbox-facing listener, or not for this identity"
                                                                   : "This identity may not call this route");
        return dispatch(ctx, req, &m, ret);
}
