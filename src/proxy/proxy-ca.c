/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "alloc-util.h"
#include "fileio.h"
#include "log.h"
#include "path-util.h"
#include "proxy-ca.h"
#include "proxy-settings.h"
#include "string-util.h"

/* Largest system CA bundle we copy. */
#define PROXY_SYSTEM_BUNDLE_MAX (16U * 1024U * 1024U)

void proxy_ca_done(ProxyCA *ca) {
        X509_free(ca->cert);
        EVP_PKEY_free(ca->key);
        free(ca->fingerprint);
        *ca = (ProxyCA){};
}

static int ensure_dirs(const char *dir, char **ret_private, char **ret_ca) {
        _cleanup_free_ char *priv = path_join(dir, "private"), *cadir = path_join(dir, "ca");
        int r;

        if (!priv || !cadir)
                return -ENOMEM;
        /* The top directory stays traversable: the agent mounts only ca/, private/ is 0700. */
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        r = mkdir_p(priv, 0700);
        if (r < 0)
                return r;
        /* An existing directory may have been created with a laxer mode. */
        if (chmod(priv, 0700) < 0)
                return -errno;
        r = mkdir_p(cadir, 0755);
        if (r < 0)
                return r;
        /* A proxy killed mid-write leaves temporaries; the volume is ours alone while we run. */
        (void) remove_stale_temporaries(priv);
        (void) remove_stale_temporaries(cadir);
        *ret_private = TAKE_PTR(priv);
        *ret_ca = TAKE_PTR(cadir);
        return 0;
}

/* Loads the key if present: 0 and *ret set, 0 and *ret NULL if missing, or an error (unreadable/corrupt:
 * never silently replaced, the operator decides). */
static int load_key(const char *path, EVP_PKEY **ret) {
        int r = x509_load_key(path, ret);

        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return r;
}

/* A certificate that is missing, unreadable, expired or not for this key is reissued from the key. */
static bool cert_usable(X509 *cert, EVP_PKEY *key) {
        return cert && x509_cert_matches_key(cert, key) >= 0 && x509_cert_check_time(cert, time(NULL)) >= 0 &&
               x509_cert_is_ca(cert);
}

static int write_bundle(const char *cadir, const char *system_bundle, X509 *cert) {
        _cleanup_free_ char *roots = NULL, *ours = NULL, *all = NULL, *path = path_join(cadir, "ca-bundle.crt");
        size_t n_roots = 0, n_ours;
        int r;

        if (!path)
                return -ENOMEM;
        if (system_bundle) {
                r = read_full_file(system_bundle, PROXY_SYSTEM_BUNDLE_MAX, &roots, &n_roots);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        r = x509_cert_to_pem(cert, &ours, &n_ours);
        if (r < 0)
                return r;
        all = new(char, n_roots + n_ours + 2);
        if (!all)
                return -ENOMEM;
        memcpy(all, strempty(roots), n_roots);
        if (n_roots > 0 && roots[n_roots - 1] != '\n')
                all[n_roots++] = '\n';
        memcpy(all + n_roots, ours, n_ours);
        return write_file_atomic(path, all, n_roots + n_ours, 0644);
}

int proxy_ca_ensure(const char *dir, const char *system_bundle, ProxyCA *ret) {
        _cleanup_free_ char *priv = NULL, *cadir = NULL, *key_path = NULL, *cert_path = NULL, *ready = NULL,
                            *line = NULL;
        _cleanup_(proxy_ca_done) ProxyCA ca = {};
        int r;

        r = ensure_dirs(dir, &priv, &cadir);
        if (r < 0)
                return r;
        key_path = path_join(priv, "ca.key");
        cert_path = path_join(cadir, "ca.crt");
        ready = path_join(cadir, ".ready");
        if (!key_path || !cert_path || !ready)
                return -ENOMEM;

        r = load_key(key_path, &ca.key);
        if (r < 0)
                return r;
        if (!ca.key) {
                r = x509_generate_key(&ca.key);
                if (r < 0)
                        return r;
                r = x509_write_key(key_path, ca.key);
                if (r < 0)
                        return r;
                ca.created = true;
        } else
                (void) x509_load_cert(cert_path, &ca.cert);

        if (!cert_usable(ca.cert, ca.key)) {
                X509_free(TAKE_PTR(ca.cert));
                r = x509_make_ca(ca.key, PROXY_CA_COMMON_NAME, PROXY_CA_VALIDITY_DAYS, &ca.cert);
                if (r < 0)
                        return r;
                r = x509_write_cert(cert_path, ca.cert);
                if (r < 0)
                        return r;
        }
        r = write_bundle(cadir, system_bundle, ca.cert);
        if (r < 0)
                return r;
        r = x509_fingerprint_sha256(ca.cert, &ca.fingerprint);
        if (r < 0)
                return r;
        line = strjoin(ca.fingerprint, "\n");
        if (!line)
                return -ENOMEM;
        r = write_file_atomic(ready, line, strlen(line), 0644);
        if (r < 0)
                return r;
        *ret = ca;
        ca = (ProxyCA){};
        return 0;
}
