/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>

#include "dns-async.h"
#include "string-util.h"
#include "tests.h"

/* Only names from /etc/hosts and literals: unit tests never send DNS traffic. */

typedef struct Result {
        int calls;
        int error;
        char first[INET6_ADDRSTRLEN];
        uint16_t port;
        sd_event *event;
        int pending;
} Result;

static void done_cb(DnsQuery *q, int error, const struct addrinfo *ai, void *userdata) {
        Result *res = userdata;

        res->calls++;
        res->error = error;
        if (ai && ai->ai_family == AF_INET) {
                const struct sockaddr_in *sin = (const struct sockaddr_in *) ai->ai_addr;
                inet_ntop(AF_INET, &sin->sin_addr, res->first, sizeof(res->first));
                res->port = ntohs(sin->sin_port);
        } else if (ai && ai->ai_family == AF_INET6) {
                const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ai->ai_addr;
                inet_ntop(AF_INET6, &sin6->sin6_addr, res->first, sizeof(res->first));
                res->port = ntohs(sin6->sin6_port);
        }
        res->pending--;
}

/* Runs until the result arrived; the 30 s bound only guards against a hang, it is not a timing assertion. */
static int run_until(sd_event *e, Result *res) {
        while (res->pending > 0) {
                int r = sd_event_run(e, 30 * 1000000ULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        return -ETIMEDOUT;
        }
        return 0;
}

TEST(resolve_literal_and_hosts) {
        sd_event *e = NULL;
        DnsResolver *r = NULL;
        Result a = {}, b = {};

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(dns_resolver_new(e, &r));
        a.event = b.event = e;
        a.pending = b.pending = 1;
        ASSERT_OK(dns_resolve(r, "127.0.0.1", 8080, done_cb, &a, NULL));
        ASSERT_OK(run_until(e, &a));
        ASSERT_EQ(a.calls, 1);
        ASSERT_EQ(a.error, 0);
        ASSERT_STREQ(a.first, "127.0.0.1");
        ASSERT_EQ(a.port, 8080);
        ASSERT_OK(dns_resolve(r, "localhost", 443, done_cb, &b, NULL));
        ASSERT_OK(run_until(e, &b));
        ASSERT_EQ(b.calls, 1);
        ASSERT_EQ(b.error, 0);
        ASSERT_TRUE(streq(b.first, "127.0.0.1") || streq(b.first, "::1"));
        ASSERT_EQ(b.port, 443);
        dns_resolver_free(r);
        sd_event_unref(e);
}

TEST(cancelled_query_never_calls_back) {
        sd_event *e = NULL;
        DnsResolver *r = NULL;
        DnsQuery *q = NULL;
        Result a = {}, b = {};

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(dns_resolver_new(e, &r));
        a.event = b.event = e;
        a.pending = b.pending = 1;
        ASSERT_OK(dns_resolve(r, "127.0.0.2", 1, done_cb, &a, &q));
        dns_query_cancel(q);
        ASSERT_OK(dns_resolve(r, "::1", 2, done_cb, &b, NULL));
        ASSERT_OK(run_until(e, &b));
        ASSERT_EQ(a.calls, 0);
        ASSERT_EQ(b.calls, 1);
        ASSERT_STREQ(b.first, "::1");
        dns_resolver_free(r);
        sd_event_unref(e);
}

/* Literals are answered without a resolver thread, but never from inside dns_resolve(): the caller may
 * still be setting up the state the callback uses. A resolver freed with a literal pending frees it. */
TEST(literal_answer_is_deferred) {
        sd_event *e = NULL;
        DnsResolver *r = NULL;
        Result a = {};

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(dns_resolver_new(e, &r));
        a.event = e;
        a.pending = 1;
        ASSERT_OK(dns_resolve(r, "192.0.2.7", 3128, done_cb, &a, NULL));
        ASSERT_EQ(a.calls, 0);
        ASSERT_OK(run_until(e, &a));
        ASSERT_EQ(a.calls, 1);
        ASSERT_EQ(a.error, 0);
        ASSERT_STREQ(a.first, "192.0.2.7");
        ASSERT_EQ(a.port, 3128);
        ASSERT_OK(dns_resolve(r, "10.0.0.1", 1, done_cb, &a, NULL));
        dns_resolver_free(r); /* frees the pending literal too (the ASan/valgrind runs check that) */
        ASSERT_EQ(a.calls, 1);
        sd_event_unref(e);
}

TEST(bad_arguments) {
        sd_event *e = NULL;
        DnsResolver *r = NULL;
        Result a = {};

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(dns_resolver_new(e, &r));
        ASSERT_ERROR(dns_resolve(r, "", 1, done_cb, &a, NULL), EINVAL);
        ASSERT_ERROR(dns_resolve(r, "localhost", 1, NULL, &a, NULL), EINVAL);
        ASSERT_EQ(dns_eai_to_errno(EAI_NONAME), -ENOENT);
        ASSERT_EQ(dns_eai_to_errno(EAI_AGAIN), -EAGAIN);
        dns_resolver_free(r);
        sd_event_unref(e);
}

DEFINE_TEST_MAIN();
