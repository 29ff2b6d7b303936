/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "alloc-util.h"
#include "fileio.h"
#include "log.h"
#include "string-util.h"
#include "x509-util.h"

static const char *const x509_usage_table[_X509_USAGE_MAX] = {
        [X509_USAGE_SERVER] = "server",
        [X509_USAGE_CLIENT] = "client",
        [X509_USAGE_BOTH] = "both",
};

DEFINE_STRING_TABLE_LOOKUP(x509_usage, X509Usage, _X509_USAGE_MAX);

DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(BIO *, BIO_free_all, BIO_free_allp);
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(GENERAL_NAMES *, GENERAL_NAMES_free, GENERAL_NAMES_freep);
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(X509_EXTENSION *, X509_EXTENSION_free, X509_EXTENSION_freep);
DEFINE_TRIVIAL_CLEANUP_FUNC_FULL(BIGNUM *, BN_free, BN_freep);

int x509_openssl_error(int fallback) {
        unsigned long e = ERR_peek_last_error();
        int r = fallback;
        char buf[256];

        if (e != 0) {
                ERR_error_string_n(e, buf, sizeof(buf));
                log_debug("OpenSSL: %s", buf);
                if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
                        r = -ENOMEM;
                else if (ERR_GET_LIB(e) == ERR_LIB_PEM || ERR_GET_LIB(e) == ERR_LIB_ASN1)
                        r = -EINVAL;
        }
        ERR_clear_error();
        return r;
}

int x509_generate_key(EVP_PKEY **ret) {
        EVP_PKEY *key;

        ERR_clear_error();
        key = EVP_EC_gen("P-256");
        if (!key)
                return x509_openssl_error(-EIO);
        *ret = key;
        return 0;
}

static int set_serial_and_validity(X509 *x, unsigned validity_days) {
        _cleanup_(BN_freep) BIGNUM *bn = BN_new();

        if (validity_days == 0 || validity_days > X509_VALIDITY_DAYS_MAX)
                return -EINVAL;
        if (!bn)
                return -ENOMEM;
        /* RFC 5280 4.1.2.2: positive, at most 20 octets; 127 random bits are unique enough. */
        if (!BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
            !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
                return x509_openssl_error(-EIO);
        if (!X509_set_version(x, X509_VERSION_3) ||
            /* Backdate by an hour: clocks of sandboxes and hosts drift. */
            !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
            !X509_time_adj_ex(X509_getm_notAfter(x), (int) validity_days, 0, NULL))
                return x509_openssl_error(-EIO);
        return 0;
}

static int set_subject_cn(X509 *x, const char *cn) {
        X509_NAME *name = X509_get_subject_name(x);

        if (isempty(cn) || strlen(cn) > 64 || string_has_cc(cn, NULL))
                return -EINVAL;
        if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0))
                return x509_openssl_error(-EIO);
        return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value) {
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext = NULL;

        ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
        if (!ext || !X509_add_ext(x, ext, -1))
                return x509_openssl_error(-EIO);
        return 0;
}

int x509_make_ca(EVP_PKEY *key, const char *common_name, unsigned validity_days, X509 **ret) {
        _cleanup_x509_ X509 *x = NULL;
        X509V3_CTX ctx;
        int r;

        ERR_clear_error();
        x = X509_new();
        if (!x)
                return -ENOMEM;
        r = set_serial_and_validity(x, validity_days);
        if (r < 0)
                return r;
        r = set_subject_cn(x, common_name);
        if (r < 0)
                return r;
        if (!X509_set_issuer_name(x, X509_get_subject_name(x)) || !X509_set_pubkey(x, key))
                return x509_openssl_error(-EIO);

        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        r = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
        if (r >= 0)
                r = add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        if (r >= 0)
                r = add_ext(x, &ctx, NID_subject_key_identifier, "hash");
        if (r < 0)
                return r;
        if (X509_sign(x, key, EVP_sha256()) <= 0)
                return x509_openssl_error(-EIO);
        *ret = TAKE_PTR(x);
        return 0;
}

static bool dns_name_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 253)
                return false;
        for (const char *p = s; *p; p++)
                if (!(isalnum((unsigned char) *p) || IN_SET(*p, '-', '.', '*', '_')))
                        return false;
        return true;
}

static int push_name(GENERAL_NAMES *gens, int type, ASN1_STRING *value) {
        GENERAL_NAME *gen = GENERAL_NAME_new();

        if (!gen) {
                ASN1_STRING_free(value);
                return -ENOMEM;
        }
        GENERAL_NAME_set0_value(gen, type, value);
        if (!sk_GENERAL_NAME_push(gens, gen)) {
                GENERAL_NAME_free(gen);
                return -ENOMEM;
        }
        return 0;
}

static int add_sans(X509 *x, char *const *dns, char *const *ips) {
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
        int r;

        if (!gens)
                return -ENOMEM;
        STRV_FOREACH(d, (char **) dns) {
                ASN1_IA5STRING *s;

                if (!dns_name_valid(*d))
                        return -EINVAL;
                s = ASN1_IA5STRING_new();
                if (!s || !ASN1_STRING_set(s, *d, -1)) {
                        ASN1_IA5STRING_free(s);
                        return -ENOMEM;
                }
                r = push_name(gens, GEN_DNS, s);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(i, (char **) ips) {
                ASN1_OCTET_STRING *o = a2i_IPADDRESS(*i);

                if (!o) {
                        ERR_clear_error();
                        return -EINVAL;
                }
                r = push_name(gens, GEN_IPADD, o);
                if (r < 0)
                        return r;
        }
        if (sk_GENERAL_NAME_num(gens) == 0)
                return 0;
        if (!X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0))
                return x509_openssl_error(-EIO);
        return 0;
}

static const char *usage_eku(X509Usage u) {
        switch (u) {
        case X509_USAGE_SERVER:
                return "serverAuth";
        case X509_USAGE_CLIENT:
                return "clientAuth";
        case X509_USAGE_BOTH:
                return "serverAuth,clientAuth";
        case _X509_USAGE_MAX:
        case _X509_USAGE_INVALID:
                break;
        }
        return NULL;
}

static int add_leaf_exts(X509 *x, X509 *ca_cert, X509Usage usage) {
        const char *eku = usage_eku(usage);
        X509V3_CTX ctx;
        int r;

        if (!eku)
                return -EINVAL;
        X509V3_set_ctx(&ctx, ca_cert, x, NULL, NULL, 0);
        r = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
        if (r >= 0)
                r = add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
        if (r >= 0)
                r = add_ext(x, &ctx, NID_ext_key_usage, eku);
        if (r >= 0)
                r = add_ext(x, &ctx, NID_subject_key_identifier, "hash");
        if (r >= 0)
                r = add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
        return r;
}

int x509_make_cert(const X509CertOptions *opts, EVP_PKEY *key, X509 *ca_cert, EVP_PKEY *ca_key, X509 **ret) {
        _cleanup_x509_ X509 *x = NULL;
        int r;

        if (!opts || !key || !ca_cert || !ca_key)
                return -EINVAL;
        ERR_clear_error();
        if (X509_check_private_key(ca_cert, ca_key) != 1)
                return x509_openssl_error(-EINVAL);
        x = X509_new();
        if (!x)
                return -ENOMEM;
        r = set_serial_and_validity(x, opts->validity_days);
        if (r < 0)
                return r;
        r = set_subject_cn(x, opts->common_name);
        if (r < 0)
                return r;
        if (!X509_set_issuer_name(x, X509_get_subject_name(ca_cert)) || !X509_set_pubkey(x, key))
                return x509_openssl_error(-EIO);
        r = add_sans(x, opts->dns_names, opts->ip_addresses);
        if (r < 0)
                return r;
        r = add_leaf_exts(x, ca_cert, opts->usage);
        if (r < 0)
                return r;
        if (X509_sign(x, ca_key, EVP_sha256()) <= 0)
                return x509_openssl_error(-EIO);
        *ret = TAKE_PTR(x);
        return 0;
}

static int bio_to_string(BIO *b, char **ret, size_t *ret_size) {
        char *data, *copy;
        long n = BIO_get_mem_data(b, &data);

        if (n <= 0)
                return -EIO;
        copy = strndup_safe(data, (size_t) n);
        if (!copy)
                return -ENOMEM;
        if (ret_size)
                *ret_size = (size_t) n;
        *ret = copy;
        return 0;
}

int x509_cert_to_pem(X509 *cert, char **ret, size_t *ret_size) {
        _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());

        ERR_clear_error();
        if (!b)
                return -ENOMEM;
        if (!PEM_write_bio_X509(b, cert))
                return x509_openssl_error(-EIO);
        return bio_to_string(b, ret, ret_size);
}

int x509_key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_size) {
        _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_secmem());
        int r;

        ERR_clear_error();
        if (!b)
                return -ENOMEM;
        if (!PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
                return x509_openssl_error(-EIO);
        r = bio_to_string(b, ret, ret_size);
        (void) BIO_reset(b);
        return r;
}

int x509_cert_from_pem(const char *pem, size_t size, X509 **ret) {
        _cleanup_(BIO_free_allp) BIO *b = NULL;
        X509 *x;

        if (!pem || size > INT_MAX)
                return -EINVAL;
        ERR_clear_error();
        b = BIO_new_mem_buf(pem, (int) size);
        if (!b)
                return -ENOMEM;
        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        if (!x)
                return x509_openssl_error(-EINVAL);
        *ret = x;
        return 0;
}

/* The keys we load are ours, written in the clear (0600): an encrypted one is refused at once — without a
 * prompt on a tty, and without running its KDF, whose iteration count the file sets (20 million PBKDF2
 * rounds cost seconds of CPU; found by fuzz-x509). */
static int no_passphrase_cb(char *buf, int size, int rwflag, void *userdata) {
        return -1;
}

int x509_key_from_pem(const char *pem, size_t size, EVP_PKEY **ret) {
        _cleanup_(BIO_free_allp) BIO *b = NULL;
        EVP_PKEY *k;

        if (!pem || size > INT_MAX)
                return -EINVAL;
        ERR_clear_error();
        b = BIO_new_mem_buf(pem, (int) size);
        if (!b)
                return -ENOMEM;
        k = PEM_read_bio_PrivateKey(b, NULL, no_passphrase_cb, NULL);
        if (!k)
                return x509_openssl_error(-EINVAL);
        *ret = k;
        return 0;
}

int x509_write_cert(const char *path, X509 *cert) {
        _cleanup_free_ char *pem = NULL;
        size_t n;
        int r;

        r = x509_cert_to_pem(cert, &pem, &n);
        if (r < 0)
                return r;
        return write_file_atomic(path, pem, n, 0644);
}

int x509_write_key(const char *path, EVP_PKEY *key) {
        _cleanup_erase_ char *pem = NULL;
        size_t n;
        int r;

        r = x509_key_to_pem(key, &pem, &n);
        if (r < 0)
                return r;
        return write_file_atomic(path, pem, n, 0600);
}

int x509_load_cert(const char *path, X509 **ret) {
        _cleanup_free_ char *pem = NULL;
        size_t n;
        int r;

        r = read_full_file(path, X509_PEM_MAX_BYTES, &pem, &n);
        if (r < 0)
                return r;
        return x509_cert_from_pem(pem, n, ret);
}

int x509_load_key(const char *path, EVP_PKEY **ret) {
        _cleanup_erase_ char *pem = NULL;
        size_t n;
        int r;

        r = read_full_file(path, X509_PEM_MAX_BYTES, &pem, &n);
        if (r < 0)
                return r;
        return x509_key_from_pem(pem, n, ret);
}

int x509_fingerprint_sha256(X509 *cert, char **ret) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        char *s;

        ERR_clear_error();
        if (!X509_digest(cert, EVP_sha256(), md, &n))
                return x509_openssl_error(-EIO);
        s = new(char, n * 3);
        if (!s)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++)
                snprintf(s + i * 3, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
        *ret = s;
        return 0;
}

int x509_cert_matches_key(X509 *cert, EVP_PKEY *key) {
        ERR_clear_error();
        if (X509_check_private_key(cert, key) != 1) {
                ERR_clear_error();
                return -EINVAL;
        }
        return 0;
}

int x509_cert_check_time(X509 *cert, time_t now) {
        if (X509_cmp_time(X509_get0_notBefore(cert), &now) >= 0 ||
            X509_cmp_time(X509_get0_notAfter(cert), &now) <= 0)
                return -ESTALE;
        return 0;
}

bool x509_cert_is_ca(X509 *cert) {
        return X509_check_ca(cert) > 0 && (X509_get_extension_flags(cert) & EXFLAG_CA);
}
