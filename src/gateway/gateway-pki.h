/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The gateway's PKI, all in OpenSSL (x509-util.h): a CA, the server certificate, the CLI's client
 * certificate, and one client certificate per sandbox.
 *
 * Identity lives in the subject CN of client certificates (docs/api.md):
 *   CN=openshell-admin   the CLI: administers everything
 *   CN=sandbox:NAME      sandbox NAME's proxy: only its own record, policy, credentials, inference route
 *   CN=agent:NAME        sandbox NAME's supervisor (in the agent): only its own relay session. A separate
 *                        certificate because whatever runs in the agent can read it: it must not fetch
 *                        the credentials the proxy swaps in.
 * The CN is only trusted after the chain verified against our CA with the TLS client usage
 * (tls-server.h), so a server certificate or a certificate from another CA never yields an identity.
 *
 * Layout of a TLS directory (keys 0600, directory 0700):
 *   ca.crt ca.key server.crt server.key client.crt client.key
 * Sandbox material (handed to the sandbox through its spec's "tls" mounts):
 *   DIR/ca.crt DIR/tls.crt DIR/tls.key        the proxy's (CN=sandbox:NAME)
 *   DIR/agent.crt DIR/agent.key               the agent's supervisor's (CN=agent:NAME) */

#include <stdbool.h>

#include "macro.h"
#include "sandbox-spec.h" /* sandbox_name_is_valid() */

#define PKI_CA_COMMON_NAME "openshell CA"
#define PKI_SERVER_COMMON_NAME "openshell-gateway"
#define PKI_ADMIN_COMMON_NAME "openshell-admin"
#define PKI_SANDBOX_CN_PREFIX "sandbox:"
#define PKI_AGENT_CN_PREFIX "agent:"
#define PKI_CA_VALIDITY_DAYS 3650U
#define PKI_LEAF_VALIDITY_DAYS 825U
/* Leaf certificates that expire sooner than this are reissued by pki_ensure(). */
#define PKI_RENEW_BEFORE_DAYS 30U
/* Upper bound for --server-san options. */
#define PKI_EXTRA_SANS_MAX 32U

/* The server certificate's fixed SANs. */
#define PKI_SERVER_DNS_SANS "host.openshell.internal", "host.containers.internal", "localhost"
#define PKI_SERVER_IP_SANS "127.0.0.1"

/* What pki_ensure() did, for the caller's message. */
typedef struct PkiReport {
        bool ca_created;
        bool server_issued;
        bool client_issued;
} PkiReport;

/* Creates whatever is missing in dir: the CA; a server certificate with the fixed SANs plus extra_sans
 * (DNS names or IP literals); the CLI client certificate. Valid existing material is kept; a leaf that is
 * missing, unreadable, expiring, not from this CA or lacking a requested SAN is reissued. A CA that is
 * present but unusable is an error (-EINVAL), never silently replaced: every issued certificate hangs on it.
 * Returns 0 or negative errno. */
int pki_ensure(const char *dir, char *const *extra_sans, PkiReport *ret_report);

/* Issues the two client certificates of sandbox 'name' into out_dir (created 0700): ca.crt, tls.crt and
 * tls.key (CN=sandbox:NAME, the proxy's), agent.crt and agent.key (CN=agent:NAME, the supervisor's); keys
 * 0600, both leaves with the same usage and validity. Returns -EINVAL for a name that is not a DNS label. */
int pki_issue_sandbox_cert(const char *tls_dir, const char *name, const char *out_dir);
