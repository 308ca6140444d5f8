/* ngvoice phone: a secure SIP phone for tests: register, dial, play, record, digits, MWI. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/phone_ua.h"
#include "core/log.h"
#include "media/stream.h"
#include "sdp/sdp.h"

#define REGISTER_WAIT_MS 10000
#define ANSWER_WAIT_MS   60000
#define END_WAIT_MS      10000

struct run {
	struct event_base *base;
	struct phone_ua *ua;
	const struct phone_ua_conf *conf;
	bool json;
	const char *dialled;
	/* what happened */
	bool reg_done, unreg_done, answered, call_done, stop;
	bool settled; /* answered or failed */
	unsigned mwi_seen;
	double t_answer;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ngvoice phone --registrar HOST:PORT --user NUMBER "
	    "[--password P]\n"
	    "           [--transport tls|tcp|udp] [--cert F --key F] "
	    "[--trust F]\n"
	    "           [--tls-ciphers LABEL] [--tls-name NAME] "
	    "[--domain NAME]\n"
	    "           [--srtp-ciphers all|gcm|gcm256|none|LIST] [--dial "
	    "NUMBER]\n"
	    "           [--play FILE.wav] [--record FILE.wav] [--digits "
	    "LIST]\n"
	    "           [--duration SECONDS] [--wait-mwi SECONDS]\n"
	    "           [--incoming busy|ring|answer] [--local-ip ADDR] "
	    "[--json] [--debug]\n\n"
	    "A small SIP phone for administrators and tests. It registers "
	    "one line with\nthe call manager (digest authentication), "
	    "optionally places a call with SRTP,\nplays a WAV file into it, "
	    "records what it hears, sends digits, hangs up, and\nreports "
	    "what it saw, one line per event. Exit status 0 only when all "
	    "that was\nasked worked; 1 with the reason otherwise; 2 for "
	    "bad options.\n\n"
	    "  --registrar HOST:PORT  the call manager (port default 5061 "
	    "for TLS, else\n"
	    "                         5060); for TLS, HOST is also the "
	    "name its\n"
	    "                         certificate must carry (see "
	    "--tls-name)\n"
	    "  --user NUMBER          the directory number (line) to "
	    "register\n"
	    "  --password P           its digest password (or the "
	    "environment variable\n"
	    "                         NGV_PHONE_PASSWORD, kept out of ps)\n"
	    "  --transport T          tls (default), tcp or udp\n"
	    "  --cert F --key F       TLS identity (PEM) to present: "
	    "required by a call\n"
	    "                         manager that verifies phones; the "
	    "call manager's\n"
	    "                         trust store must hold the "
	    "certificate\n"
	    "  --trust F              PEM bundle to verify the call "
	    "manager's certificate;\n"
	    "                         without it the server is not "
	    "verified (warned)\n"
	    "  --tls-ciphers LABEL    a TLS Ciphers option, label or slug "
	    "(default\n"
	    "                         all-rsa: \"All Ciphers RSA "
	    "Preferred\")\n"
	    "  --tls-name NAME        the name the server certificate must "
	    "carry, when\n"
	    "                         HOST is an IP address or differs\n"
	    "  --domain NAME          the domain of the line's address "
	    "(default: HOST)\n"
	    "  --srtp-ciphers S       SRTP suites offered: an SRTP Ciphers "
	    "option (all,\n"
	    "                         gcm, gcm256 or its label), none for "
	    "plain RTP, or a\n"
	    "                         comma list of suites in offer order "
	    "(e.g.\n"
	    "                         AEAD_AES_256_GCM,AES_CM_128_HMAC_SHA1_"
	    "80); default all\n"
	    "  --dial NUMBER          call this number (or sip: URI) "
	    "through the registrar\n"
	    "  --play FILE.wav        play this 8 kHz mono WAV once the "
	    "call is answered\n"
	    "  --record FILE.wav      record what the far end sends "
	    "(16-bit PCM WAV)\n"
	    "  --digits LIST          digits to send, DIGIT@SECONDS after "
	    "the answer,\n"
	    "                         comma-separated: \"5@2.0,#@3.5\"; "
	    "sent as SIP INFO\n"
	    "                         (application/dtmf-relay) in the "
	    "dialog\n"
	    "  --duration SECONDS     hang up (BYE) this long after the "
	    "answer; 0 (default)\n"
	    "                         waits for the far end's BYE. "
	    "Without --dial: stay\n"
	    "                         registered this long (incoming "
	    "calls)\n"
	    "  --wait-mwi SECONDS     wait this long for a message-summary "
	    "NOTIFY (the MWI\n"
	    "                         lamp) and fail without one\n"
	    "  --incoming MODE        incoming INVITEs: busy (486, "
	    "default), ring (180,\n"
	    "                         never answered) or answer "
	    "(auto-answer with SRTP,\n"
	    "                         playing --play, recording "
	    "--record)\n"
	    "  --local-ip ADDR        address for media and Contact "
	    "(default: toward the\n"
	    "                         registrar)\n"
	    "  --json                 one JSON object per line instead of "
	    "text\n"
	    "  --debug                log every connection and "
	    "transaction\n\n"
	    "Events: registered, ringing, answered (TLS version and cipher, "
	    "SRTP suite,\nCall-Info security), digit, ended (seconds of "
	    "audio heard, packets sent,\nreceived and dropped), mwi, "
	    "incoming. Before exiting the line is\nunregistered. SIGINT "
	    "and SIGTERM hang up and exit.\n");
}

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A JSON string (quotes and control characters escaped). */
static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/*
 * Text: "event: text". JSON: {"event":"name","k":"v",...} from pairs. The
 * pairs come as a NULL-terminated array rather than C varargs, so each key
 * and value is type-checked as a string and the terminator is a real null
 * pointer; the say macro below builds the array.
 */
static void
say_pairs(
    struct run *r, const char *event, const char *text, const char *const *kv)
{
	if (!r->json) {
		printf("%s: %s\n", event, text);
		fflush(stdout);
		return;
	}
	printf("{\"event\":");
	json_str(event);
	for (; kv[0] != NULL; kv += 2) {
		const char *v = kv[1];
		printf(",");
		json_str(kv[0]);
		printf(":");
		/* Values starting with '=' are JSON literals (numbers). */
		if (v[0] == '=')
			printf("%s", v + 1);
		else
			json_str(v);
	}
	printf("}\n");
	fflush(stdout);
}

/* say(r, event, text, "key", value, ...): pairs only, no terminator. */
#define say(r, event, text, ...)                                               \
	say_pairs(                                                             \
	    (r), (event), (text), (const char *const[]){__VA_ARGS__, NULL})

static const char *
suite_name(const struct phone_report *rep)
{
	const struct srtp_suite_info *si = srtp_suite_info(rep->suite);
	return rep->srtp && si ? si->name : "none (RTP)";
}

static void
say_answered(struct run *r, const struct phone_report *rep)
{
	char text[600], code[16];

	snprintf(code, sizeof(code), "=%u", rep->call_status);
	snprintf(text, sizeof(text),
	    "%u %s, %s%s%s%s%s, SRTP %s, %s, security: %s", rep->call_status,
	    rep->call_reason, sip_proto_name(r->conf->proto),
	    rep->tls_version[0] ? " " : "", rep->tls_version,
	    rep->tls_cipher[0] ? " " : "", rep->tls_cipher, suite_name(rep),
	    rep->codec, rep->security[0] ? rep->security : "none");
	say(r, "answered", text, "status", code, "transport",
	    sip_proto_name(r->conf->proto), "tls_version", rep->tls_version,
	    "tls_cipher", rep->tls_cipher, "srtp_suite",
	    rep->srtp ? suite_name(rep) : "", "codec", rep->codec, "security",
	    rep->security);
}

static void
say_ended(struct run *r, const struct phone_report *rep)
{
	char text[400], heard[32], tx[24], rx[24], drop[24];

	snprintf(heard, sizeof(heard), "=%.1f", rep->heard_ms / 1000.0);
	snprintf(tx, sizeof(tx), "=%llu", (unsigned long long)rep->tx_packets);
	snprintf(rx, sizeof(rx), "=%llu", (unsigned long long)rep->rx_packets);
	snprintf(
	    drop, sizeof(drop), "=%llu", (unsigned long long)rep->rx_dropped);
	snprintf(text, sizeof(text),
	    "hung up by %s; heard %.1f s of audio; packets sent %s, "
	    "received %s, dropped %s",
	    rep->ended_by_peer ? "the far end" : "us", rep->heard_ms / 1000.0,
	    tx + 1, rx + 1, drop + 1);
	say(r, "ended", text, "by", rep->ended_by_peer ? "peer" : "us",
	    "heard_s", heard, "tx_packets", tx, "rx_packets", rx, "rx_dropped",
	    drop);
}

static void
event_h(enum phone_event ev, void *arg)
{
	struct run *r = arg;
	struct phone_report rep;
	char text[600], code[16];

	phone_ua_report(r->ua, &rep);
	switch (ev) {
	case PHONE_EV_REGISTERED:
		if (r->reg_done)
			break; /* a refresh */
		r->reg_done = true;
		snprintf(text, sizeof(text), "line %s at %s over %s%s%s%s%s",
		    r->conf->user, r->conf->registrar,
		    sip_proto_name(r->conf->proto),
		    rep.tls_version[0] ? " " : "", rep.tls_version,
		    rep.tls_cipher[0] ? " " : "", rep.tls_cipher);
		say(r, "registered", text, "user", r->conf->user, "transport",
		    sip_proto_name(r->conf->proto), "tls_version",
		    rep.tls_version, "tls_cipher", rep.tls_cipher);
		break;
	case PHONE_EV_REG_FAILED:
		r->reg_done = true;
		snprintf(code, sizeof(code), "=%u", rep.reg_status);
		snprintf(text, sizeof(text), "line %s: %s%s%s", r->conf->user,
		    rep.reg_status ? code + 1 : "", rep.reg_status ? " " : "",
		    rep.reg_reason);
		say(r, "registration-failed", text, "status", code, "reason",
		    rep.reg_reason);
		break;
	case PHONE_EV_UNREGISTERED:
		r->unreg_done = true;
		break;
	case PHONE_EV_RINGING:
		say(r, "ringing", r->dialled ? r->dialled : "", "number",
		    r->dialled ? r->dialled : "");
		break;
	case PHONE_EV_ANSWERED:
		r->answered = r->settled = true;
		r->t_answer = now_ms();
		say_answered(r, &rep);
		break;
	case PHONE_EV_CALL_FAILED:
		r->call_done = r->settled = true;
		snprintf(code, sizeof(code), "=%u", rep.call_status);
		snprintf(text, sizeof(text), "%s: %s%s%s",
		    r->dialled ? r->dialled : "call",
		    rep.call_status ? code + 1 : "", rep.call_status ? " " : "",
		    rep.call_reason);
		say(r, "call-failed", text, "status", code, "reason",
		    rep.call_reason);
		break;
	case PHONE_EV_DIGIT_SENT:
		snprintf(code, sizeof(code), "=%u", rep.digit_status);
		snprintf(text, sizeof(text),
		    "INFO answered %u (%u accepted, %u refused)",
		    rep.digit_status, rep.digits_sent, rep.digits_refused);
		say(r, "digit", text, "status", code);
		break;
	case PHONE_EV_CALL_ENDED:
		r->call_done = true;
		say_ended(r, &rep);
		break;
	case PHONE_EV_MWI:
		r->mwi_seen++;
		snprintf(text, sizeof(text), "%s%s%s",
		    rep.mwi == 1 ? "yes" : "no", rep.mwi_counts[0] ? ", " : "",
		    rep.mwi_counts);
		say(r, "mwi", text, "messages_waiting",
		    rep.mwi == 1 ? "yes" : "no", "voice", rep.mwi_counts);
		break;
	case PHONE_EV_INCOMING:
		snprintf(text, sizeof(text), "from %s: %s", rep.incoming_from,
		    r->conf->incoming == PHONE_IN_ANSWER ? "answering"
		    : r->conf->incoming == PHONE_IN_RING ? "ringing"
		                                         : "busy");
		say(r, "incoming", text, "from", rep.incoming_from);
		break;
	}
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void
signal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	r->stop = true;
}

/* Runs the loop until *flag, a signal, or ms pass (0: no limit). */
static void
run_until(struct run *r, const bool *flag, double ms)
{
	double end = now_ms() + ms;

	while (!*flag && !r->stop && (ms == 0 || now_ms() < end))
		event_base_loop(r->base, EVLOOP_ONCE);
}

static int
parse_srtp(struct phone_ua_conf *c, const char *s)
{
	char buf[256], *save = NULL, *tok;

	c->secure_rtp = true;
	c->nsuites = 0;
	if (strcasecmp(s, "none") == 0 || strcasecmp(s, "rtp") == 0) {
		c->secure_rtp = false;
		return 0;
	}
	if (srtp_option_parse(s, &c->srtp_option) == 0)
		return 0;
	if (strlen(s) >= sizeof(buf))
		return EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		enum srtp_suite su;
		if (sdp_crypto_suite(slice_cstr(tok), &su) != 0 ||
		    c->nsuites >= SRTP_SUITE_COUNT)
			return EINVAL;
		for (size_t i = 0; i < c->nsuites; i++)
			if (c->suites[i] == su)
				return EINVAL;
		c->suites[c->nsuites++] = su;
	}
	return c->nsuites ? 0 : EINVAL;
}

static int
parse_seconds(const char *s, uint32_t *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || v < 0 || v > 86400)
		return EINVAL;
	*ms = (uint32_t)(v * 1000 + 0.5);
	return 0;
}

int
cli_phone(int argc, char **argv)
{
	struct phone_ua_conf conf;
	struct phone_call_opts co;
	struct phone_report rep;
	struct run r;
	const char *dial = NULL;
	uint32_t duration_ms = 0, mwi_ms = 0;
	bool wait_mwi = false, debug = false;
	struct event *tick = NULL, *sigint = NULL, *sigterm = NULL;
	char why[400] = "";
	int opt, err, rc = 1;
	static const struct option opts[] = {
	    {"registrar", required_argument, NULL, 'R'},
	    {"user", required_argument, NULL, 'u'},
	    {"password", required_argument, NULL, 'p'},
	    {"transport", required_argument, NULL, 't'},
	    {"cert", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"trust", required_argument, NULL, 'T'},
	    {"tls-ciphers", required_argument, NULL, 'C'},
	    {"tls-name", required_argument, NULL, 'N'},
	    {"domain", required_argument, NULL, 'D'},
	    {"srtp-ciphers", required_argument, NULL, 'S'},
	    {"dial", required_argument, NULL, 'd'},
	    {"play", required_argument, NULL, 'P'},
	    {"record", required_argument, NULL, 'r'},
	    {"digits", required_argument, NULL, 'g'},
	    {"duration", required_argument, NULL, 'L'},
	    {"wait-mwi", required_argument, NULL, 'M'},
	    {"incoming", required_argument, NULL, 'I'},
	    {"local-ip", required_argument, NULL, 'l'},
	    {"json", no_argument, NULL, 'j'},
	    {"debug", no_argument, NULL, 'G'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};

	cli_set_prog(argv, "ngvoice", "phone");
	memset(&conf, 0, sizeof(conf));
	memset(&co, 0, sizeof(co));
	memset(&r, 0, sizeof(r));
	conf.proto = SIP_PROTO_TLS;
	conf.tls_ciphers = TLS_CIPHERS_DEFAULT_OPTION;
	conf.secure_rtp = true;
	conf.srtp_option = SRTP_OPT_ALL;
	conf.password = getenv("NGV_PHONE_PASSWORD");
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'R':
			conf.registrar = optarg;
			break;
		case 'u':
			conf.user = optarg;
			break;
		case 'p':
			conf.password = optarg;
			break;
		case 't':
			if (sip_proto_parse(slice_cstr(optarg), &conf.proto))
				return cli_usage_error(
				    "--transport: tls, tcp or udp, not '%s'",
				    optarg);
			break;
		case 'c':
			conf.cert = optarg;
			break;
		case 'k':
			conf.key = optarg;
			break;
		case 'T':
			conf.trust = optarg;
			break;
		case 'C':
			if (tls_ciphers_parse(optarg, &conf.tls_ciphers))
				return cli_usage_error("--tls-ciphers: unknown "
				                       "option '%s'",
				    optarg);
			break;
		case 'N':
			conf.tls_name = optarg;
			break;
		case 'D':
			conf.domain = optarg;
			break;
		case 'S':
			if (parse_srtp(&conf, optarg))
				return cli_usage_error(
				    "--srtp-ciphers: all, gcm, gcm256, none or "
				    "a list of suites we implement, not '%s'",
				    optarg);
			break;
		case 'd':
			dial = optarg;
			break;
		case 'P':
			co.play = optarg;
			break;
		case 'r':
			co.record = optarg;
			break;
		case 'g':
			if (phone_digits_parse(&co, optarg))
				return cli_usage_error(
				    "--digits: DIGIT@SECONDS,... with digits "
				    "0-9 * # A-D, at most %d, not '%s'",
				    PHONE_MAX_DIGITS, optarg);
			break;
		case 'L':
			if (parse_seconds(optarg, &duration_ms))
				return cli_usage_error(
				    "--duration: seconds, not '%s'", optarg);
			break;
		case 'M':
			if (parse_seconds(optarg, &mwi_ms))
				return cli_usage_error(
				    "--wait-mwi: seconds, not '%s'", optarg);
			wait_mwi = true;
			break;
		case 'I':
			if (strcmp(optarg, "busy") == 0)
				conf.incoming = PHONE_IN_BUSY;
			else if (strcmp(optarg, "ring") == 0)
				conf.incoming = PHONE_IN_RING;
			else if (strcmp(optarg, "answer") == 0)
				conf.incoming = PHONE_IN_ANSWER;
			else
				return cli_usage_error("--incoming: busy, ring "
				                       "or answer, not '%s'",
				    optarg);
			break;
		case 'l':
			conf.local_ip = optarg;
			break;
		case 'j':
			r.json = true;
			break;
		case 'G':
			debug = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_usage_error(NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error(
		    "unexpected argument '%s'", argv[optind]);
	if (conf.registrar == NULL || conf.user == NULL)
		return cli_usage_error("--registrar and --user are required");
	if ((conf.cert == NULL) != (conf.key == NULL))
		return cli_usage_error("--cert and --key go together");
	if ((conf.cert || conf.trust) && conf.proto != SIP_PROTO_TLS)
		return cli_usage_error("--cert, --key and --trust need "
		                       "--transport tls");
	if (co.record && access(co.record, F_OK) == 0)
		return cli_usage_error("--record %s: the file exists (it is "
		                       "never overwritten)",
		    co.record);
	co.duration_ms = duration_ms;
	/* The library's notices are for daemons: a phone shows warnings. */
	log_set_level(debug ? LOG_DEBUG : LOG_WARN);

	signal(SIGPIPE, SIG_IGN);
	r.conf = &conf;
	r.dialled = dial;
	r.base = media_event_base_new();
	if (r.base == NULL)
		return cli_failf("cannot make an event loop");
	tick = event_new(r.base, -1, EV_PERSIST, tick_cb, NULL);
	sigint = evsignal_new(r.base, SIGINT, signal_cb, &r);
	sigterm = evsignal_new(r.base, SIGTERM, signal_cb, &r);
	if (tick == NULL || sigint == NULL || sigterm == NULL) {
		rc = cli_failf("out of memory");
		goto out;
	}
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
	event_add(tick, &tv);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	if ((err = phone_ua_alloc(&r.ua, r.base, &conf, event_h, &r)) != 0) {
		rc = cli_failf("cannot start the phone: %s",
		    err == EINVAL ? "bad options (see above)" : strerror(err));
		goto out;
	}
	phone_ua_set_answer_opts(r.ua, &co);

	/* 1. register */
	if ((err = phone_ua_register(r.ua)) != 0) {
		rc = cli_failf("cannot send REGISTER to %s: %s", conf.registrar,
		    strerror(err));
		goto out;
	}
	run_until(&r, &r.reg_done, REGISTER_WAIT_MS);
	phone_ua_report(r.ua, &rep);
	if (!rep.registered) {
		if (!r.reg_done)
			snprintf(why, sizeof(why),
			    "line %s not registered at %s: no answer in %d s",
			    conf.user, conf.registrar, REGISTER_WAIT_MS / 1000);
		else {
			char code[8] = "";
			if (rep.reg_status)
				snprintf(
				    code, sizeof(code), "%u ", rep.reg_status);
			snprintf(why, sizeof(why),
			    "line %s not registered at %s: %s%s%s", conf.user,
			    conf.registrar, code, rep.reg_reason,
			    rep.reg_status == 0 && conf.cert == NULL &&
			            conf.proto == SIP_PROTO_TLS
			        ? " (a call manager that verifies phones "
			          "needs --cert and --key)"
			        : "");
		}
		goto out;
	}

	/* 2. the call, or staying registered for incoming ones */
	if (dial) {
		if ((err = phone_ua_dial(r.ua, dial, &co)) != 0) {
			snprintf(why, sizeof(why), "cannot call %s: %s", dial,
			    strerror(err));
			goto out;
		}
		run_until(&r, &r.settled, ANSWER_WAIT_MS);
		if (!r.settled) {
			phone_ua_hangup(r.ua); /* CANCEL */
			run_until(&r, &r.call_done, END_WAIT_MS);
		}
		if (r.answered && !r.call_done) {
			run_until(&r, &r.call_done, 0);
			if (r.stop && phone_ua_in_call(r.ua)) {
				phone_ua_hangup(r.ua);
				r.stop = false;
				run_until(&r, &r.call_done, END_WAIT_MS);
			}
		}
		phone_ua_report(r.ua, &rep);
		if (!r.answered) {
			if (rep.call_status)
				snprintf(why, sizeof(why),
				    "call to %s failed: %u %s", dial,
				    rep.call_status, rep.call_reason);
			else
				snprintf(why, sizeof(why),
				    "call to %s failed: %s", dial,
				    rep.call_reason[0] ? rep.call_reason
				                       : "no answer");
			goto unreg;
		}
		if (conf.secure_rtp && !rep.srtp) {
			snprintf(why, sizeof(why),
			    "call to %s answered without SRTP", dial);
			goto unreg;
		}
		if (co.record && rep.heard_ms == 0) {
			snprintf(why, sizeof(why),
			    "call to %s: nothing heard, %s is empty", dial,
			    co.record);
			goto unreg;
		}
		if (co.ndigits && rep.digits_sent != co.ndigits) {
			snprintf(why, sizeof(why),
			    "call to %s: %u of %zu digits accepted (last "
			    "INFO answer %u)",
			    dial, rep.digits_sent, co.ndigits,
			    rep.digit_status);
			goto unreg;
		}
	} else if (duration_ms) {
		bool never = false;
		run_until(&r, &never, duration_ms);
		if (phone_ua_in_call(r.ua)) {
			phone_ua_hangup(r.ua);
			run_until(&r, &r.call_done, END_WAIT_MS);
		}
	}

	/* 3. the lamp */
	if (wait_mwi) {
		double end = now_ms() + mwi_ms;
		bool never = false;
		while (r.mwi_seen == 0 && !r.stop && now_ms() < end)
			run_until(&r, &never, 100);
		if (r.mwi_seen == 0) {
			snprintf(why, sizeof(why),
			    "no MWI NOTIFY for line %s in %.1f s", conf.user,
			    mwi_ms / 1000.0);
			goto unreg;
		}
	}
	rc = 0;
unreg:
	if (phone_ua_unregister(r.ua) == 0) {
		r.stop = false;
		run_until(&r, &r.unreg_done, 3000);
	}
out:
	if (r.json && r.ua) {
		char code[16];
		phone_ua_report(r.ua, &rep);
		snprintf(code, sizeof(code), "=%u", rep.call_status);
		say(&r, "result", rc == 0 ? "ok" : why, "result",
		    rc == 0 ? "ok" : "failed", "reason", why, "call_status",
		    code, "srtp_suite", rep.srtp ? suite_name(&rep) : "",
		    "security", rep.security, "mwi",
		    rep.mwi < 0 ? ""
		    : rep.mwi   ? "yes"
		                : "no");
	}
	if (rc != 0 && why[0])
		cli_failf("%s", why);
	phone_ua_free(r.ua);
	if (tick)
		event_free(tick);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	event_base_free(r.base);
	return rc;
}
