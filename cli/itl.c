/* ngvoice itl: build, show and verify the Identity Trust List (ITLFile.tlv) the voicemail server downloads from the call manager. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "callmgr/config.h"
#include "callmgr/tftp.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/log.h"
#include "pki/file.h"
#include "pki/itl.h"
#include "pki/role.h"

#define EXIT_USAGE  2
#define MAX_RECORDS 64 /* phones fail above 39 certificates (notes 1.7) */

static const char usage_itl[] =
    "usage: ngvoice itl <command> [options]\n"
    "\n"
    "The Identity Trust List (ITLFile.tlv): the call manager's certificates,\n"
    "signed, which the voicemail server downloads from\n"
    "https://<tftp-host>:6972/ITLFile.tlv to trust the call manager.\n"
    "\n"
    "commands:\n"
    "  build   build and sign a file from certificates\n"
    "  show    print every element of a file, then each record\n"
    "  verify  check a file's signature and say who signed it\n"
    "\n"
    "Run 'ngvoice itl <command> --help' for the options of one command.\n"
    "Exit status: 0 done, 1 an error (named on stderr), 2 a usage error.\n";

static const char usage_build[] =
    "usage: ngvoice itl build --signer CERT --signer-key KEY\n"
    "           --record ROLE:CERT[:IP]... --out FILE [options]\n"
    "       ngvoice itl build --dir DIR --out FILE [options]\n"
    "       ngvoice itl build --config cm.conf --out FILE [--timestamp T]\n"
    "\n"
    "Builds an ITL (or CTL) file and signs it with RSA PKCS#1 v1.5 over\n"
    "the whole file without its SIGNATURE element. The signer is listed\n"
    "first, as a SAST record; then one record per --record, in order.\n"
    "\n"
    "  --signer CERT          the signer's certificate (ITLRecovery.pem;\n"
    "                         the TFTP node's CallManager.pem before CUCM\n"
    "                         12.0)\n"
    "  --signer-key KEY       its RSA private key (PEM): 512, 1024, 2048\n"
    "                         or 4096 bits\n"
    "  --password-file F      the password of an encrypted signer key\n"
    "  --dir DIR              a call manager identity directory ('ngvoice\n"
    "                         cert generate --out DIR'): the signer\n"
    "                         defaults to DIR/ITLRecovery.pem and .key, and\n"
    "                         without --record the records are\n"
    "                         DIR/CallManager.pem as CCM+TFTP and\n"
    "                         DIR/CallManager-ECDSA.pem as CCM\n"
    "  --config cm.conf       the call manager's configuration: the file\n"
    "                         its TFTP service serves on :6972, signed by\n"
    "                         [certificates] itlrecovery with\n"
    "                         tftp_file_signature_algorithm, listing\n"
    "                         callmanager as CCM+TFTP and\n"
    "                         callmanager_ecdsa as CCM\n"
    "  --record ROLE:CERT[:IP]\n"
    "                         a certificate to list (PEM or DER) with its\n"
    "                         role and, optionally, its IPv4 address.\n"
    "                         ROLE: " ITL_ROLE_LIST "\n"
    "                         or a number. The record's DNS name is the\n"
    "                         certificate's first DNS SAN, else its CN.\n"
    "  --sha1                 sign with SHA-1 (the call manager's default\n"
    "                         \"TFTP File Signature Algorithm\"); the\n"
    "                         default here is SHA-512\n"
    "  --filename NAME        the header's FILENAME (default ITLFile.tlv)\n"
    "  --timestamp T          the header's TIMESTAMP in Unix seconds\n"
    "                         (default now), for reproducible files\n"
    "  --out FILE             the file to write (mode 0644, replaced\n"
    "                         atomically)\n";

static const char usage_show[] =
    "usage: ngvoice itl show FILE [--hex]\n"
    "\n"
    "Prints every element of FILE, like the call manager's 'show itl':\n"
    "offset, tag, name, length and value (text for strings, hex for\n"
    "bytes, a certificate as its SHA-1 fingerprint), then the header and\n"
    "each record: role, DNS name, subject, issuer, serial, key type,\n"
    "certificate fingerprint, IP address. A malformed file is refused\n"
    "with the byte offset and the reason (exit status 1).\n"
    "\n"
    "  --hex   print certificates in hex too\n";

static const char usage_verify[] =
    "usage: ngvoice itl verify FILE [--signer CERT]\n"
    "\n"
    "Checks FILE's signature. Without --signer the key is the one of the\n"
    "SAST record whose serial number and issuer are the header's\n"
    "SERIAL_NUMBER and ISSUER_NAME (trust on first use, as phones do);\n"
    "with --signer it is the key of CERT, a signer you trust.\n"
    "Exit status 0 when the signature verifies (saying which SAST record\n"
    "signed), 1 when the file is malformed or the signature fails (with\n"
    "the byte offset and the reason).\n";

static void
set_prog(char **argv, const char *sub)
{
	cli_set_prog(argv, "ngvoice itl", sub);
}

/* One --record: role, certificate file, IP. */
struct rec_arg {
	uint16_t role;
	char path[4096];
	bool has_ip;
	uint8_t ip[4];
};

/*
 * ROLE:CERT[:IP]. The IP is the part after the last ':' when it is made of
 * digits and dots only, so a file name with a ':' still works.
 */
static int
parse_record(struct rec_arg *ra, const char *arg)
{
	const char *c = strchr(arg, ':'), *last;
	char role[32];
	size_t rl;

	memset(ra, 0, sizeof(*ra));
	if (c == NULL || c[1] == '\0')
		return cli_usage_error(
		    "--record %s: give ROLE:CERT[:IP], e.g. CCM+TFTP:"
		    "CallManager.pem:10.0.0.5",
		    arg);
	rl = (size_t)(c - arg);
	if (rl >= sizeof(role))
		return cli_usage_error("--record %s: unknown role", arg);
	memcpy(role, arg, rl);
	role[rl] = '\0';
	if (itl_role_parse(&ra->role, role) != 0)
		return cli_usage_error(
		    "--record %s: unknown role '%s' (roles: " ITL_ROLE_LIST
		    ", or a number)",
		    arg, role);
	last = strrchr(c + 1, ':');
	if (last && last[1] != '\0' &&
	    strspn(last + 1, "0123456789.") == strlen(last + 1)) {
		char ip[32];
		size_t len = strlen(last + 1);
		if (len < sizeof(ip))
			memcpy(ip, last + 1, len + 1);
		if (len >= sizeof(ip) || inet_pton(AF_INET, ip, ra->ip) != 1)
			return cli_usage_error(
			    "--record %s: '%s' is not an IPv4 address", arg,
			    last + 1);
		ra->has_ip = true;
	} else
		last = c + 1 + strlen(c + 1);
	if (last == c + 1 || (size_t)(last - (c + 1)) >= sizeof(ra->path))
		return cli_usage_error("--record %s: no certificate file", arg);
	memcpy(ra->path, c + 1, (size_t)(last - (c + 1)));
	ra->path[last - (c + 1)] = '\0';
	return 0;
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

struct build_state {
	struct rec_arg recs[MAX_RECORDS];
	size_t nrecs;
	X509 *certs[MAX_RECORDS];
	struct itl_entry entries[MAX_RECORDS];
	char signer[4096], key[4096];
};

/* With --dir and no --record: the guide's CallManager certificates. */
static int
default_records(struct build_state *st, const char *dir)
{
	static const struct {
		enum pki_role role;
		uint16_t itl_role;
	} def[] = {
	    /* The RSA identity is the TFTP node's: CUC looks for it. */
	    {PKI_ROLE_CALLMANAGER, ITL_ROLE_CCM_TFTP},
	    /* The EC one signs no TFTP files: CCM (docs/itl.md). */
	    {PKI_ROLE_CALLMANAGER_ECDSA, ITL_ROLE_CCM},
	};

	for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++) {
		struct rec_arg *ra = &st->recs[st->nrecs];
		memset(ra, 0, sizeof(*ra));
		if (pki_role_path(
		        ra->path, sizeof(ra->path), dir, def[i].role, "pem"))
			return cli_failf("%s: directory name too long", dir);
		if (!exists(ra->path))
			continue;
		ra->role = def[i].itl_role;
		st->nrecs++;
	}
	if (st->nrecs == 0)
		return cli_failf("%s holds neither CallManager.pem nor "
		                 "CallManager-ECDSA.pem: give --record",
		    dir);
	return 0;
}

static int
read_password(const char *file, char *buf, size_t sz)
{
	struct pki_err e;

	if (file && pki_password_read(file, buf, sz, &e) != 0)
		return cli_failf("%s", e.msg);
	return 0;
}

static int
itl_build_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"signer", required_argument, NULL, 's'},
	    {"signer-key", required_argument, NULL, 'k'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"dir", required_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'c'},
	    {"record", required_argument, NULL, 'r'},
	    {"sha1", no_argument, NULL, '1'},
	    {"filename", required_argument, NULL, 'n'},
	    {"timestamp", required_argument, NULL, 't'},
	    {"out", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct build_state *st;
	const char *signer = NULL, *key = NULL, *pwfile = NULL, *dir = NULL;
	const char *out = NULL, *config = NULL;
	struct cm_config *cfg = NULL;
	bool sha1 = false;
	struct itl_build_opts bo;
	struct pki_err e;
	struct itl_err ie;
	struct itl_verified v;
	struct itl_file *f = NULL;
	struct buf b;
	X509 *sx = NULL;
	EVP_PKEY *sk = NULL;
	char pw[1024] = "";
	int opt, rc = 1;

	set_prog(argv, "build");
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return cli_failf("out of memory");
	memset(&bo, 0, sizeof(bo));
	bo.hash = ITL_HASH_SHA512;
	buf_init(&b);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			signer = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'r':
			if (st->nrecs == MAX_RECORDS) {
				rc = cli_usage_error(
				    "at most %d --record", MAX_RECORDS);
				goto out;
			}
			if ((rc = parse_record(&st->recs[st->nrecs], optarg)))
				goto out;
			st->nrecs++;
			break;
		case '1':
			bo.hash = ITL_HASH_SHA1;
			sha1 = true;
			break;
		case 'n':
			bo.filename = optarg;
			break;
		case 't': {
			char *end;
			unsigned long long t;
			errno = 0;
			t = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end != '\0' || t == 0 ||
			    t > UINT32_MAX) {
				rc =
				    cli_usage_error("--timestamp %s: give Unix "
				                    "seconds, 1 to 4294967295",
				        optarg);
				goto out;
			}
			bo.timestamp = (uint32_t)t;
			break;
		}
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(usage_build, stdout);
			rc = 0;
			goto out;
		default:
			rc = cli_usage_error(NULL);
			goto out;
		}
	}
	rc = EXIT_USAGE;
	if (optind < argc) {
		cli_usage_error("unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (out == NULL) {
		cli_usage_error("--out is needed");
		goto out;
	}
	if (config && (signer || key || pwfile || dir || st->nrecs || sha1 ||
	                  bo.filename)) {
		cli_usage_error(
		    "--config takes only --out and --timestamp: "
		    "the configuration gives the signer, the records "
		    "and the signature algorithm");
		goto out;
	}
	if (config) {
		struct conf_err ce;
		char msg[600];
		rc = 1;
		/* Configuration warnings are not this command's business. */
		log_set_level(LOG_ERR);
		if (cm_config_load(&cfg, config, &ce) != 0) {
			cli_failf("%s", conf_err_str(&ce, msg, sizeof(msg)));
			goto out;
		}
		e.msg[0] = '\0';
		if (cm_itl_build(&b, cfg, bo.timestamp, &e)) {
			cli_failf("%s", e.msg);
			goto out;
		}
		bo.hash = strcmp(cfg->enterprise.tftp_file_signature_algorithm,
		              "SHA-1") == 0
		              ? ITL_HASH_SHA1
		              : ITL_HASH_SHA512;
		goto built;
	}
	if ((signer == NULL) != (key == NULL)) {
		cli_usage_error("--signer and --signer-key go together");
		goto out;
	}
	if (signer == NULL && dir == NULL) {
		cli_usage_error(
		    "give --signer and --signer-key, --dir or --config");
		goto out;
	}
	if (st->nrecs == 0 && dir == NULL) {
		cli_usage_error("give at least one --record ROLE:CERT[:IP]");
		goto out;
	}
	rc = 1;
	if (signer == NULL) {
		if (pki_role_path(st->signer, sizeof(st->signer), dir,
		        PKI_ROLE_ITLRECOVERY, "pem") ||
		    pki_role_path(st->key, sizeof(st->key), dir,
		        PKI_ROLE_ITLRECOVERY, "key")) {
			cli_failf("%s: directory name too long", dir);
			goto out;
		}
		signer = st->signer;
		key = st->key;
	}
	if (st->nrecs == 0 && (rc = default_records(st, dir)))
		goto out;
	rc = 1;
	if (read_password(pwfile, pw, sizeof(pw)))
		goto out;
	if (pki_cert_load(&sx, signer, &e)) {
		cli_failf("%s", e.msg);
		goto out;
	}
	if ((rc = pki_key_load(&sk, key, pwfile ? pw : NULL, &e))) {
		cli_failf("%s%s", e.msg,
		    rc == EACCES && !pwfile
		        ? " (give it with --password-file FILE)"
		        : "");
		rc = 1;
		goto out;
	}
	rc = 1;
	for (size_t i = 0; i < st->nrecs; i++) {
		if (pki_cert_load(&st->certs[i], st->recs[i].path, &e)) {
			cli_failf("%s", e.msg);
			goto out;
		}
		st->entries[i].role = st->recs[i].role;
		st->entries[i].cert = st->certs[i];
		st->entries[i].has_ip = st->recs[i].has_ip;
		memcpy(st->entries[i].ip, st->recs[i].ip, 4);
	}
	bo.signer = sx;
	bo.signer_key = sk;
	bo.entries = st->entries;
	bo.nentries = st->nrecs;
	if (itl_build(&b, &bo, &e)) {
		cli_failf("%s", e.msg);
		goto out;
	}
built:
	/* Read back what was built: the file must parse and verify. */
	if (itl_parse(&f, b.p, b.len, &ie) || itl_verify(f, sx, &v, &ie)) {
		cli_failf(
		    "internal error: the built file does not check: offset "
		    "%zu: %s",
		    ie.offset, ie.msg);
		goto out;
	}
	if (itl_write_file(out, b.p, b.len, &e)) {
		cli_failf("%s", e.msg);
		goto out;
	}
	printf("%s: %zu bytes, header %zu, %zu records, signed with %s by "
	       "%s\n",
	    out, b.len, f->header_len, f->nrecs, itl_hash_name(bo.hash),
	    v.signer);
	for (size_t i = 0; i < f->nrecs; i++) {
		const struct itl_record *r = &f->recs[i];
		printf("  record %zu: %-10s %.*s\n", i + 1,
		    itl_role_name(r->role), (int)r->subject.n, r->subject.p);
	}
	rc = 0;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	itl_free(f);
	buf_free(&b);
	cm_config_free(cfg);
	for (size_t i = 0; i < MAX_RECORDS; i++)
		X509_free(st->certs[i]);
	X509_free(sx);
	EVP_PKEY_free(sk);
	free(st);
	return rc;
}

/* Reads and parses FILE; prints the reason and returns 1 when it fails. */
static int
load(const char *path, unsigned char **datap, struct itl_file **fp)
{
	struct pki_err e;
	struct itl_err ie;
	size_t len;

	if (itl_read_file(path, datap, &len, &e))
		return cli_failf("%s", e.msg);
	if (itl_parse(fp, *datap, len, &ie)) {
		free(*datap);
		*datap = NULL;
		return cli_failf("%s: offset %zu: %s", path, ie.offset, ie.msg);
	}
	return 0;
}

static int
itl_show_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"hex", no_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *file = NULL;
	unsigned char *data = NULL;
	struct itl_file *f = NULL;
	bool hex = false;
	int opt;

	set_prog(argv, "show");
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'x':
			hex = true;
			break;
		case 'h':
			fputs(usage_show, stdout);
			return 0;
		default:
			return cli_usage_error(NULL);
		}
	}
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc)
		return cli_usage_error(
		    "unexpected argument '%s'", argv[optind]);
	if (file == NULL)
		return cli_usage_error("give the FILE to show");
	if (load(file, &data, &f))
		return 1;
	printf("%s: ", file);
	itl_print(stdout, f, hex);
	itl_free(f);
	free(data);
	return 0;
}

static int
itl_verify_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"signer", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *file = NULL, *signer = NULL;
	unsigned char *data = NULL;
	struct itl_file *f = NULL;
	struct itl_verified v;
	struct itl_err ie;
	struct pki_err e;
	X509 *sx = NULL;
	int opt, rc = 1;

	set_prog(argv, "verify");
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			signer = optarg;
			break;
		case 'h':
			fputs(usage_verify, stdout);
			return 0;
		default:
			return cli_usage_error(NULL);
		}
	}
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc)
		return cli_usage_error(
		    "unexpected argument '%s'", argv[optind]);
	if (file == NULL)
		return cli_usage_error("give the FILE to verify");
	if (signer && pki_cert_load(&sx, signer, &e))
		return cli_failf("%s", e.msg);
	if (load(file, &data, &f))
		goto out;
	if (itl_verify(f, sx, &v, &ie)) {
		cli_failf("%s: offset %zu: %s", file, ie.offset, ie.msg);
		goto out;
	}
	printf("%s: signature OK (%s, RSA %d bits), ", file,
	    itl_hash_name(v.hash), v.key_bits);
	if (v.by_cert && v.record >= 0)
		printf("signed by the given certificate %s, which is SAST "
		       "record %d\n",
		    v.signer, v.record + 1);
	else if (v.by_cert)
		printf("signed by the given certificate %s, which the file "
		       "does not list as a SAST record\n",
		    v.signer);
	else
		printf(
		    "signed by SAST record %d: %s\n", v.record + 1, v.signer);
	rc = 0;
out:
	itl_free(f);
	free(data);
	X509_free(sx);
	return rc;
}

int
cli_itl(int argc, char **argv)
{
	static const struct cli_cmd subs[] = {
	    {"build", NULL, itl_build_cmd},
	    {"show", NULL, itl_show_cmd},
	    {"verify", NULL, itl_verify_cmd},
	};

	snprintf(cli_progname, sizeof(cli_progname), "ngvoice itl");
	return cli_dispatch("ngvoice itl", subs, sizeof(subs) / sizeof(subs[0]),
	    usage_itl, argc, argv);
}
