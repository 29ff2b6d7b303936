/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: certificates the gateway must reject, which generate-certs never makes.
 *   gateway-test-cert expired CA_DIR OUT_DIR CN   a client certificate from CA_DIR's CA, validity in the past
 *   gateway-test-cert sandbox CA_DIR OUT_DIR NAME the certificates sandbox NAME gets at create time (the
 *                                                 proxy's tls.crt/tls.key, the agent's agent.crt/agent.key) */
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc-util.h"
#include "fileio.h"
#include "gateway-pki.h"
#include "log.h"
#include "string-util.h"
#include "x509-util.h"

static int make_expired(const char *ca_dir, const char *out, const char *cn) {
        _cleanup_free_ char *cap = strjoin(ca_dir, "/ca.crt"), *kp = strjoin(ca_dir, "/ca.key"),
                            *oc = strjoin(out, "/tls.crt"), *ok = strjoin(out, "/tls.key");
        _cleanup_x509_ X509 *ca = NULL, *cert = NULL;
        _cleanup_pkey_ EVP_PKEY *ca_key = NULL, *key = NULL;
        X509CertOptions o = { .common_name = cn, .usage = X509_USAGE_CLIENT, .validity_days = 1 };
        int r;

        if (!cap || !kp || !oc || !ok)
                return -ENOMEM;
        if ((r = x509_load_cert(cap, &ca)) < 0 || (r = x509_load_key(kp, &ca_key)) < 0 ||
            (r = x509_generate_key(&key)) < 0 || (r = x509_make_cert(&o, key, ca, ca_key, &cert)) < 0)
                return r;
        /* Valid from two days ago until yesterday, then signed again by the real CA. */
        if (!X509_gmtime_adj(X509_getm_notBefore(cert), -2 * 86400) ||
            !X509_gmtime_adj(X509_getm_notAfter(cert), -86400) || X509_sign(cert, ca_key, EVP_sha256()) <= 0)
                return -EIO;
        if ((r = mkdir_p(out, 0700)) < 0 || (r = x509_write_key(ok, key)) < 0)
                return r;
        return x509_write_cert(oc, cert);
}

int main(int argc, char *argv[]) {
        int r;

        if (argc != 5) {
                fprintf(stderr, "usage: %s expired|sandbox CA_DIR OUT_DIR CN|NAME\n", argv[0]);
                return EXIT_FAILURE;
        }
        if (streq(argv[1], "expired"))
                r = make_expired(argv[2], argv[3], argv[4]);
        else if (streq(argv[1], "sandbox"))
                r = pki_issue_sandbox_cert(argv[2], argv[4], argv[3]);
        else
                r = -EINVAL;
        if (r < 0) {
                log_error_errno(r, "%s failed: %m", argv[1]);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
