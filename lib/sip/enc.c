/* SIP encoder: appends slices and integers, never formats headers with printf. */
#include "sip/enc.h"

#include <string.h>

void
sip_enc_request_line(struct buf *b, struct slice method, struct slice uri)
{
	buf_append_slice(b, method);
	BUF_LIT(b, " ");
	buf_append_slice(b, uri);
	BUF_LIT(b, " SIP/2.0\r\n");
}

void
sip_enc_status_line(struct buf *b, uint16_t code, struct slice reason)
{
	BUF_LIT(b, "SIP/2.0 ");
	buf_append_u64(b, code);
	BUF_LIT(b, " ");
	buf_append_slice(b, reason);
	BUF_LIT(b, "\r\n");
}

void
sip_enc_hdr(struct buf *b, struct slice name, struct slice val)
{
	buf_append_slice(b, name);
	BUF_LIT(b, ": ");
	buf_append_slice(b, val);
	BUF_LIT(b, "\r\n");
}

void
sip_enc_hdr_id(struct buf *b, enum sip_hdr_id id, struct slice val)
{
	sip_enc_hdr(b, slice_cstr(sip_hdr_name(id)), val);
}

void
sip_enc_hdr_u64(struct buf *b, enum sip_hdr_id id, uint64_t v)
{
	buf_append_str(b, sip_hdr_name(id));
	BUF_LIT(b, ": ");
	buf_append_u64(b, v);
	BUF_LIT(b, "\r\n");
}

void
sip_enc_cseq(struct buf *b, uint32_t num, struct slice method)
{
	BUF_LIT(b, "CSeq: ");
	buf_append_u64(b, num);
	BUF_LIT(b, " ");
	buf_append_slice(b, method);
	BUF_LIT(b, "\r\n");
}

void
sip_enc_body(struct buf *b, struct slice ctype, struct slice body)
{
	if (body.n && ctype.n)
		sip_enc_hdr_id(b, SIP_HDR_CONTENT_TYPE, ctype);
	sip_enc_hdr_u64(b, SIP_HDR_CONTENT_LENGTH, body.n);
	BUF_LIT(b, "\r\n");
	buf_append_slice(b, body);
}

struct reason {
	uint16_t code;
	const char *text;
};

static const struct reason reasons[] = {
    {100, "Trying"},
    {180, "Ringing"},
    {181, "Call Is Being Forwarded"},
    {182, "Queued"},
    {183, "Session Progress"},
    {200, "OK"},
    {202, "Accepted"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Moved Temporarily"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {413, "Request Entity Too Large"},
    {414, "Request-URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Unsupported URI Scheme"},
    {420, "Bad Extension"},
    {421, "Extension Required"},
    {423, "Interval Too Brief"},
    {480, "Temporarily Unavailable"},
    {481, "Call/Transaction Does Not Exist"},
    {482, "Loop Detected"},
    {483, "Too Many Hops"},
    {484, "Address Incomplete"},
    {486, "Busy Here"},
    {487, "Request Terminated"},
    {488, "Not Acceptable Here"},
    {489, "Bad Event"},
    {491, "Request Pending"},
    {500, "Server Internal Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Server Time-out"},
    {505, "Version Not Supported"},
    {513, "Message Too Large"},
    {600, "Busy Everywhere"},
    {603, "Decline"},
    {604, "Does Not Exist Anywhere"},
    {606, "Not Acceptable"},
};

const char *
sip_reason(uint16_t code)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (reasons[i].code == code)
			return reasons[i].text;
	}
	return "";
}

/* Copies every header line with this id as it was received. */
static void
copy_hdrs(struct buf *b, const struct sip_msg *req, enum sip_hdr_id id)
{
	for (const struct sip_hdr *h = sip_msg_hdr(req, id); h;
	     h = sip_msg_hdr_next(req, h))
		sip_enc_hdr_id(b, id, h->val);
}

int
sip_reply_tpl_build(
    struct buf *b, const struct sip_msg *req, struct sip_reply_tpl *t)
{
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);
	size_t base = b->len;

	memset(t, 0, sizeof(*t));
	copy_hdrs(b, req, SIP_HDR_VIA);
	copy_hdrs(b, req, SIP_HDR_FROM);
	t->to_at = b->len - base;
	if (to) {
		struct slice tag;
		t->has_to = true;
		buf_append_slice(b, to->val);
		/* RFC 3261 8.2.6.2: a tag is added unless the request had one. */
		t->tag_ok = !slice_isset(req->to.tag) &&
		            sip_param_get(req->to.params, "tag", &tag) != 0;
	}
	t->to_end = b->len - base;
	copy_hdrs(b, req, SIP_HDR_CALL_ID);
	copy_hdrs(b, req, SIP_HDR_CSEQ);
	t->rr_at = b->len - base;
	/*
	 * RFC 3261 12.1.1: a response that can create a dialog carries the
	 * request's Record-Route, so the caller's route set includes the
	 * proxies that asked to stay on the path.
	 */
	if (!slice_isset(req->to.tag) &&
	    (sip_method_eq(req->method, "INVITE") ||
	        sip_method_eq(req->method, "SUBSCRIBE") ||
	        sip_method_eq(req->method, "REFER")))
		copy_hdrs(b, req, SIP_HDR_RECORD_ROUTE);
	t->len = b->len - base;
	return b->err;
}

int
sip_reply_tpl_enc(struct buf *b, const char *tpl, const struct sip_reply_tpl *t,
    uint16_t code, const char *reason, struct slice to_tag, struct slice extra,
    struct slice ctype, struct slice body)
{
	sip_enc_status_line(
	    b, code, slice_cstr(reason ? reason : sip_reason(code)));
	buf_append(b, tpl, t->to_at);
	if (t->has_to) {
		BUF_LIT(b, "To: ");
		buf_append(b, tpl + t->to_at, t->to_end - t->to_at);
		if (to_tag.n && t->tag_ok && code > 100) {
			BUF_LIT(b, ";tag=");
			buf_append_slice(b, to_tag);
		}
		BUF_LIT(b, "\r\n");
	}
	buf_append(b, tpl + t->to_end,
	    (code > 100 && code < 300 ? t->len : t->rr_at) - t->to_end);
	buf_append_slice(b, extra);
	sip_enc_body(b, ctype, body);
	return b->err;
}

int
sip_enc_reply(struct buf *b, const struct sip_msg *req, uint16_t code,
    const char *reason, struct slice to_tag, struct slice extra,
    struct slice ctype, struct slice body)
{
	struct sip_reply_tpl t;
	char mem[2048];
	struct buf tb;
	int err;

	buf_init_fixed(&tb, mem, sizeof(mem));
	if (sip_reply_tpl_build(&tb, req, &t) != 0) {
		/* more than fits on the stack: the heap */
		buf_init(&tb);
		if ((err = sip_reply_tpl_build(&tb, req, &t)) != 0) {
			buf_free(&tb);
			return err;
		}
	}
	err = sip_reply_tpl_enc(
	    b, tb.p, &t, code, reason, to_tag, extra, ctype, body);
	buf_free(&tb);
	return err;
}
