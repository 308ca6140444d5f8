/* Trust stores as directories of PEM files named after their subject, and their OpenSSL CAfile bundle. */
#include "pki/store.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki/file.h"
#include "pki/pki_int.h"
#include "pki/show.h"

#define STORE_NAME_MAX 64

static const char *const store_names[PKI_STORE__COUNT] = {
    [PKI_STORE_CALLMANAGER_TRUST] = "callmanager-trust",
    [PKI_STORE_TOMCAT_TRUST] = "tomcat-trust",
};

int
pki_store_parse(enum pki_store *sp, const char *s, struct pki_err *e)
{
	if (sp == NULL || s == NULL || *s == '\0') {
		pki_err_set(
		    e, "no trust store given: use one of " PKI_STORE_LIST);
		return EINVAL;
	}
	for (int i = 0; i < PKI_STORE__COUNT; i++) {
		if (strcasecmp(s, store_names[i]) == 0) {
			*sp = (enum pki_store)i;
			return 0;
		}
	}
	pki_err_set(
	    e, "unknown trust store '%s': use one of " PKI_STORE_LIST, s);
	return EINVAL;
}

const char *
pki_store_name(enum pki_store s)
{
	return (unsigned)s < PKI_STORE__COUNT ? store_names[s] : "?";
}

int
pki_store_path(char *buf, size_t sz, const char *dir, enum pki_store s)
{
	if (buf == NULL || dir == NULL || (unsigned)s >= PKI_STORE__COUNT)
		return EINVAL;
	return (size_t)snprintf(buf, sz, "%s/%s", dir, store_names[s]) >= sz
	           ? EINVAL
	           : 0;
}

static bool
name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* An entry name given by a person: a plain file name, no path. */
static int
name_check(const char *name, struct pki_err *e)
{
	size_t n = strlen(name);

	if (n == 0 || n > STORE_NAME_MAX || name[0] == '.' || name[0] == '-') {
		pki_err_set(e,
		    "name '%s': give 1 to %d letters, digits, '.', '_' or '-', "
		    "not starting with '.' or '-'",
		    name, STORE_NAME_MAX);
		return EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!name_char_ok(name[i])) {
			pki_err_set(e,
			    "name '%s': only letters, digits, '.', '_' and '-' "
			    "are allowed",
			    name);
			return EINVAL;
		}
	}
	return 0;
}

/* The entry name for a certificate: its CN, made safe as a file name. */
static void
name_from_subject(X509 *x, char *buf, size_t sz)
{
	X509_NAME *n = X509_get_subject_name(x);
	unsigned char *utf8 = NULL;
	char subj[256];
	const char *src = NULL;
	size_t i, o = 0;
	int idx = X509_NAME_get_index_by_NID(n, NID_commonName, -1);

	if (idx >= 0 &&
	    ASN1_STRING_to_UTF8(&utf8,
	        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, idx))) > 0)
		src = (const char *)utf8;
	else
		src = pki_subject_fmt(x, subj, sizeof(subj));
	for (i = 0; src[i] && o + 1 < sz && o < STORE_NAME_MAX; i++) {
		char c = src[i];
		buf[o++] = name_char_ok(c) ? c : '_';
	}
	buf[o] = '\0';
	if (buf[0] == '.' || buf[0] == '-')
		buf[0] = '_';
	if (buf[0] == '\0')
		snprintf(buf, sz, "certificate");
	OPENSSL_free(utf8);
}

static int
entry_path(char *buf, size_t sz, const char *storedir, const char *name,
    struct pki_err *e)
{
	if ((size_t)snprintf(buf, sz, "%s/%s.pem", storedir, name) >= sz) {
		pki_err_set(e, "%s: directory name too long", storedir);
		return EINVAL;
	}
	return 0;
}

int
pki_store_add(const char *storedir, X509 *x, const char *name, char *outname,
    size_t outsz, bool *existed, struct pki_err *e)
{
	struct pki_store_entry *ents = NULL;
	size_t n = 0;
	char cand[STORE_NAME_MAX + 16], path[4096], fp[128];
	int err;

	if (storedir == NULL || x == NULL || outname == NULL || outsz == 0) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	if (existed)
		*existed = false;
	if (name && (err = name_check(name, e)))
		return err;
	if ((err = pki_dir_make(storedir, 0755, e)) ||
	    (err = pki_store_list(storedir, &ents, &n, e)))
		return err;
	/* The same certificate under any name is already trusted. */
	for (size_t i = 0; i < n; i++) {
		if (X509_cmp(ents[i].cert, x) == 0) {
			snprintf(outname, outsz, "%s", ents[i].name);
			if (existed)
				*existed = true;
			goto out;
		}
	}
	if (name)
		snprintf(cand, sizeof(cand), "%s", name);
	else
		name_from_subject(x, cand, sizeof(cand));
	if ((err = entry_path(path, sizeof(path), storedir, cand, e)))
		goto out;
	if (pki_exists(path)) {
		if (name) {
			pki_err_set(e,
			    "%s: the name %s is taken by another certificate",
			    storedir, name);
			err = EEXIST;
			goto out;
		}
		/* Two certificates with one CN (an RSA and an EC one, say). */
		pki_fingerprint(x, EVP_sha256(), fp, sizeof(fp));
		size_t len = strlen(cand);
		snprintf(cand + len, sizeof(cand) - len, "-%c%c%c%c%c%c%c%c",
		    fp[0], fp[1], fp[3], fp[4], fp[6], fp[7], fp[9], fp[10]);
		if ((err = entry_path(path, sizeof(path), storedir, cand, e)))
			goto out;
		if (pki_exists(path)) {
			pki_err_set(e, "%s: %s.pem exists", storedir, cand);
			err = EEXIST;
			goto out;
		}
	}
	if ((err = pki_certs_write(path, &x, 1, e)))
		goto out;
	snprintf(outname, outsz, "%s", cand);
out:
	pki_store_entries_free(ents, n);
	return err;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pki_store_entry *)a)->name,
	    ((const struct pki_store_entry *)b)->name);
}

/* True for "NAME.pem" (not hidden, not a temporary file of ours). */
static bool
pem_name(const char *fname, size_t *baselen)
{
	size_t n = strlen(fname);

	if (fname[0] == '.' || n <= 4 || strcmp(fname + n - 4, ".pem") != 0)
		return false;
	*baselen = n - 4;
	return true;
}

int
pki_store_list(const char *storedir, struct pki_store_entry **ep, size_t *np,
    struct pki_err *e)
{
	struct pki_store_entry *ents = NULL;
	size_t n = 0, cap = 0, base;
	struct dirent *d;
	DIR *dir;
	int err = 0;

	if (storedir == NULL || ep == NULL || np == NULL) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	*ep = NULL;
	*np = 0;
	if ((dir = opendir(storedir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		err = errno;
		pki_err_set(e, "%s: cannot read the trust store: %s", storedir,
		    strerror(err));
		return err;
	}
	while ((d = readdir(dir)) != NULL) {
		char path[4096];
		struct stat st;

		if (!pem_name(d->d_name, &base) || base >= sizeof(ents[0].name))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", storedir,
		        d->d_name) >= sizeof(path) ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct pki_store_entry *ne =
			    realloc(ents, ncap * sizeof(*ents));
			if (ne == NULL) {
				pki_err_set(e, "out of memory");
				err = ENOMEM;
				break;
			}
			ents = ne;
			cap = ncap;
		}
		memcpy(ents[n].name, d->d_name, base);
		ents[n].name[base] = '\0';
		if ((err = pki_cert_load(&ents[n].cert, path, e)))
			break;
		n++;
	}
	closedir(dir);
	if (err) {
		pki_store_entries_free(ents, n);
		return err;
	}
	if (n > 1)
		qsort(ents, n, sizeof(*ents), entry_cmp);
	*ep = ents;
	*np = n;
	return 0;
}

void
pki_store_entries_free(struct pki_store_entry *ep, size_t n)
{
	for (size_t i = 0; ep && i < n; i++)
		X509_free(ep[i].cert);
	free(ep);
}

int
pki_store_remove(const char *storedir, const char *name, struct pki_err *e)
{
	char base[STORE_NAME_MAX + 32], path[4096];
	size_t n;
	int err;

	if (storedir == NULL || name == NULL) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	n = strlen(name);
	if (n > 4 && strcmp(name + n - 4, ".pem") == 0)
		n -= 4;
	if (n >= sizeof(base)) {
		pki_err_set(e, "name '%s' is too long", name);
		return EINVAL;
	}
	memcpy(base, name, n);
	base[n] = '\0';
	if (n == 0) {
		pki_err_set(e, "no name given");
		return EINVAL;
	}
	/* A plain name: never a path out of the store. */
	for (size_t i = 0; i < n; i++) {
		if (!name_char_ok(base[i]) || base[0] == '.') {
			pki_err_set(e,
			    "name '%s': not a trust store entry (see the list)",
			    name);
			return EINVAL;
		}
	}
	if ((err = entry_path(path, sizeof(path), storedir, base, e)))
		return err;
	if (unlink(path) != 0) {
		err = errno;
		if (err == ENOENT)
			pki_err_set(e,
			    "%s: no certificate named %s in the store",
			    storedir, base);
		else
			pki_err_set(
			    e, "%s: cannot remove: %s", path, strerror(err));
		return err == ENOENT ? ENOENT : EIO;
	}
	return 0;
}

int
pki_store_bundle(
    const char *storedir, const char *outpath, size_t *np, struct pki_err *e)
{
	struct pki_store_entry *ents = NULL;
	X509 **certs = NULL;
	size_t n = 0;
	int err;

	if (outpath == NULL) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	if ((err = pki_store_list(storedir, &ents, &n, e)))
		return err;
	if (n == 0) {
		pki_err_set(e,
		    "%s: the trust store is empty (OpenSSL takes no empty "
		    "CAfile)",
		    storedir);
		return ENODATA;
	}
	if ((certs = calloc(n, sizeof(*certs))) == NULL) {
		pki_store_entries_free(ents, n);
		pki_err_set(e, "out of memory");
		return ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		certs[i] = ents[i].cert;
	err = pki_certs_write(outpath, certs, n, e);
	if (err == 0 && np)
		*np = n;
	free(certs);
	pki_store_entries_free(ents, n);
	return err;
}

/* Adds every certificate of one file to the store. */
static int
trust_add_file(
    X509_STORE *st, const char *path, size_t *count, struct pki_err *e)
{
	STACK_OF(X509) *sk = NULL;
	int err;

	if ((err = pki_certs_load(&sk, path, e)))
		return err;
	for (int i = 0; i < sk_X509_num(sk); i++) {
		if (X509_STORE_add_cert(st, sk_X509_value(sk, i)) != 1) {
			pki_err_ossl(
			    e, "%s: adding certificate %d", path, i + 1);
			err = ENOMEM;
			break;
		}
		(*count)++;
	}
	sk_X509_pop_free(sk, X509_free);
	return err;
}

int
pki_trust_load(X509_STORE **sp, const char *path, struct pki_err *e)
{
	X509_STORE *st;
	struct stat sb;
	size_t count = 0;
	int err = 0;

	if (sp == NULL || path == NULL) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	if (stat(path, &sb) != 0) {
		err = errno;
		pki_err_set(e, "%s: cannot read: %s", path, strerror(err));
		return err;
	}
	if ((st = X509_STORE_new()) == NULL) {
		pki_err_set(e, "out of memory");
		return ENOMEM;
	}
	if (S_ISDIR(sb.st_mode)) {
		DIR *dir = opendir(path);
		struct dirent *d;
		size_t base;

		if (dir == NULL) {
			err = errno;
			pki_err_set(
			    e, "%s: cannot read: %s", path, strerror(err));
			goto out;
		}
		while (err == 0 && (d = readdir(dir)) != NULL) {
			char fpath[4096];
			if (!pem_name(d->d_name, &base))
				continue;
			snprintf(
			    fpath, sizeof(fpath), "%s/%s", path, d->d_name);
			err = trust_add_file(st, fpath, &count, e);
		}
		closedir(dir);
	} else
		err = trust_add_file(st, path, &count, e);
	if (err == 0 && count == 0) {
		pki_err_set(e, "%s: no certificate to trust", path);
		err = ENODATA;
	}
out:
	if (err) {
		X509_STORE_free(st);
		return err;
	}
	*sp = st;
	return 0;
}
