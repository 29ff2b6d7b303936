/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the gateway's API handlers (gateway-api.c: routing, authorization, request bodies for
 * sandbox create, policy PUT, provider create, inference set, ...) over a real store and PKI in a temporary
 * directory and a fake systemd, as test-gateway-api.c uses them. The input is one request:
 *
 *   METHOD TARGET [COMMON-NAME [callback]]\n
 *   BODY
 *
 * (COMMON-NAME defaults to openshell-admin; "callback" puts the request on the sandbox-facing listener).
 * The store holds a sandbox "fuzz" using provider "fuzzprov", whose secret must never reach an
 * administrator. Invariants: every request gets a JSON answer with a sane status, an error has a code and a
 * message, a failed request leaves the set of sandboxes and providers as it was (a create that fails half
 * way is rolled back), and a spec the API installs always renders to Quadlet units. After a request that
 * changed something the store is reset, so every input runs against the same state.
 * FUZZ_VERBOSE=1 prints each request's answer (for writing seeds).
 * Built with -fsanitize=fuzzer when -Dfuzz=true (clang); otherwise main() replays the corpus. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "alloc-util.h"
#include "gateway-api.h"
#include "gateway-pki.h"
#include "json-util.h"
#include "log.h"
#include "quadlet-render.h"
#include "string-util.h"

#define FUZZ_SECRET "fuzz-secret-c2VjcmV0"
#define FIXTURE_PROVIDER \
        "{\"name\":\"fuzzprov\",\"type\":\"openai\"," \
        "\"credentials\":{\"OPENAI_API_KEY\":\"" FUZZ_SECRET "\"}}"
#define FIXTURE_SANDBOX \
        "{\"spec\":{\"name\":\"fuzz\",\"image\":\"localhost/agent:latest\"}," \
        "\"providers\":[\"fuzzprov\"],\"policy\":{\"version\":1}}"

static char *dir;
static Store *store;
static ApiContext ctx;

/* systemd as a fake: a spec the API hands over must render; names starting "fail" make the install fail, so
 * that the rollback of a half-made sandbox runs too. */
static int fake_install(void *ud, SandboxSpec *spec, bool start, char **ret_error) {
        RenderOptions opts = { .spec_path = "/fuzz.json" };
        QuadletFiles f = {};
        bool fail = startswith(spec->name, "fail");

        spec->has_subnet = true; /* what the real install allocates */
        if (quadlet_render(spec, &opts, &f) < 0)
                abort();
        quadlet_files_done(&f);
        sandbox_spec_free(spec);
        if (fail) {
                *ret_error = strdup("fuzz: install refused");
                return -EIO;
        }
        return 0;
}
static int fake_ok(void *ud, const char *name, char **ret_error) {
        return 0;
}
static int fake_state(void *ud, const char *name, char **ret) {
        *ret = strdup("active");
        return *ret ? 0 : -ENOMEM;
}
static int fake_logs(void *ud, const char *name, unsigned lines, cJSON **ret) {
        *ret = cJSON_CreateArray();
        return *ret ? 0 : -ENOMEM;
}
static const SandboxOps fake_ops = { fake_install, fake_ok, fake_ok, fake_ok, fake_state, fake_logs };

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void cleanup_dir(void) {
        if (dir)
                (void) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        store = store_free(store);
        dir = mfree(dir);
}

static unsigned request(const char *method, const char *target, const char *body) {
        static const Identity admin = { .kind = IDENTITY_ADMIN };
        ApiRequest req = { method, target, body, strlen(body), &admin, LISTEN_ROLE_API };
        ApiResponse r;
        unsigned status;

        if (api_handle(&ctx, &req, &r) < 0)
                abort();
        status = r.status;
        api_response_done(&r);
        return status;
}

/* Everything but the fixture goes; a missing fixture comes back. */
static void reset_store(void) {
        _cleanup_json_ cJSON *sandboxes = NULL, *providers = NULL;
        const cJSON *it;

        if (store_sandbox_list(store, &sandboxes) < 0)
                abort();
        cJSON_ArrayForEach(it, sandboxes)
                if (store_sandbox_delete(store, cJSON_GetStringValue(cJSON_GetObjectItem(it, "name"))) < 0)
                        abort();
        if (store_provider_list(store, &providers) < 0)
                abort();
        cJSON_ArrayForEach(it, providers)
                if (store_provider_delete(store, cJSON_GetStringValue(cJSON_GetObjectItem(it, "name"))) < 0)
                        abort();
        if (request("POST", "/v1/providers", FIXTURE_PROVIDER) != 201 ||
            request("POST", "/v1/sandboxes", FIXTURE_SANDBOX) != 201)
                abort();
}

static void setup(void) {
        const char *tmp = getenv("TMPDIR");
        _cleanup_free_ char *t = NULL, *tls = NULL, *state = NULL;

        if (store)
                return;
        log_set_max_level(LOG_CRIT);
        t = strjoin(isempty(tmp) ? "/tmp" : tmp, "/fuzz-gateway-api-XXXXXX");
        if (!t || !mkdtemp(t))
                abort();
        dir = TAKE_PTR(t);
        atexit(cleanup_dir);
        tls = strjoin(dir, "/tls");
        state = strjoin(dir, "/state");
        if (!tls || !state || pki_ensure(tls, NULL, NULL) < 0 || store_open(state, &store) < 0)
                abort();
        ctx = (ApiContext) {
                .store = store,
                .ops = &fake_ops,
                .tls_dir = TAKE_PTR(tls), /* for the life of the process */
                .callback_url = "https://10.214.0.1:17671",
                .watch_timeout_default = 30 * USEC_PER_SEC,
                .watch_timeout_max = 60 * USEC_PER_SEC,
        };
        reset_store();
}

/* "name,name,...;name,..." of the sandboxes and providers. */
static char *store_names(void) {
        _cleanup_json_ cJSON *sandboxes = NULL, *providers = NULL;
        _cleanup_free_ char *s = strdup("");
        const cJSON *it;

        if (!s || store_sandbox_list(store, &sandboxes) < 0 || store_provider_list(store, &providers) < 0)
                abort();
        cJSON_ArrayForEach(it, sandboxes) {
                char *n = strjoin(s, cJSON_GetStringValue(cJSON_GetObjectItem(it, "name")) ?: "?", ",");
                if (!n)
                        abort();
                free_and_replace(s, n);
        }
        cJSON_ArrayForEach(it, providers) {
                char *n = strjoin(s, ";", cJSON_GetStringValue(cJSON_GetObjectItem(it, "name")) ?: "?");
                if (!n)
                        abort();
                free_and_replace(s, n);
        }
        return TAKE_PTR(s);
}

static void check_response(const ApiRequest *req, const ApiResponse *r) {
        _cleanup_free_ char *text = NULL;

        if (r->watch) {
                if (r->json || r->watch_timeout == 0 || r->watch_timeout > ctx.watch_timeout_max ||
                    !sandbox_name_is_valid(r->watch_name))
                        abort();
                return;
        }
        if (!r->json || r->status < 200 || r->status > 599)
                abort();
        if (r->status >= 400 && (!cJSON_IsString(cJSON_GetObjectItem(r->json, "error")) ||
                                 !cJSON_IsString(cJSON_GetObjectItem(r->json, "message"))))
                abort();
        text = json_print(r->json, false);
        if (!text)
                abort();
        /* Secret values go to the owning sandbox only (unless the caller sent the value itself). */
        if (req->identity && req->identity->kind == IDENTITY_ADMIN && strstr(text, FUZZ_SECRET) &&
            !memmem(req->body, req->body_size, FUZZ_SECRET, strlen(FUZZ_SECRET)))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL, *before = NULL, *after = NULL;
        const char *nl, *tok[4] = {};
        ApiRequest req = { .role = LISTEN_ROLE_API };
        ApiResponse r;
        Identity id;
        size_t n = 0;

        setup();
        nl = memchr(data, '\n', size);
        if (!nl)
                return 0;
        text = strndup_safe((const char *) data, (size_t) (nl - (const char *) data));
        if (!text || strlen(text) != (size_t) (nl - (const char *) data))
                return 0; /* a NUL in the request line: the HTTP parser never passes one on */
        for (char *p = text, *sp; p && n < ELEMENTSOF(tok); p = sp) {
                sp = strchr(p, ' ');
                if (sp)
                        *sp++ = 0;
                tok[n++] = p;
        }
        if (n < 2)
                return 0;
        req.method = tok[0];
        req.target = tok[1];
        req.body = nl + 1;
        req.body_size = size - (size_t) (nl + 1 - (const char *) data);
        if (identity_from_common_name(tok[2] ?: PKI_ADMIN_COMMON_NAME, &id) >= 0)
                req.identity = &id;
        if (streq_ptr(tok[3], "callback"))
                req.role = LISTEN_ROLE_CALLBACK;

        before = store_names();
        if (api_handle(&ctx, &req, &r) < 0)
                abort(); /* only for OOM, which fuzzing excludes */
        check_response(&req, &r);
        if (getenv("FUZZ_VERBOSE")) {
                _cleanup_free_ char *out = r.json ? json_print(r.json, false) : NULL;
                fprintf(stderr, "%s %s -> %u %s\n", req.method, req.target, r.watch ? 0 : r.status,
                        strna(out));
        }
        after = store_names();
        if (!r.watch && r.status >= 400 && !streq(before, after))
                abort(); /* a failed request left something behind (or took something away) */
        if (!r.watch && r.status < 300 && !streq(req.method, "GET"))
                reset_store();
        api_response_done(&r);
        return 0;
}
