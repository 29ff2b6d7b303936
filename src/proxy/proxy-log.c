/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdio.h>

#include "alloc-util.h"
#include "log.h"
#include "proxy-log.h"
#include "string-util.h"

/* Longest value we log; longer ones are cut (paths can be long). */
#define PROXY_LOG_VALUE_MAX 512U

static void put_value(FILE *f, const char *key, const char *v) {
        bool quote;
        size_t n = 0;

        if (!v)
                return;
        quote = *v == 0 || strpbrk(v, " \"=\\") != NULL;
        fprintf(f, " %s=", key);
        if (quote)
                fputc('"', f);
        for (const char *p = v; *p && n < PROXY_LOG_VALUE_MAX; p++, n++) {
                unsigned char c = (unsigned char) *p;
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20 || c == 0x7f)
                        fprintf(f, "\\x%02x", c);
                else
                        fputc(c, f);
        }
        if (quote)
                fputc('"', f);
}

int proxy_log_format(const ProxyLogEntry *e, char **ret) {
        _cleanup_free_ char *buf = NULL, *path = NULL;
        size_t size = 0;
        FILE *f;

        if (e->path) {
                path = strndup_safe(e->path, strcspn(e->path, "?#"));
                if (!path)
                        return -ENOMEM;
        }
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "decision=%s", !e->allowed ? "denied" : e->audit ? "audit" : "allowed");
        put_value(f, "layer", policy_layer_to_string(e->layer));
        put_value(f, "sandbox", e->sandbox);
        put_value(f, "client", e->client);
        put_value(f, "method", e->method);
        put_value(f, "host", e->host);
        fprintf(f, " port=%u", e->port);
        put_value(f, "path", path);
        put_value(f, "policy", e->policy ?: "-");
        put_value(f, "rule", isempty(e->rule) ? "-" : e->rule);
        put_value(f, "reason", e->reason);
        if (e->status > 0)
                fprintf(f, " status=%u", e->status);
        fprintf(f, " bytes_up=%" PRIu64 " bytes_down=%" PRIu64 " duration_ms=%" PRIu64, e->bytes_up, e->bytes_down,
                (uint64_t) (e->duration / USEC_PER_MSEC));
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

void proxy_log_decision(const ProxyLogEntry *e) {
        _cleanup_free_ char *line = NULL;

        if (proxy_log_format(e, &line) < 0) {
                log_oom();
                return;
        }
        if (e->allowed)
                log_info("%s", line);
        else
                log_notice("%s", line);
}
