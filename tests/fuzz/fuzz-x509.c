/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the PEM loaders of x509-util.c (what the proxy and gateway read from the TLS volume, the
 * state directory and --upstream-ca/--gateway-* files). If the first byte is even the rest is PEM text as
 * it would be read from a file; if odd, the rest is DER that the target wraps in PEM armor (CERTIFICATE,
 * PRIVATE KEY or EC PRIVATE KEY, by that byte), so that the fuzzer mutates the ASN.1 directly. A
 * certificate or key that loads must re-encode and load again as the same object; the helpers that work
 * on a loaded certificate (fingerprint, CA flag, validity, key match) must cope with whatever loaded.
 * Built with -fsanitize=fuzzer when -Dfuzz=true (clang); otherwise main() replays the corpus. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "alloc-util.h"
#include "log.h"
#include "string-util.h"
#include "x509-util.h"

static char *armor(const uint8_t *der, size_t size, unsigned label) {
        static const char *const labels[] = { "CERTIFICATE", "PRIVATE KEY", "EC PRIVATE KEY" };
        const char *l = labels[label % ELEMENTSOF(labels)];
        _cleanup_free_ char *b64 = NULL;
        char *out;
        size_t n = 0;

        b64 = malloc((size / 48 + 1) * 66 + 1);
        if (!b64)
                return NULL;
        /* 48 bytes → one 64-character line, as PEM writers do. */
        for (size_t off = 0; off < size; off += 48) {
                int k = (int) MIN((size_t) 48, size - off);

                n += (size_t) EVP_EncodeBlock((unsigned char *) b64 + n, der + off, k);
                b64[n++] = '\n';
        }
        b64[n] = 0;
        out = asprintf_safe("-----BEGIN %s-----\n%s-----END %s-----\n", l, b64, l);
        return out;
}

static void check_cert(X509 *cert) {
        _cleanup_free_ char *fp = NULL, *fp2 = NULL, *pem = NULL;
        _cleanup_x509_ X509 *again = NULL;
        size_t n;

        (void) x509_cert_is_ca(cert);
        (void) x509_cert_check_time(cert, 0);
        if (x509_fingerprint_sha256(cert, &fp) < 0)
                return;
        if (strlen(fp) != 32 * 3 - 1)
                abort();
        /* i2d re-encodes what d2i decoded; OpenSSL keeps the original encoding, so the bytes are equal. */
        if (x509_cert_to_pem(cert, &pem, &n) < 0)
                return;
        if (x509_cert_from_pem(pem, n, &again) < 0 || x509_fingerprint_sha256(again, &fp2) < 0 ||
            !streq(fp, fp2))
                abort();
}

static void check_key(EVP_PKEY *key, X509 *cert) {
        _cleanup_free_ char *pem = NULL;
        _cleanup_pkey_ EVP_PKEY *again = NULL;
        size_t n;

        if (cert)
                (void) x509_cert_matches_key(cert, key);
        if (x509_key_to_pem(key, &pem, &n) < 0)
                return;
        if (x509_key_from_pem(pem, n, &again) < 0)
                abort(); /* a key we wrote must load again */
        if (EVP_PKEY_eq(key, again) == 0)
                abort(); /* (negative: the type cannot be compared) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;
        _cleanup_x509_ X509 *cert = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;

        log_set_max_level(LOG_CRIT);
        if (size < 1)
                return 0;
        if (data[0] % 2 == 0)
                text = strndup_safe((const char *) data + 1, size - 1);
        else
                text = armor(data + 1, size - 1, data[0] / 2);
        if (!text)
                return 0;

        if (x509_cert_from_pem(text, strlen(text), &cert) >= 0)
                check_cert(cert);
        if (x509_key_from_pem(text, strlen(text), &key) >= 0)
                check_key(key, cert);
        return 0;
}
