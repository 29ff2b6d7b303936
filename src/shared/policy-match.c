/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#include "alloc-util.h"
#include "parse-util.h"
#include "policy.h"
#include "string-util.h"

#define HOST_MAX 253U

bool policy_host_match(const char *pattern, const char *host) {
        const char *suffix;
        size_t hl = strlen(host), sl;

        if ((suffix = startswith(pattern, "**."))) {
                sl = strlen(suffix);
                /* At least one label in front of ".suffix". */
                return hl > sl + 1 && host[hl - sl - 1] == '.' && strcasecmp(host + hl - sl, suffix) == 0;
        }
        if ((suffix = startswith(pattern, "*."))) {
                sl = strlen(suffix);
                return hl > sl + 1 && host[hl - sl - 1] == '.' && strcasecmp(host + hl - sl, suffix) == 0 &&
                       memchr(host, '.', hl - sl - 1) == NULL;
        }
        return strcasecmp(pattern, host) == 0;
}

/* '*' matches any run of characters within [s, s_end), never crossing 'stop' (0 = nothing stops it).
 * Greedy with a single backtrack point: linear in practice, never exponential. */
static bool wildcard_match(const char *p, const char *p_end, const char *s, const char *s_end, char stop) {
        const char *star = NULL, *star_s = NULL;

        while (s < s_end) {
                if (p < p_end && *p == '*') {
                        while (p < p_end && *p == '*')
                                p++;
                        star = p;
                        star_s = s;
                } else if (p < p_end && *p == *s) {
                        p++;
                        s++;
                } else if (star && (stop == 0 || *star_s != stop)) {
                        p = star;
                        s = ++star_s;
                } else
                        return false;
        }
        while (p < p_end && *p == '*')
                p++;
        return p == p_end;
}

static const char *seg_end(const char *s) {
        return strchrnul(s, '/');
}

/* Path globs work on '/'-separated segments: a "**" segment matches zero or more whole segments, other
 * segments match exactly one segment with '*' inside it. Backtracks only to the last "**". */
bool policy_glob_match(const char *pattern, const char *s) {
        const char *p = pattern, *star_p = NULL, *star_s = NULL;

        if (streq(pattern, "**"))
                return true;
        for (;;) {
                const char *pe = seg_end(p), *se = seg_end(s);

                if (pe - p == 2 && p[0] == '*' && p[1] == '*') {
                        if (*pe == 0)
                                return true; /* trailing "**" takes the rest */
                        star_p = pe + 1;
                        star_s = s;
                        p = star_p;
                        continue;
                }
                /* A trailing double-star segment also matches the bare prefix ("/a" for "/a/" + "**"). */
                if (*se == 0 && *pe == '/' && streq(pe + 1, "**") && wildcard_match(p, pe, s, se, '/'))
                        return true;
                if (wildcard_match(p, pe, s, se, '/') && ((*pe == 0) == (*se == 0))) {
                        if (*pe == 0)
                                return true;
                        p = pe + 1;
                        s = se + 1;
                        continue;
                }
                if (!star_p || *seg_end(star_s) == 0)
                        return false;
                /* Let the last "**" swallow one more segment and retry. */
                star_s = seg_end(star_s) + 1;
                p = star_p;
                s = star_s;
        }
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) tolower((unsigned char) c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* Percent-decodes [s, e) into a new string ('+' is a space in query strings). NULL on bad encoding/NUL. */
static char *query_decode(const char *s, const char *e) {
        char *out = new(char, (size_t) (e - s) + 1), *o = out;

        if (!out)
                return NULL;
        for (; s < e; s++) {
                if (*s == '%') {
                        int hi = e - s >= 3 ? unhex(s[1]) : -1, lo = e - s >= 3 ? unhex(s[2]) : -1;

                        if (hi < 0 || lo < 0 || hi + lo == 0)
                                return mfree(out);
                        *o++ = (char) (hi * 16 + lo);
                        s += 2;
                } else
                        *o++ = *s == '+' ? ' ' : *s;
        }
        *o = 0;
        return out;
}

static bool query_matches(const PolicyQueryMatch *q, const char *query) {
        for (const char *p = query; p && *p;) {
                const char *amp = strchrnul(p, '&'), *eq = memchr(p, '=', (size_t) (amp - p));
                _cleanup_free_ char *k = query_decode(p, eq ?: amp);
                _cleanup_free_ char *v = eq ? query_decode(eq + 1, amp) : strdup("");

                if (k && v && streq(k, q->key) && wildcard_match(q->glob, q->glob + strlen(q->glob), v, v + strlen(v), 0))
                        return true;
                p = *amp ? amp + 1 : amp;
        }
        return false;
}

static bool rule_matches(const PolicyHttpRule *r, const PolicyRequest *req) {
        if (r->methods && !strv_contains(r->methods, "*") && !strv_contains(r->methods, req->method))
                return false;
        if (r->path && !policy_glob_match(r->path, req->path))
                return false;
        for (size_t i = 0; i < r->n_query; i++)
                if (!query_matches(&r->query[i], req->query))
                        return false;
        return true;
}

static bool access_allows(PolicyAccess a, const char *method) {
        switch (a) {
        case POLICY_ACCESS_FULL:
                return true;
        case POLICY_ACCESS_READ_WRITE:
                if (IN_SET(0, strcmp(method, "POST"), strcmp(method, "PUT"), strcmp(method, "PATCH")))
                        return true;
                _fallthrough_;
        case POLICY_ACCESS_READ_ONLY:
                return IN_SET(0, strcmp(method, "GET"), strcmp(method, "HEAD"), strcmp(method, "OPTIONS"));
        case POLICY_ACCESS_NONE:
        case _POLICY_ACCESS_MAX:
        case _POLICY_ACCESS_INVALID:
                break;
        }
        return false;
}

/* Paths that different servers could read differently are refused outright (RFC 3986 6.2.2). */
static bool path_is_canonical(const char *path) {
        if (path[0] != '/' || strchr(path, '\\') || strcasestr(path, "%2f") || strcasestr(path, "%2e") ||
            strcasestr(path, "%5c") || strstr(path, "//"))
                return false;
        for (const char *p = path; (p = strchr(p, '/')); p++)
                if (streq(p + 1, ".") || streq(p + 1, "..") || startswith(p + 1, "./") || startswith(p + 1, "../"))
                        return false;
        return true;
}

static bool port_listed(const PolicyEndpoint *e, uint16_t port) {
        for (size_t i = 0; i < e->n_ports; i++)
                if (e->ports[i] == port)
                        return true;
        return false;
}

typedef enum Verdict {
        VERDICT_NONE,
        VERDICT_ALLOW,
        VERDICT_DENY,
} Verdict;

/* The L7 verdict of one endpoint for an HTTP request, with the rule that decided it. */
static Verdict endpoint_verdict(const PolicyEndpoint *e, const PolicyRequest *req, char *rule, size_t rule_size,
                                const char **reason) {
        for (size_t i = 0; i < e->n_deny_rules; i++)
                if (rule_matches(&e->deny_rules[i], req)) {
                        snprintf(rule, rule_size, "deny_rules[%zu]", i);
                        *reason = "deny rule matched";
                        return VERDICT_DENY;
                }
        if (e->protocol == POLICY_PROTOCOL_L4) {
                snprintf(rule, rule_size, "host");
                *reason = "endpoint allowed at L4";
                return VERDICT_ALLOW;
        }
        if (e->access != POLICY_ACCESS_NONE) {
                snprintf(rule, rule_size, "access:%s", policy_access_to_string(e->access));
                *reason = access_allows(e->access, req->method) ? "allowed by access preset"
                                                                : "method not allowed by access preset";
                return access_allows(e->access, req->method) ? VERDICT_ALLOW : VERDICT_DENY;
        }
        for (size_t i = 0; i < e->n_rules; i++)
                if (rule_matches(&e->rules[i], req)) {
                        snprintf(rule, rule_size, "rules[%zu]", i);
                        *reason = "allowed by rule";
                        return VERDICT_ALLOW;
                }
        snprintf(rule, rule_size, "rules");
        *reason = "no rule allows this request";
        return VERDICT_DENY;
}

static void decide(PolicyDecision *d, const PolicyEntry *en, size_t idx, const PolicyEndpoint *e, Verdict v,
                   const char *rule, const char *reason) {
        d->entry = en;
        d->endpoint = e;
        d->allowed = v == VERDICT_ALLOW || e->enforcement == POLICY_ENFORCEMENT_AUDIT;
        d->audit = v == VERDICT_DENY && e->enforcement == POLICY_ENFORCEMENT_AUDIT;
        snprintf(d->rule, sizeof(d->rule), "endpoints[%zu]%s%s", idx, isempty(rule) ? "" : ".", rule);
        d->reason = reason;
}

static int decision_rank(const PolicyDecision *d) {
        return !d->allowed ? 3 : !d->audit ? 2 : 1;
}

static bool method_token_ok(const char *m) {
        size_t n = strlen(m);

        return n > 0 && n <= 32 && strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") == n;
}

static int normalize_host(const char *host, char *buf, size_t size) {
        size_t n;

        if (isempty(host))
                return -EINVAL;
        if (host[0] == '[') {
                host++;
                n = strcspn(host, "]");
        } else
                n = strlen(host);
        while (n > 0 && host[n - 1] == '.')
                n--;
        if (n == 0 || n >= size || n > HOST_MAX)
                return -EINVAL;
        memcpy(buf, host, n);
        buf[n] = 0;
        if (string_has_cc(buf, NULL) || strpbrk(buf, " /@?#*"))
                return -EINVAL;
        ascii_strlower(buf);
        return 0;
}

int policy_check(const Policy *p, const PolicyRequest *req, PolicyDecision *ret) {
        PolicyDecision best = { .layer = req->method ? POLICY_LAYER_L7 : POLICY_LAYER_L4,
                                .reason = "no policy allows this destination" };
        char host[HOST_MAX + 1], rule[64];
        bool matched = false;
        int r;

        r = normalize_host(req->host, host, sizeof(host));
        if (r < 0 || req->port == 0 || (req->method && (!req->path || !method_token_ok(req->method))))
                return -EINVAL;
        if (req->method && !path_is_canonical(req->path)) {
                best.reason = "non-canonical request path";
                *ret = best;
                return 0;
        }
        for (size_t i = 0; p && i < p->n_entries; i++)
                for (size_t j = 0; j < p->entries[i].n_endpoints; j++) {
                        const PolicyEndpoint *e = &p->entries[i].endpoints[j];
                        PolicyDecision d = { .layer = best.layer };
                        const char *reason = "allowed at L4";
                        Verdict v = VERDICT_ALLOW;

                        if (!port_listed(e, req->port) || !policy_host_match(e->host, host))
                                continue;
                        rule[0] = 0;
                        if (req->method)
                                v = endpoint_verdict(e, req, rule, sizeof(rule), &reason);
                        decide(&d, &p->entries[i], j, e, v, rule, reason);
                        /* Precedence: an enforced denial, then an allow, then an audited denial; among equals
                         * the first in file order. */
                        if (!matched || decision_rank(&d) > decision_rank(&best))
                                best = d;
                        matched = true;
                }
        if (!matched)
                best.layer = POLICY_LAYER_L4;
        *ret = best;
        return 0;
}

int policy_cidr_parse(const char *s, PolicyCidr *ret) {
        char buf[INET6_ADDRSTRLEN + 8];
        const char *slash;
        unsigned prefix, max;
        PolicyCidr c = {};

        if (isempty(s) || strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        slash = strchr(buf, '/');
        if (slash)
                buf[slash - buf] = 0;
        if (inet_pton(AF_INET, buf, c.addr) == 1)
                c.family = AF_INET;
        else if (inet_pton(AF_INET6, buf, c.addr) == 1)
                c.family = AF_INET6;
        else
                return -EINVAL;
        max = c.family == AF_INET ? 32 : 128;
        prefix = max;
        if (slash && (safe_atou(slash + 1, &prefix) < 0 || prefix > max))
                return -EINVAL;
        c.prefixlen = prefix;
        *ret = c;
        return 0;
}

/* The address as (family, bytes); IPv4-mapped IPv6 addresses count as IPv4. */
static int sockaddr_bytes(const struct sockaddr *sa, const uint8_t **ret) {
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

        if (sa->sa_family == AF_INET) {
                *ret = (const uint8_t *) &((const struct sockaddr_in *) sa)->sin_addr;
                return AF_INET;
        }
        if (sa->sa_family == AF_INET6) {
                const uint8_t *b = ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
                if (memcmp(b, mapped, sizeof(mapped)) == 0) {
                        *ret = b + 12;
                        return AF_INET;
                }
                *ret = b;
                return AF_INET6;
        }
        return -EAFNOSUPPORT;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits) {
        unsigned bytes = bits / 8, rem = bits % 8;

        if (memcmp(a, b, bytes) != 0)
                return false;
        return rem == 0 || ((a[bytes] ^ b[bytes]) & (uint8_t) (0xff << (8 - rem))) == 0;
}

bool policy_cidr_contains(const PolicyCidr *c, const struct sockaddr *sa) {
        const uint8_t *b = NULL;
        int family = sockaddr_bytes(sa, &b);

        return family == c->family && prefix_match(c->addr, b, c->prefixlen);
}

bool policy_address_is_internal(const struct sockaddr *sa, const PolicyCidr *own, size_t n_own) {
        static const char *const internal[] = {
                "0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255/32",
                "::/128", "::1/128", "fe80::/10", "ff00::/8", "fd00:ec2::254/128",
        };
        const uint8_t *b = NULL;

        if (sockaddr_bytes(sa, &b) < 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(internal); i++) {
                PolicyCidr c;
                if (policy_cidr_parse(internal[i], &c) >= 0 && policy_cidr_contains(&c, sa))
                        return true;
        }
        for (size_t i = 0; i < n_own; i++)
                if (policy_cidr_contains(&own[i], sa))
                        return true;
        return false;
}

bool policy_endpoint_allows_address(const PolicyEndpoint *e, const struct sockaddr *sa, const PolicyCidr *own,
                                    size_t n_own) {
        for (size_t i = 0; e && i < e->n_allowed_ips; i++)
                if (policy_cidr_contains(&e->allowed_ips[i], sa))
                        return true;
        return !policy_address_is_internal(sa, own, n_own);
}
