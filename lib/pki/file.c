/* PEM files: certificates, keys and requests read with errors naming the file, written atomically, keys 0600. */
#include "pki/file.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki/pki_int.h"

/* Certificate, key and request files are small; a bigger one is wrong. */
#define PKI_FILE_MAX (4u << 20)

int
pki_file_read(const char *path, size_t max, int toobig, const char *what,
    unsigned char **bufp, size_t *np, struct pki_err *e)
{
	struct stat st;
	unsigned char *buf;
	size_t n = 0, cap = max + 1;
	int fd, err;

	if (path == NULL || *path == '\0') {
		pki_err_set(e, "no file name given");
		return EINVAL;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err = errno;
		pki_err_set(e, "%s: cannot read: %s", path, strerror(err));
		return err;
	}
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? EISDIR : errno;
		pki_err_set(e, "%s: cannot read: %s", path, strerror(err));
		close(fd);
		return err;
	}
	if (S_ISREG(st.st_mode)) {
		if ((unsigned long long)st.st_size > max) {
			pki_err_set(e, "%s: %lld bytes is too big for %s", path,
			    (long long)st.st_size, what);
			close(fd);
			return toobig;
		}
		cap = (size_t)st.st_size + 1;
	}
	if ((buf = malloc(cap + 1)) == NULL) {
		close(fd);
		pki_err_set(e, "%s: out of memory", path);
		return ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			pki_err_set(
			    e, "%s: cannot read: %s", path, strerror(err));
			OPENSSL_cleanse(buf, n);
			free(buf);
			close(fd);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap)
			break; /* it grew while we read: keep what fits */
	}
	close(fd);
	if (n > max) {
		/* not a regular file (a pipe): it said more than may be */
		pki_err_set(e, "%s: more than %zu bytes is too big for %s",
		    path, max, what);
		OPENSSL_cleanse(buf, n);
		free(buf);
		return toobig;
	}
	buf[n] = '\0';
	*bufp = buf;
	*np = n;
	return 0;
}

static int
slurp(const char *path, unsigned char **bufp, size_t *np, struct pki_err *e)
{
	return pki_file_read(path, PKI_FILE_MAX, EBADMSG,
	    "a certificate or key file", bufp, np, e);
}

static void
wipe_free(unsigned char *buf, size_t n)
{
	if (buf) {
		OPENSSL_cleanse(buf, n);
		free(buf);
	}
}

/* What a file that is not what we wanted holds instead, for the message. */
static const char *
holds_instead(const unsigned char *buf)
{
	const char *s = (const char *)buf;

	if (strstr(s, "PRIVATE KEY-----"))
		return " (it holds a private key)";
	if (strstr(s, "CERTIFICATE REQUEST-----"))
		return " (it holds a certificate request: have it signed first)";
	if (strstr(s, "-----BEGIN CERTIFICATE-----"))
		return " (it holds a certificate)";
	return "";
}

/* True when the last OpenSSL error is the normal end of the PEM blocks. */
static bool
pem_end(void)
{
	unsigned long code = ERR_peek_last_error();

	return code == 0 || (ERR_GET_LIB(code) == ERR_LIB_PEM &&
	                        ERR_GET_REASON(code) == PEM_R_NO_START_LINE);
}

int
pki_certs_load(STACK_OF(X509) * *chainp, const char *path, struct pki_err *e)
{
	STACK_OF(X509) *sk = NULL;
	unsigned char *buf = NULL;
	size_t n = 0;
	BIO *bio = NULL;
	X509 *x;
	int err;

	if (chainp == NULL) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	if ((err = slurp(path, &buf, &n, e)) != 0)
		return err;
	err = ENOMEM;
	if ((sk = sk_X509_new_null()) == NULL ||
	    (bio = BIO_new_mem_buf(buf, (int)n)) == NULL) {
		pki_err_set(e, "%s: out of memory", path);
		goto out;
	}
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			pki_err_set(e, "%s: out of memory", path);
			goto out;
		}
	}
	if (!pem_end()) {
		/* A block that starts as a certificate and does not parse. */
		err = EBADMSG;
		if (sk_X509_num(sk) == 0)
			pki_err_ossl(e, "%s: not a PEM certificate", path);
		else
			pki_err_ossl(e, "%s: certificate %d does not parse",
			    path, sk_X509_num(sk) + 1);
		goto out;
	}
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		/* Liberal: one DER certificate, as the call manager takes. */
		const unsigned char *p = buf;
		x = d2i_X509(NULL, &p, (long)n);
		if (x && p == buf + n && sk_X509_push(sk, x))
			x = NULL;
		X509_free(x);
		ERR_clear_error();
	}
	if (sk_X509_num(sk) == 0) {
		err = EBADMSG;
		pki_err_set(
		    e, "%s: not a PEM certificate%s", path, holds_instead(buf));
		goto out;
	}
	*chainp = sk;
	sk = NULL;
	err = 0;
out:
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	free(buf);
	return err;
}

int
pki_cert_load(X509 **xp, const char *path, struct pki_err *e)
{
	STACK_OF(X509) * sk;
	int err;

	if (xp == NULL) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	if ((err = pki_certs_load(&sk, path, e)) != 0)
		return err;
	*xp = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return 0;
}

/* Tells whether OpenSSL asked for a password, and hands it over. */
struct pwstate {
	const char *pass;
	bool asked;
};

static int
pw_cb(char *buf, int size, int rwflag, void *u)
{
	struct pwstate *st = u;
	size_t n;

	(void)rwflag;
	st->asked = true;
	if (st->pass == NULL)
		return -1;
	n = strlen(st->pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, st->pass, n);
	return (int)n;
}

int
pki_key_load(
    EVP_PKEY **pkp, const char *path, const char *pass, struct pki_err *e)
{
	struct pwstate st = {.pass = pass, .asked = false};
	unsigned char *buf = NULL;
	size_t n = 0;
	EVP_PKEY *pk;
	BIO *bio;
	int err;

	if (pkp == NULL) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	if ((err = slurp(path, &buf, &n, e)) != 0)
		return err;
	if ((bio = BIO_new_mem_buf(buf, (int)n)) == NULL) {
		wipe_free(buf, n);
		pki_err_set(e, "%s: out of memory", path);
		return ENOMEM;
	}
	ERR_clear_error();
	pk = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &st);
	BIO_free(bio);
	if (pk == NULL) {
		if (st.asked && pass == NULL) {
			pki_err_set(e,
			    "%s: the key is encrypted and no password was given",
			    path);
			err = EACCES;
		} else if (st.asked) {
			pki_err_set(e,
			    "%s: cannot decrypt the key: wrong password?",
			    path);
			err = EACCES;
		} else {
			pki_err_set(e, "%s: not a PEM private key%s", path,
			    holds_instead(buf));
			err = EBADMSG;
		}
		wipe_free(buf, n);
		return err;
	}
	wipe_free(buf, n);
	ERR_clear_error();
	*pkp = pk;
	return 0;
}

int
pki_csr_load(X509_REQ **rp, const char *path, struct pki_err *e)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	X509_REQ *r = NULL;
	BIO *bio;
	int err;

	if (rp == NULL) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	if ((err = slurp(path, &buf, &n, e)) != 0)
		return err;
	if ((bio = BIO_new_mem_buf(buf, (int)n)) != NULL) {
		r = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (r == NULL) {
		const unsigned char *p = buf;
		r = d2i_X509_REQ(NULL, &p, (long)n);
		if (r && p != buf + n) {
			X509_REQ_free(r);
			r = NULL;
		}
	}
	ERR_clear_error();
	if (r == NULL) {
		pki_err_set(e, "%s: not a PEM certificate request%s", path,
		    strstr((char *)buf, "CERTIFICATE REQUEST-----")
		        ? " (it does not parse)"
		        : holds_instead(buf));
		free(buf);
		return EBADMSG;
	}
	free(buf);
	*rp = r;
	return 0;
}

int
pki_password_read(const char *path, char *buf, size_t sz, struct pki_err *e)
{
	unsigned char *data = NULL;
	size_t n = 0, len;
	int err;

	if (buf == NULL || sz == 0) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	buf[0] = '\0';
	if ((err = slurp(path, &data, &n, e)) != 0)
		return err;
	/* data is set on success; the analyzer thinks a failed open() may
	 * leave errno 0 and so return 0 without it. */
	/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
	len = strcspn((char *)data, "\r\n");
	if (len == 0 || len >= sz) {
		pki_err_set(e, "%s: %s", path,
		    len == 0 ? "the password file is empty"
		             : "the password is too long");
		wipe_free(data, n);
		return EINVAL;
	}
	memcpy(buf, data, len);
	buf[len] = '\0';
	wipe_free(data, n);
	return 0;
}

int
pki_dir_make(const char *dir, unsigned mode, struct pki_err *e)
{
	char path[4096];
	struct stat st;
	int err;

	if ((size_t)snprintf(path, sizeof(path), "%s", dir) >= sizeof(path)) {
		pki_err_set(e, "%s: directory name too long", dir);
		return EINVAL;
	}
	/* Parents first (mkdir -p), each with the same mode. */
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, (mode_t)mode) != 0 && errno != EEXIST) {
			err = errno;
			pki_err_set(e, "%s: cannot create the directory: %s",
			    path, strerror(err));
			return err;
		}
		*p = '/';
	}
	if (mkdir(path, (mode_t)mode) == 0)
		return 0;
	err = errno;
	if (err == EEXIST && stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		pki_err_set(e, "%s: exists and is not a directory", dir);
		return ENOTDIR;
	}
	pki_err_set(
	    e, "%s: cannot create the directory: %s", dir, strerror(err));
	return err;
}

/* Encodes into a memory BIO; returns 1 on success, as OpenSSL does. */
typedef int pem_enc_fn(BIO *b, const void *arg);

/*
 * Writes what enc produces to path with mode: a temporary file in the same
 * directory, then rename(2), so a reader never sees half a file and a
 * failure leaves the old one. secret: encode in the secure heap, wipe after.
 */
static int
write_atomic(const char *path, mode_t mode, bool secret, pem_enc_fn *enc,
    const void *arg, struct pki_err *e)
{
	char tmp[4096];
	BIO *mem;
	char *p = NULL;
	long len;
	int fd = -1, err = EIO;

	if (path == NULL || *path == '\0') {
		pki_err_set(e, "no file name given");
		return EINVAL;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		pki_err_set(e, "%s: file name too long", path);
		return EINVAL;
	}
	mem = BIO_new(secret ? BIO_s_secmem() : BIO_s_mem());
	if (mem == NULL || enc(mem, arg) != 1 ||
	    (len = BIO_get_mem_data(mem, &p)) <= 0) {
		pki_err_ossl(e, "%s: encoding", path);
		BIO_free(mem);
		return EPROTO;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		tmp[0] = '\0';
		goto fail;
	}
	if (fchmod(fd, mode) != 0)
		goto fail;
	for (long off = 0; off < len;) {
		ssize_t w = write(fd, p + off, (size_t)(len - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	err = 0;
	goto out;
fail:
	pki_err_set(e, "%s: cannot write: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlink(tmp);
out:
	if (secret)
		OPENSSL_cleanse(p, (size_t)len);
	BIO_free(mem);
	return err;
}

struct keyarg {
	EVP_PKEY *pk;
	const char *pass;
};

static int
enc_key(BIO *b, const void *arg)
{
	const struct keyarg *k = arg;

	if (k->pass && *k->pass)
		return PEM_write_bio_PrivateKey(b, k->pk, EVP_aes_256_cbc(),
		    (const unsigned char *)k->pass, (int)strlen(k->pass), NULL,
		    NULL);
	return PEM_write_bio_PrivateKey(b, k->pk, NULL, NULL, 0, NULL, NULL);
}

int
pki_key_write(
    const char *path, EVP_PKEY *pk, const char *pass, struct pki_err *e)
{
	struct keyarg k = {.pk = pk, .pass = pass};

	if (pk == NULL) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	return write_atomic(path, 0600, true, enc_key, &k, e);
}

struct certsarg {
	X509 *const *certs;
	size_t n;
};

static int
enc_certs(BIO *b, const void *arg)
{
	const struct certsarg *c = arg;

	for (size_t i = 0; i < c->n; i++) {
		if (PEM_write_bio_X509(b, c->certs[i]) != 1)
			return 0;
	}
	return 1;
}

int
pki_certs_write(
    const char *path, X509 *const *certs, size_t n, struct pki_err *e)
{
	struct certsarg c = {.certs = certs, .n = n};

	if (certs == NULL || n == 0) {
		pki_err_set(e, "%s: no certificate to write", path);
		return EINVAL;
	}
	return write_atomic(path, 0644, false, enc_certs, &c, e);
}

static int
enc_csr(BIO *b, const void *arg)
{
	return PEM_write_bio_X509_REQ(b, (X509_REQ *)arg);
}

int
pki_csr_write(const char *path, X509_REQ *r, struct pki_err *e)
{
	if (r == NULL) {
		pki_err_set(e, "invalid arguments");
		return EINVAL;
	}
	return write_atomic(path, 0644, false, enc_csr, r, e);
}
