/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "gateway-pki.h"
#include "path-util.h"
#include "sandbox-spec.h"
#include "string-util.h"
#include "x509-util.h"

static bool is_ip_literal(const char *s) {
        unsigned char buf[16];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool san_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 253)
                return false;
        if (is_ip_literal(s))
                return true;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      IN_SET(*p, '-', '.', '*')))
                        return false;
        return true;
}

static int load_pair(const char *dir, const char *cert_name, const char *key_name, X509 **ret_cert,
                     EVP_PKEY **ret_key) {
        _cleanup_free_ char *cp = path_join(dir, cert_name), *kp = path_join(dir, key_name);
        _cleanup_x509_ X509 *cert = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        int r;

        if (!cp || !kp)
                return -ENOMEM;
        r = x509_load_cert(cp, &cert);
        if (r < 0)
                return r;
        r = x509_load_key(kp, &key);
        if (r < 0)
                return r;
        r = x509_cert_matches_key(cert, key);
        if (r < 0)
                return r;
        *ret_cert = TAKE_PTR(cert);
        *ret_key = TAKE_PTR(key);
        return 0;
}

static int write_pair(const char *dir, const char *cert_name, const char *key_name, X509 *cert, EVP_PKEY *key) {
        _cleanup_free_ char *cp = path_join(dir, cert_name), *kp = path_join(dir, key_name);
        int r;

        if (!cp || !kp)
                return -ENOMEM;
        /* Key first: a certificate without its key is useless, the reverse is harmless. */
        r = x509_write_key(kp, key);
        if (r < 0)
                return r;
        return x509_write_cert(cp, cert);
}

static int ensure_ca(const char *dir, X509 **ret_cert, EVP_PKEY **ret_key, bool *ret_created) {
        _cleanup_free_ char *cp = path_join(dir, "ca.crt"), *kp = path_join(dir, "ca.key");
        _cleanup_x509_ X509 *cert = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        int r;

        if (!cp || !kp)
                return -ENOMEM;
        if (access(cp, F_OK) < 0 && errno == ENOENT && access(kp, F_OK) == 0) {
                /* Killed between the key and the certificate (write_pair writes the key first): make the
                 * certificate again from the key, so that anything the key signed stays valid. */
                r = x509_load_key(kp, &key);
                if (r >= 0)
                        r = x509_make_ca(key, PKI_CA_COMMON_NAME, PKI_CA_VALIDITY_DAYS, &cert);
                if (r >= 0)
                        r = x509_write_cert(cp, cert);
                if (r < 0)
                        return r;
                *ret_created = true;
        } else if (access(cp, F_OK) == 0 || access(kp, F_OK) == 0) {
                r = load_pair(dir, "ca.crt", "ca.key", &cert, &key);
                if (r < 0)
                        return r == -ENOENT ? -EINVAL : r;
                if (!x509_cert_is_ca(cert) || x509_cert_check_time(cert, time(NULL)) < 0)
                        return -EINVAL;
                *ret_created = false;
        } else {
                r = x509_generate_key(&key);
                if (r < 0)
                        return r;
                r = x509_make_ca(key, PKI_CA_COMMON_NAME, PKI_CA_VALIDITY_DAYS, &cert);
                if (r < 0)
                        return r;
                r = write_pair(dir, "ca.crt", "ca.key", cert, key);
                if (r < 0)
                        return r;
                *ret_created = true;
        }
        *ret_cert = TAKE_PTR(cert);
        *ret_key = TAKE_PTR(key);
        return 0;
}

static bool cert_has_san(X509 *cert, const char *san) {
        if (is_ip_literal(san))
                return X509_check_ip_asc(cert, san, 0) == 1;
        return X509_check_host(cert, san, strlen(san), X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;
}

/* True if dir/cert_name + key_name is a usable leaf from this CA with every SAN in sans. */
static bool leaf_is_current(const char *dir, const char *cert_name, const char *key_name, X509 *ca_cert,
                            char *const *sans) {
        _cleanup_x509_ X509 *cert = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        time_t renew = time(NULL) + (time_t) PKI_RENEW_BEFORE_DAYS * 24 * 3600;

        if (load_pair(dir, cert_name, key_name, &cert, &key) < 0)
                return false;
        if (x509_cert_check_time(cert, renew) < 0 || X509_check_issued(ca_cert, cert) != X509_V_OK ||
            X509_verify(cert, X509_get0_pubkey(ca_cert)) != 1)
                return false;
        STRV_FOREACH(s, (char **) sans)
                if (!cert_has_san(cert, *s))
                        return false;
        return true;
}

/* Splits SANs into DNS names and IP literals (borrowed pointers). */
static int split_sans(char *const *sans, char ***ret_dns, char ***ret_ips) {
        size_t n = strv_length((char **) sans), nd = 0, ni = 0;
        _cleanup_free_ char **dns = new0(char *, n + 1), **ips = new0(char *, n + 1);

        if (!dns || !ips)
                return -ENOMEM;
        STRV_FOREACH(s, (char **) sans) {
                if (is_ip_literal(*s))
                        ips[ni++] = *s;
                else
                        dns[nd++] = *s;
        }
        *ret_dns = TAKE_PTR(dns);
        *ret_ips = TAKE_PTR(ips);
        return 0;
}

static int issue_leaf(const char *dir, const char *cert_name, const char *key_name, const char *cn,
                      X509Usage usage, char *const *sans, unsigned days, X509 *ca_cert, EVP_PKEY *ca_key) {
        _cleanup_free_ char **dns = NULL, **ips = NULL;
        _cleanup_x509_ X509 *cert = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        int r;

        r = split_sans(sans, &dns, &ips);
        if (r < 0)
                return r;
        r = x509_generate_key(&key);
        if (r < 0)
                return r;
        X509CertOptions opts = {
                .common_name = cn,
                .dns_names = dns,
                .ip_addresses = ips,
                .usage = usage,
                .validity_days = days,
        };
        r = x509_make_cert(&opts, key, ca_cert, ca_key, &cert);
        if (r < 0)
                return r;
        return write_pair(dir, cert_name, key_name, cert, key);
}

static int server_sans(char *const *extra, char ***ret) {
        static const char *const fixed[] = { PKI_SERVER_DNS_SANS, PKI_SERVER_IP_SANS };
        _cleanup_strv_free_ char **l = NULL;
        int r;

        if (strv_length((char **) extra) > PKI_EXTRA_SANS_MAX)
                return -E2BIG;
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                r = strv_extend(&l, fixed[i]);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(s, (char **) extra) {
                if (!san_is_valid(*s))
                        return -EINVAL;
                if (strv_contains(l, *s))
                        continue;
                r = strv_extend(&l, *s);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int pki_ensure(const char *dir, char *const *extra_sans, PkiReport *ret_report) {
        _cleanup_strv_free_ char **sans = NULL;
        _cleanup_x509_ X509 *ca = NULL;
        _cleanup_pkey_ EVP_PKEY *ca_key = NULL;
        PkiReport report = {};
        int r;

        r = server_sans(extra_sans, &sans);
        if (r < 0)
                return r;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        r = ensure_ca(dir, &ca, &ca_key, &report.ca_created);
        if (r < 0)
                return r;
        if (report.ca_created || !leaf_is_current(dir, "server.crt", "server.key", ca, sans)) {
                r = issue_leaf(dir, "server.crt", "server.key", PKI_SERVER_COMMON_NAME, X509_USAGE_SERVER, sans,
                               PKI_LEAF_VALIDITY_DAYS, ca, ca_key);
                if (r < 0)
                        return r;
                report.server_issued = true;
        }
        if (report.ca_created || !leaf_is_current(dir, "client.crt", "client.key", ca, NULL)) {
                r = issue_leaf(dir, "client.crt", "client.key", PKI_ADMIN_COMMON_NAME, X509_USAGE_CLIENT, NULL,
                               PKI_LEAF_VALIDITY_DAYS, ca, ca_key);
                if (r < 0)
                        return r;
                report.client_issued = true;
        }
        if (ret_report)
                *ret_report = report;
        return 0;
}

int pki_issue_sandbox_cert(const char *tls_dir, const char *name, const char *out_dir) {
        _cleanup_free_ char *cn = NULL, *agent_cn = NULL, *ca_path = NULL;
        _cleanup_x509_ X509 *ca = NULL;
        _cleanup_pkey_ EVP_PKEY *ca_key = NULL;
        int r;

        if (!sandbox_name_is_valid(name))
                return -EINVAL;
        cn = strjoin(PKI_SANDBOX_CN_PREFIX, name);
        agent_cn = strjoin(PKI_AGENT_CN_PREFIX, name);
        ca_path = path_join(out_dir, "ca.crt");
        if (!cn || !agent_cn || !ca_path)
                return -ENOMEM;
        r = load_pair(tls_dir, "ca.crt", "ca.key", &ca, &ca_key);
        if (r < 0)
                return r;
        r = mkdir_p(out_dir, 0700);
        if (r < 0)
                return r;
        r = issue_leaf(out_dir, "tls.crt", "tls.key", cn, X509_USAGE_CLIENT, NULL, PKI_LEAF_VALIDITY_DAYS, ca, ca_key);
        if (r < 0)
                return r;
        r = issue_leaf(out_dir, "agent.crt", "agent.key", agent_cn, X509_USAGE_CLIENT, NULL, PKI_LEAF_VALIDITY_DAYS, ca,
                       ca_key);
        if (r < 0)
                return r;
        return x509_write_cert(ca_path, ca);
}
