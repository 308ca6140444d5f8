/* ngvoice cert: identity certificates, CSRs, a lab CA, trust stores and certificate details, as the guide's certificate pages do them. */
#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "pki/ca.h"
#include "pki/cert.h"
#include "pki/csr.h"
#include "pki/file.h"
#include "pki/role.h"
#include "pki/show.h"
#include "pki/store.h"

#define EXIT_USAGE 2

static const char usage_cert[] =
    "usage: ngvoice cert <command> [options]\n"
    "\n"
    "Identity certificates, certificate signing requests, a lab CA and "
    "trust stores,\nas the guide's certificate management pages do them.\n"
    "\n"
    "commands:\n"
    "  generate  make a key and a self-signed identity certificate for a "
    "role\n"
    "  csr       make a key and a certificate signing request for a role\n"
    "  ca        a lab CA: 'ca init' makes one, 'ca sign' signs a request\n"
    "  import    replace a role's certificate with a CA-signed one\n"
    "  trust     the trust stores: 'trust add', 'list', 'remove', "
    "'bundle'\n"
    "  show      print a certificate's details; with --trust, verify it\n"
    "\n"
    "roles (files DIR/NAME.pem and DIR/NAME.key, NAME as in the guide):\n"
    "  callmanager        CallManager        RSA  call manager SIP TLS "
    "identity\n"
    "  callmanager-ecdsa  CallManager-ECDSA  EC   call manager SIP TLS "
    "identity\n"
    "  tomcat             tomcat             RSA  voicemail server "
    "identity\n"
    "  tomcat-ecdsa       tomcat-ECDSA       EC   voicemail server "
    "identity\n"
    "  itlrecovery        ITLRecovery        RSA  signs the ITL file\n"
    "\n"
    "Run 'ngvoice cert <command> --help' for the options of one command.\n"
    "Exit status: 0 done, 1 an error (named on stderr), 2 a usage error.\n";

static const char usage_generate[] =
    "usage: ngvoice cert generate --role ROLE --cn NAME [--san NAME]...\n"
    "           [--key TYPE] [--days N] --out DIR [--force]\n"
    "\n"
    "Makes a new key and a self-signed identity certificate for ROLE:\n"
    "DIR/NAME.pem and DIR/NAME.key (mode 0600), NAME the guide's name\n"
    "(CallManager, CallManager-ECDSA, tomcat, tomcat-ECDSA, ITLRecovery).\n"
    "\n"
    "  --role ROLE   " PKI_ROLE_LIST "\n"
    "  --cn NAME     subject common name: the server's FQDN for the RSA\n"
    "                identities; the -ECDSA ones may use another CN and\n"
    "                carry the FQDN in --san\n"
    "  --san NAME    a subject alternative name: host name or IP address\n"
    "                (DNS: or IP: prefix optional); repeat or separate with\n"
    "                commas. No wildcards.\n"
    "  --key TYPE    rsa:2048 (default for RSA roles), rsa:3072, rsa:4096,\n"
    "                ec:p256 (default for -ECDSA roles), ec:p384, ec:p521\n"
    "  --days N      validity; default 1825 (5 years), ITLRecovery 7300\n"
    "  --out DIR     the identity directory (created, mode 0700)\n"
    "  --force       replace an existing identity of this role\n"
    "\n"
    "Key usage: digitalSignature (+ keyEncipherment for RSA); extended key\n"
    "usage serverAuth, clientAuth (ITLRecovery: digitalSignature only);\n"
    "basicConstraints CA:FALSE. Peers trust the certificate itself: add\n"
    "DIR/NAME.pem to their trust store (ngvoice cert trust add).\n";

static const char usage_csr[] =
    "usage: ngvoice cert csr --role ROLE --cn NAME [--san NAME]... [--key "
    "TYPE]\n"
    "           --out DIR [--force]\n"
    "\n"
    "Makes a new key DIR/NAME.key (mode 0600) and a certificate signing\n"
    "request DIR/NAME.csr for ROLE, to be signed by a CA (a third-party CA,\n"
    "or 'ngvoice cert ca sign'). Then install the signed certificate with\n"
    "'ngvoice cert import'. Options as for 'ngvoice cert generate'.\n"
    "\n"
    "The request asks for the SANs, key usage digitalSignature (+\n"
    "keyEncipherment for RSA) and extended key usage serverAuth,\n"
    "clientAuth. --force replaces an existing key: DIR/NAME.pem then no\n"
    "longer matches it until the signed certificate is imported.\n";

static const char usage_ca[] =
    "usage: ngvoice cert ca init --out DIR [--cn NAME] [--intermediate]\n"
    "           [--key TYPE] [--days N] [--password-file F] [--force]\n"
    "       ngvoice cert ca sign --ca DIR --csr FILE --out FILE [--days N]\n"
    "           [--password-file F]\n"
    "\n"
    "A lab certificate authority, for the guide's third-party CA path.\n"
    "\n"
    "ca init makes DIR/ca.pem and DIR/ca.key (the root) and with\n"
    "--intermediate DIR/intermediate.pem and DIR/intermediate.key, signed\n"
    "by the root.\n"
    "  --cn NAME          root CN (default \"ngvoice lab root CA\"); the\n"
    "                     intermediate gets \"NAME intermediate\"\n"
    "  --key TYPE         ec:p384 (default), ec:p256, ec:p521, rsa:2048,\n"
    "                     rsa:3072, rsa:4096\n"
    "  --days N           root validity, default 3650; the intermediate\n"
    "                     gets half\n"
    "  --password-file F  encrypt the CA keys with the password in F\n"
    "  --force            replace a CA already in DIR\n"
    "\n"
    "ca sign signs a request with the intermediate when DIR has one, else\n"
    "with the root. The certificate keeps the request's subject and SANs,\n"
    "gets extended key usage serverAuth, clientAuth and CA:FALSE, is valid\n"
    "for --days (default 1825, never beyond the CA). FILE gets the\n"
    "certificate, then the intermediate.\n"
    "  --password-file F  the password of an encrypted CA key\n"
    "\n"
    "Peers trust DIR/ca.pem (ngvoice cert trust add); import the signed\n"
    "certificate with 'ngvoice cert import'.\n";

static const char usage_import[] =
    "usage: ngvoice cert import --role ROLE --cert FILE --dir DIR\n"
    "           [--password-file F]\n"
    "\n"
    "Replaces DIR/NAME.pem, the certificate of ROLE, with the CA-signed\n"
    "certificate in FILE (PEM, or DER; a chain is fine: the intermediates\n"
    "are kept after it, a root is left out). Refused when FILE holds no\n"
    "certificate matching DIR/NAME.key, the certificate is a CA\n"
    "certificate, has the wrong key type for the role, an unsupported key,\n"
    "or is expired or not yet valid.\n"
    "  --password-file F  the password of an encrypted DIR/NAME.key\n"
    "\n"
    "Restart the service that uses the identity afterwards, as the guide\n"
    "says.\n";

static const char usage_trust[] =
    "usage: ngvoice cert trust add --store STORE --dir DIR [--name NAME] "
    "FILE...\n"
    "       ngvoice cert trust list [--store STORE] --dir DIR\n"
    "       ngvoice cert trust remove --store STORE --dir DIR NAME...\n"
    "       ngvoice cert trust bundle --store STORE --dir DIR [--out FILE]\n"
    "\n"
    "Trust stores: DIR/STORE/, one PEM file per certificate, named after\n"
    "its subject CN (or --name). STORE is callmanager-trust (SIP TLS\n"
    "peers: the peer's identities, or the CA root and intermediate that\n"
    "signed them) or tomcat-trust (HTTPS peers).\n"
    "\n"
    "  add     adds every certificate of each FILE; one already there is\n"
    "          reported, not added twice\n"
    "  list    the certificates, with their subject, expiry and kind\n"
    "  remove  removes entries by name (as 'list' shows them)\n"
    "  bundle  writes the store as one PEM file, usable as an OpenSSL\n"
    "          CAfile (default DIR/STORE.pem)\n";

static const char usage_show[] =
    "usage: ngvoice cert show FILE [--trust FILE|DIR]\n"
    "       ngvoice cert show --role ROLE --dir DIR [--trust FILE|DIR]\n"
    "\n"
    "Prints each certificate in FILE (or DIR/NAME.pem of ROLE): subject,\n"
    "subject alternative names, issuer, serial, key type and size or curve,\n"
    "validity with the days left, SHA-256 and SHA-1 fingerprints, key\n"
    "usage, extended key usage, CA flag.\n"
    "\n"
    "  --trust FILE|DIR  verify the first certificate, with the others in\n"
    "                    FILE as intermediates, against a PEM bundle or a\n"
    "                    trust store directory; says why when it does not\n"
    "                    (exit status 1)\n";

/* The name getopt and the messages use: "ngvoice cert generate". */
static void
set_prog(char **argv, const char *sub)
{
	cli_set_prog(argv, "ngvoice cert", sub);
}

static int
fail(const struct pki_err *e)
{
	fprintf(stderr, "%s: %s\n", cli_progname, e->msg);
	return 1;
}

static int
parse_days(const char *s, int *days)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v <= 0 || v > 36500)
		return cli_usage_error(
		    "--days %s: give a number of days, 1 to 36500", s);
	*days = (int)v;
	return 0;
}

/* A password read from a file; wiped by pw_wipe() on every path. */
struct pw {
	char buf[1024];
	bool set;
};

static int
pw_load(struct pw *pw, const char *file)
{
	struct pki_err e;

	pw->set = false;
	if (file == NULL)
		return 0;
	if (pki_password_read(file, pw->buf, sizeof(pw->buf), &e) != 0)
		return fail(&e);
	pw->set = true;
	return 0;
}

static const char *
pw_get(const struct pw *pw)
{
	return pw->set ? pw->buf : NULL;
}

static void
pw_wipe(struct pw *pw)
{
	OPENSSL_cleanse(pw->buf, sizeof(pw->buf));
	pw->set = false;
}

/* A key error, with the option that fixes it when that is the problem. */
static int
fail_key(int err, const struct pki_err *e, const struct pw *pw)
{
	if (err == EACCES && !pw->set)
		return cli_failf(
		    "%s (give it with --password-file FILE)", e->msg);
	return fail(e);
}

static int
make_dir(const char *dir)
{
	struct pki_err e;

	return pki_dir_make(dir, 0700, &e) ? fail(&e) : 0;
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Prints the details of the one certificate at path. */
static void
print_cert_file(const char *path)
{
	struct pki_err e;
	X509 *x;

	if (pki_cert_load(&x, path, &e) == 0) {
		pki_show_cert(stdout, x);
		X509_free(x);
	}
}

/* The options generate and csr share. */
struct ident_opts {
	const char *role, *cn, *key, *out;
	char san[2048];
	int days;
	bool force;
};

static int
ident_parse(
    int argc, char **argv, struct ident_opts *o, bool csr, const char *usage)
{
	static const struct option opts[] = {
	    {"role", required_argument, NULL, 'r'},
	    {"cn", required_argument, NULL, 'c'},
	    {"san", required_argument, NULL, 's'},
	    {"key", required_argument, NULL, 'k'},
	    {"days", required_argument, NULL, 'd'},
	    {"out", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct pki_err e;
	int opt, rc;

	memset(o, 0, sizeof(*o));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			o->role = optarg;
			break;
		case 'c':
			o->cn = optarg;
			break;
		case 's':
			if (pki_san_append(o->san, sizeof(o->san), optarg, &e))
				return fail(&e);
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'd':
			if (csr)
				return cli_usage_error(
				    "--days: the CA decides the validity");
			if ((rc = parse_days(optarg, &o->days)))
				return rc;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'f':
			o->force = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			return cli_usage_error(NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error(
		    "unexpected argument '%s'", argv[optind]);
	if (!o->role || !o->cn || !o->out)
		return cli_usage_error("--role, --cn and --out are needed");
	return 0;
}

static void
ecdsa_san_note(enum pki_role r, const char *san)
{
	if (pki_role_is_ec(r) && san[0] == '\0')
		fprintf(stderr,
		    "%s: note: no --san: an EC identity such as %s usually "
		    "carries the server's FQDN in its subject alternative "
		    "name (tomcat-ECDSA does in the guide)\n",
		    cli_progname, pki_role_file(r));
}

static int
cert_generate(int argc, char **argv)
{
	struct ident_opts o;
	struct pki_ident_spec spec;
	struct pki_err e;
	enum pki_role r;
	char cert[4096], key[4096];
	int rc;

	set_prog(argv, "generate");
	if ((rc = ident_parse(argc, argv, &o, false, usage_generate)))
		return rc < 0 ? 0 : rc;
	if (pki_role_parse(&r, o.role, &e) ||
	    pki_role_spec(&spec, r, o.cn, o.san, o.key, o.days, &e))
		return fail(&e);
	if (pki_role_path(cert, sizeof(cert), o.out, r, "pem") ||
	    pki_role_path(key, sizeof(key), o.out, r, "key"))
		return cli_failf("%s: directory name too long", o.out);
	if (!o.force && (exists(key) || exists(cert)))
		return cli_failf(
		    "%s: the %s identity exists; --force replaces it "
		    "(peers that trust the old certificate then need "
		    "the new one)",
		    exists(key) ? key : cert, pki_role_file(r));
	if ((rc = make_dir(o.out)))
		return rc;
	if (pki_ident_generate(&spec, cert, key, &e))
		return fail(&e);
	ecdsa_san_note(r, o.san);
	printf("%s: wrote %s and %s (mode 0600), self-signed, %s\n",
	    pki_role_file(r), cert, key, pki_keytype_name(spec.key));
	print_cert_file(cert);
	return 0;
}

static int
cert_csr(int argc, char **argv)
{
	struct ident_opts o;
	struct pki_ident_spec spec;
	struct pki_err e;
	enum pki_role r;
	char csr[4096], key[4096], pem[4096];
	int rc;

	set_prog(argv, "csr");
	if ((rc = ident_parse(argc, argv, &o, true, usage_csr)))
		return rc < 0 ? 0 : rc;
	if (pki_role_parse(&r, o.role, &e) ||
	    pki_role_spec(&spec, r, o.cn, o.san, o.key, 0, &e))
		return fail(&e);
	if (pki_role_path(csr, sizeof(csr), o.out, r, "csr") ||
	    pki_role_path(key, sizeof(key), o.out, r, "key") ||
	    pki_role_path(pem, sizeof(pem), o.out, r, "pem"))
		return cli_failf("%s: directory name too long", o.out);
	if (!o.force && exists(key))
		return cli_failf("%s exists; --force replaces the key (%s then "
		                 "needs the signed certificate imported)",
		    key, pki_role_file(r));
	if ((rc = make_dir(o.out)))
		return rc;
	if (pki_csr_generate(&spec, csr, key, &e))
		return fail(&e);
	ecdsa_san_note(r, o.san);
	printf("%s: wrote %s and its key %s (mode 0600), CN=%s%s%s, %s\n",
	    pki_role_file(r), csr, key, o.cn, o.san[0] ? ", " : "", o.san,
	    pki_keytype_name(spec.key));
	if (exists(pem))
		printf("%s no longer matches the key until the signed "
		       "certificate is imported.\n",
		    pem);
	printf("Have the CA sign %s, then:\n  ngvoice cert import --role %s "
	       "--cert SIGNED.pem --dir %s\n",
	    csr, pki_role_name(r), o.out);
	return 0;
}

static int
ca_init(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"cn", required_argument, NULL, 'c'},
	    {"intermediate", no_argument, NULL, 'i'},
	    {"key", required_argument, NULL, 'k'},
	    {"days", required_argument, NULL, 'd'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct pki_ca_spec spec = {.key = PKI_KEY_EC_P384};
	const char *out = NULL, *pwfile = NULL;
	struct pki_err e;
	struct pw pw;
	int opt, rc;

	set_prog(argv, "ca init");
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'c':
			spec.cn = optarg;
			break;
		case 'i':
			spec.intermediate = true;
			break;
		case 'k':
			if (pki_keytype_parse(&spec.key, optarg, &e))
				return fail(&e);
			break;
		case 'd':
			if ((rc = parse_days(optarg, &spec.days)))
				return rc;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'f':
			spec.force = true;
			break;
		case 'h':
			fputs(usage_ca, stdout);
			return 0;
		default:
			return cli_usage_error(NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error(
		    "unexpected argument '%s'", argv[optind]);
	if (out == NULL)
		return cli_usage_error("--out DIR is needed");
	if ((rc = pw_load(&pw, pwfile)))
		return rc;
	spec.pass = pw_get(&pw);
	rc = pki_ca_init(out, &spec, &e);
	pw_wipe(&pw);
	if (rc)
		return fail(&e);
	printf("CA in %s: %s/%s and %s/%s (mode 0600%s)", out, out,
	    PKI_CA_ROOT_CERT, out, PKI_CA_ROOT_KEY,
	    pwfile ? ", encrypted" : "");
	if (spec.intermediate)
		printf(", intermediate %s/%s and %s/%s", out, PKI_CA_INT_CERT,
		    out, PKI_CA_INT_KEY);
	printf(", %s\n", pki_keytype_name(spec.key));
	printf("Peers trust the root: ngvoice cert trust add --store "
	       "callmanager-trust --dir PEERDIR %s/%s%s%s%s\n",
	    out, PKI_CA_ROOT_CERT, spec.intermediate ? " " : "",
	    spec.intermediate ? out : "",
	    spec.intermediate ? "/" PKI_CA_INT_CERT : "");
	return 0;
}

static int
ca_sign(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"ca", required_argument, NULL, 'a'},
	    {"csr", required_argument, NULL, 'c'},
	    {"out", required_argument, NULL, 'o'},
	    {"days", required_argument, NULL, 'd'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *ca = NULL, *csr = NULL, *out = NULL, *pwfile = NULL;
	struct pki_err e;
	struct pw pw;
	int opt, rc, days = 0;

	set_prog(argv, "ca sign");
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			ca = optarg;
			break;
		case 'c':
			csr = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'd':
			if ((rc = parse_days(optarg, &days)))
				return rc;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'h':
			fputs(usage_ca, stdout);
			return 0;
		default:
			return cli_usage_error(NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error(
		    "unexpected argument '%s'", argv[optind]);
	if (!ca || !csr || !out)
		return cli_usage_error("--ca, --csr and --out are needed");
	if ((rc = pw_load(&pw, pwfile)))
		return rc;
	rc = pki_ca_sign(ca, csr, out, days, pw_get(&pw), &e);
	if (rc) {
		rc = fail_key(rc, &e, &pw);
		pw_wipe(&pw);
		return rc;
	}
	pw_wipe(&pw);
	printf("signed %s: wrote %s\n", csr, out);
	print_cert_file(out);
	return 0;
}

static int
cert_ca(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_ca, stderr);
		return EXIT_USAGE;
	}
	if (cli_is_help(argv[1])) {
		fputs(usage_ca, stdout);
		return 0;
	}
	if (strcmp(argv[1], "init") == 0)
		return ca_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "sign") == 0)
		return ca_sign(argc - 1, argv + 1);
	set_prog(argv, "ca");
	return cli_usage_error("unknown command '%s': init or sign", argv[1]);
}

static int
cert_import(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"role", required_argument, NULL, 'r'},
	    {"cert", required_argument, NULL, 'c'},
	    {"dir", required_argument, NULL, 'd'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *role = NULL, *cert = NULL, *dir = NULL, *pwfile = NULL;
	struct pki_err e;
	enum pki_role r;
	char pem[4096];
	struct pw pw;
	int opt, rc;

	set_prog(argv, "import");
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			role = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'h':
			fputs(usage_import, stdout);
			return 0;
		default:
			return cli_usage_error(NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error(
		    "unexpected argument '%s'", argv[optind]);
	if (!role || !cert || !dir)
		return cli_usage_error("--role, --cert and --dir are needed");
	if (pki_role_parse(&r, role, &e))
		return fail(&e);
	if ((rc = pw_load(&pw, pwfile)))
		return rc;
	rc = pki_role_import(dir, r, cert, pw_get(&pw), &e);
	if (rc) {
		rc = fail_key(rc, &e, &pw);
		pw_wipe(&pw);
		return rc;
	}
	pw_wipe(&pw);
	pki_role_path(pem, sizeof(pem), dir, r, "pem");
	printf("%s: %s now holds the certificate from %s; restart the "
	       "service that uses it\n",
	    pki_role_file(r), pem, cert);
	print_cert_file(pem);
	return 0;
}

/* The options of the trust subcommands. */
struct trust_opts {
	const char *store, *dir, *name, *out;
	enum pki_store st;
	char storedir[4096];
};

static int
trust_parse(int argc, char **argv, struct trust_opts *o, bool store_needed)
{
	static const struct option opts[] = {
	    {"store", required_argument, NULL, 's'},
	    {"dir", required_argument, NULL, 'd'},
	    {"name", required_argument, NULL, 'n'},
	    {"out", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct pki_err e;
	int opt;

	memset(o, 0, sizeof(*o));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			o->store = optarg;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'h':
			fputs(usage_trust, stdout);
			return -1;
		default:
			return cli_usage_error(NULL);
		}
	}
	if (o->name && strcmp(cli_progname, "ngvoice cert trust add") != 0)
		return cli_usage_error("--name is for 'trust add'");
	if (o->out && strcmp(cli_progname, "ngvoice cert trust bundle") != 0)
		return cli_usage_error("--out is for 'trust bundle'");
	if (o->dir == NULL || (store_needed && o->store == NULL))
		return cli_usage_error(store_needed
		                           ? "--store and --dir are needed"
		                           : "--dir is needed");
	if (o->store) {
		if (pki_store_parse(&o->st, o->store, &e))
			return fail(&e);
		if (pki_store_path(
		        o->storedir, sizeof(o->storedir), o->dir, o->st))
			return cli_failf("%s: directory name too long", o->dir);
	}
	return 0;
}

static const char *
cert_kind(X509 *x)
{
	if (X509_check_ca(x) >= 1)
		return X509_self_signed(x, 0) == 1 ? "root CA" : "CA";
	return X509_self_signed(x, 0) == 1 ? "self-signed" : "issued";
}

static int
trust_add(int argc, char **argv)
{
	struct trust_opts o;
	STACK_OF(X509) * *chains;
	struct pki_err e;
	int rc, nfiles, total = 0;

	set_prog(argv, "trust add");
	if ((rc = trust_parse(argc, argv, &o, true)))
		return rc < 0 ? 0 : rc;
	nfiles = argc - optind;
	if (nfiles <= 0)
		return cli_usage_error("no FILE to add");
	if ((chains = calloc((size_t)nfiles, sizeof(*chains))) == NULL)
		return cli_failf("out of memory");
	/* Every file reads before anything is added. */
	rc = 0;
	for (int i = 0; i < nfiles && rc == 0; i++) {
		if (pki_certs_load(&chains[i], argv[optind + i], &e))
			rc = fail(&e);
		else
			total += sk_X509_num(chains[i]);
	}
	if (rc == 0 && o.name && total > 1)
		rc = cli_usage_error(
		    "--name names one certificate; the files hold "
		    "%d",
		    total);
	for (int i = 0; i < nfiles && rc == 0; i++) {
		for (int j = 0; j < sk_X509_num(chains[i]) && rc == 0; j++) {
			X509 *x = sk_X509_value(chains[i], j);
			char name[256], subj[256], when[64];
			bool existed;

			if (pki_store_add(o.storedir, x, o.name, name,
			        sizeof(name), &existed, &e)) {
				rc = fail(&e);
				break;
			}
			pki_subject_fmt(x, subj, sizeof(subj));
			printf("%s %s/%s.pem: %s (%s)\n",
			    existed ? "already in" : "added", o.store, name,
			    subj, cert_kind(x));
			if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0)
				fprintf(stderr,
				    "%s: note: %s expired on %s: it will not "
				    "verify anything\n",
				    cli_progname, subj,
				    pki_time_fmt(X509_get0_notAfter(x), when,
				        sizeof(when)));
			if (X509_check_ca(x) < 1 && X509_self_signed(x, 0) != 1)
				fprintf(stderr,
				    "%s: note: %s is neither a CA nor "
				    "self-signed: OpenSSL trusts it only "
				    "through its issuer; add the CA that "
				    "signed it\n",
				    cli_progname, subj);
		}
	}
	for (int i = 0; i < nfiles; i++)
		sk_X509_pop_free(chains[i], X509_free);
	free(chains);
	return rc;
}

static int
list_one(const char *dir, enum pki_store st)
{
	struct pki_store_entry *ents;
	char storedir[4096];
	struct pki_err e;
	size_t n;

	if (pki_store_path(storedir, sizeof(storedir), dir, st))
		return cli_failf("%s: directory name too long", dir);
	if (pki_store_list(storedir, &ents, &n, &e))
		return fail(&e);
	printf("%s (%s): %zu certificate%s\n", pki_store_name(st), storedir, n,
	    n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		char subj[256], when[64], fp[128];
		X509 *x = ents[i].cert;
		bool expired =
		    X509_cmp_current_time(X509_get0_notAfter(x)) <= 0;

		printf("  %-28s %s, %s, %s %s, SHA-256 %.23s...\n",
		    ents[i].name, pki_subject_fmt(x, subj, sizeof(subj)),
		    cert_kind(x), expired ? "EXPIRED" : "until",
		    pki_time_fmt(X509_get0_notAfter(x), when, sizeof(when)),
		    pki_fingerprint(x, EVP_sha256(), fp, sizeof(fp)));
	}
	pki_store_entries_free(ents, n);
	return 0;
}

static int
trust_list(int argc, char **argv)
{
	struct trust_opts o;
	int rc;

	set_prog(argv, "trust list");
	if ((rc = trust_parse(argc, argv, &o, false)))
		return rc < 0 ? 0 : rc;
	if (optind < argc)
		return cli_usage_error(
		    "unexpected argument '%s'", argv[optind]);
	if (o.store)
		return list_one(o.dir, o.st);
	for (int i = 0; i < PKI_STORE__COUNT; i++) {
		if ((rc = list_one(o.dir, (enum pki_store)i)))
			return rc;
	}
	return 0;
}

static int
trust_remove(int argc, char **argv)
{
	struct trust_opts o;
	struct pki_err e;
	int rc;

	set_prog(argv, "trust remove");
	if ((rc = trust_parse(argc, argv, &o, true)))
		return rc < 0 ? 0 : rc;
	if (optind >= argc)
		return cli_usage_error("no NAME to remove (see 'trust list')");
	for (int i = optind; i < argc; i++) {
		if (pki_store_remove(o.storedir, argv[i], &e))
			return fail(&e);
		printf("removed %s from %s\n", argv[i], o.store);
	}
	return 0;
}

static int
trust_bundle(int argc, char **argv)
{
	struct trust_opts o;
	struct pki_err e;
	char out[4096];
	size_t n = 0;
	int rc;

	set_prog(argv, "trust bundle");
	if ((rc = trust_parse(argc, argv, &o, true)))
		return rc < 0 ? 0 : rc;
	if (optind < argc)
		return cli_usage_error(
		    "unexpected argument '%s'", argv[optind]);
	if (o.out)
		snprintf(out, sizeof(out), "%s", o.out);
	else if ((size_t)snprintf(out, sizeof(out), "%s.pem", o.storedir) >=
	         sizeof(out))
		return cli_failf("%s: directory name too long", o.dir);
	if (pki_store_bundle(o.storedir, out, &n, &e))
		return fail(&e);
	printf("wrote %s: %zu certificate%s of %s, usable as an OpenSSL "
	       "CAfile\n",
	    out, n, n == 1 ? "" : "s", o.store);
	return 0;
}

static int
cert_trust(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {
	    {"add", trust_add},
	    {"list", trust_list},
	    {"remove", trust_remove},
	    {"bundle", trust_bundle},
	};

	if (argc < 2) {
		fputs(usage_trust, stderr);
		return EXIT_USAGE;
	}
	if (cli_is_help(argv[1])) {
		fputs(usage_trust, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1);
	}
	set_prog(argv, "trust");
	return cli_usage_error(
	    "unknown command '%s': add, list, remove or bundle", argv[1]);
}

static int
cert_show(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"role", required_argument, NULL, 'r'},
	    {"dir", required_argument, NULL, 'd'},
	    {"trust", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *role = NULL, *dir = NULL, *trust = NULL, *file = NULL;
	STACK_OF(X509) *chain = NULL;
	X509_STORE *store = NULL;
	struct pki_err e;
	char path[4096], why[1024];
	enum pki_role r;
	int opt, n, rc = 0;

	set_prog(argv, "show");
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			role = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 't':
			trust = optarg;
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
	if ((file == NULL) == (role == NULL) || (role && !dir))
		return cli_usage_error("give FILE, or --role and --dir");
	if (role) {
		if (pki_role_parse(&r, role, &e))
			return fail(&e);
		if (pki_role_path(path, sizeof(path), dir, r, "pem"))
			return cli_failf("%s: directory name too long", dir);
		file = path;
	}
	if (pki_certs_load(&chain, file, &e))
		return fail(&e);
	if (trust && pki_trust_load(&store, trust, &e)) {
		sk_X509_pop_free(chain, X509_free);
		return fail(&e);
	}
	n = sk_X509_num(chain);
	printf("file:          %s\n", file);
	for (int i = 0; i < n; i++) {
		if (n > 1)
			printf("%scertificate %d of %d\n", i ? "\n" : "", i + 1,
			    n);
		pki_show_cert(stdout, sk_X509_value(chain, i));
	}
	if (store) {
		X509 *leaf = sk_X509_shift(chain);
		if (pki_verify(leaf, chain, store, why, sizeof(why)) == 0)
			printf(
			    "verify:        OK against %s: %s\n", trust, why);
		else {
			printf("verify:        FAILED against %s: %s\n", trust,
			    why);
			rc = cli_failf("%s does not verify against %s: %s",
			    file, trust, why);
		}
		X509_free(leaf);
		X509_STORE_free(store);
	}
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

int
cli_cert(int argc, char **argv)
{
	static const struct cli_cmd subs[] = {
	    {"generate", NULL, cert_generate},
	    {"csr", NULL, cert_csr},
	    {"ca", NULL, cert_ca},
	    {"import", NULL, cert_import},
	    {"trust", NULL, cert_trust},
	    {"show", NULL, cert_show},
	};

	snprintf(cli_progname, sizeof(cli_progname), "ngvoice cert");
	return cli_dispatch("ngvoice cert", subs,
	    sizeof(subs) / sizeof(subs[0]), usage_cert, argc, argv);
}
