/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* OpenSSL 3 X.509 helpers: ECDSA P-256 keys, a self-signed CA, certificates signed by a CA (server,
 * client or both), PEM I/O. Shared by the proxy's MITM CA and the gateway's PKI.
 *
 * Errors are negative errno: -ENOMEM (allocation), -EINVAL (bad input, bad PEM, key mismatch), -EIO
 * (any other OpenSSL failure). The OpenSSL reason is logged at debug level; callers log once. */

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <time.h>

#include "macro.h"

/* Upper bound for a PEM file we load (a CA bundle is ~200 KiB). */
#define X509_PEM_MAX_BYTES (4U * 1024U * 1024U)
/* Longest validity we issue: ~100 years. */
#define X509_VALIDITY_DAYS_MAX 36500U

typedef enum X509Usage {
        X509_USAGE_SERVER,
        X509_USAGE_CLIENT,
        X509_USAGE_BOTH,
        _X509_USAGE_MAX,
        _X509_USAGE_INVALID = -EINVAL,
} X509Usage;

DECLARE_STRING_TABLE_LOOKUP(x509_usage, X509Usage);

typedef struct X509CertOptions {
        const char *common_name;     /* required, printable, <= 64 bytes */
        char *const *dns_names;      /* NULL-terminated, may be NULL */
        char *const *ip_addresses;   /* NULL-terminated IPv4/IPv6 literals, may be NULL */
        X509Usage usage;
        unsigned validity_days;      /* 1..X509_VALIDITY_DAYS_MAX */
} X509CertOptions;

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(EVP_PKEY *, EVP_PKEY_free, EVP_PKEY_freep);
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(X509 *, X509_free, X509_freep);
#define _cleanup_pkey_ _cleanup_(EVP_PKEY_freep)
#define _cleanup_x509_ _cleanup_(X509_freep)

/* Maps the queued OpenSSL error to a negative errno (logging its reason at debug) and clears the queue. */
int x509_openssl_error(int fallback);

int x509_generate_key(EVP_PKEY **ret);

/* A self-signed CA: basicConstraints CA:TRUE (critical), keyUsage keyCertSign+cRLSign (critical), SKI. */
int x509_make_ca(EVP_PKEY *key, const char *common_name, unsigned validity_days, X509 **ret);

/* A leaf certificate for 'key' signed by ca_cert/ca_key: CA:FALSE, digitalSignature, extendedKeyUsage from
 * opts->usage, SANs, SKI and AKI. */
int x509_make_cert(const X509CertOptions *opts, EVP_PKEY *key, X509 *ca_cert, EVP_PKEY *ca_key, X509 **ret);

int x509_cert_to_pem(X509 *cert, char **ret, size_t *ret_size);
int x509_key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_size);
int x509_cert_from_pem(const char *pem, size_t size, X509 **ret);
int x509_key_from_pem(const char *pem, size_t size, EVP_PKEY **ret);

/* Atomic writes: certificates 0644, keys 0600. */
int x509_write_cert(const char *path, X509 *cert);
int x509_write_key(const char *path, EVP_PKEY *key);
int x509_load_cert(const char *path, X509 **ret);
int x509_load_key(const char *path, EVP_PKEY **ret);

/* "AB:CD:..." SHA-256 fingerprint of the DER certificate. */
int x509_fingerprint_sha256(X509 *cert, char **ret);

/* 0 if the certificate's public key belongs to key, -EINVAL if not. */
int x509_cert_matches_key(X509 *cert, EVP_PKEY *key);

/* 0 if now lies within notBefore..notAfter, -ESTALE if expired or not yet valid. */
int x509_cert_check_time(X509 *cert, time_t now);

/* True for a CA certificate (basicConstraints CA:TRUE). */
bool x509_cert_is_ca(X509 *cert);
