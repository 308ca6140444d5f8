/* The voicemail control socket: ports, port groups and mailboxes for `ngvoice status`, and `ngvoice portgroup reset`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ctl.h"
#include "core/log.h"
#include "media/stream.h"
#include "store/store.h"
#include "voicemail/itl.h"
#include "voicemail/vm.h"

static void
status_groups(struct voicemail *vm, struct buf *b)
{
	BUF_LIT(b, "\"portgroups\":[");
	for (size_t i = 0; i < vm->ngroups; i++) {
		const struct vm_group_rt *g = &vm->groups[i];
		const struct vm_port_group *pg = g->cfg;
		unsigned busy = 0;
		for (size_t j = 0; j < g->nports; j++)
			busy += g->ports[j].call != NULL;
		if (i)
			BUF_LIT(b, ",");
		BUF_LIT(b, "{\"name\":");
		buf_json_str(b, pg->name);
		BUF_LIT(b, ",\"display_name\":");
		buf_json_str(b, pg->display_name);
		BUF_LIT(b, ",\"sip_security_profile\":");
		buf_json_str(b, vm_profile_label(pg->sip_security_profile));
		buf_printf(b,
		    ",\"next_generation_encryption\":%s,\"secure_rtp\":%s,"
		    "\"ports\":%zu,\"ports_busy\":%u,\"reset_required\":%s",
		    pg->enable_next_generation_encryption ? "true" : "false",
		    pg->secure_rtp ? "true" : "false", g->nports, busy,
		    g->reset_required ? "true" : "false");
		BUF_LIT(b, ",\"status\":");
		buf_json_str(b, g->reset_required ? "Reset Required" : "OK");
		BUF_LIT(b, ",\"sip_servers\":[");
		for (size_t j = 0; j < g->nservers; j++) {
			if (j)
				BUF_LIT(b, ",");
			BUF_LIT(b, "{\"host\":");
			buf_json_str(b, g->servers[j].host);
			buf_printf(b, ",\"port\":%u,\"tls_port\":%u}",
			    g->servers[j].port, g->servers[j].tls_port);
		}
		BUF_LIT(b, "],\"tftp_servers\":[");
		for (size_t j = 0; j < g->ntftp; j++) {
			if (j)
				BUF_LIT(b, ",");
			buf_json_str(b, g->tftp[j]);
		}
		BUF_LIT(b, "],\"itl\":{\"source\":");
		buf_json_str(b, g->itl_source[0] ? g->itl_source : "none");
		BUF_LIT(b, ",\"signer\":");
		buf_json_str(b, g->itl_signer);
		buf_printf(b, ",\"records\":%u,\"fetched\":%lld,\"trusted\":%d",
		    g->itl_records, (long long)g->itl_fetched,
		    g->itl_certs ? sk_X509_num(g->itl_certs) : 0);
		BUF_LIT(b, ",\"error\":");
		buf_json_str(b, g->itl_error);
		BUF_LIT(b, "}}");
	}
	BUF_LIT(b, "]");
}

static void
status_mailboxes(struct voicemail *vm, struct buf *b)
{
	struct store_mailbox *list = NULL;
	size_t n = 0;

	BUF_LIT(b, "\"mailboxes\":[");
	if (store_mailboxes(vm->store, &list, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (i)
				BUF_LIT(b, ",");
			BUF_LIT(b, "{\"mailbox\":");
			buf_json_str(b, list[i].name);
			BUF_LIT(b, ",\"owner\":");
			buf_json_str(b, list[i].owner_name);
			buf_printf(b,
			    ",\"new\":%u,\"old\":%u,\"mwi\":%s,"
			    "\"mwi_pending\":%s}",
			    list[i].new_count, list[i].old_count,
			    list[i].mwi_sent == 1   ? "\"on\""
			    : list[i].mwi_sent == 0 ? "\"off\""
			                            : "null",
			    list[i].mwi_pending ? "true" : "false");
		}
	}
	free(list);
	BUF_LIT(b, "]");
}

/* The media loop's counters: packets, lateness, what was dropped. */
static void
status_media(struct voicemail *vm, struct buf *b)
{
	struct media_loop_stats st;

	memset(&st, 0, sizeof(st));
	if (vm->media)
		media_loop_get_stats(vm->media, &st);
	buf_printf(b,
	    "\"media\":{\"streams\":%u,\"playing\":%u,\"recording\":%u,"
	    "\"tx_packets\":%llu,\"rx_packets\":%llu,\"tx_late\":%llu,"
	    "\"max_late_us\":%llu,\"tx_errors\":%llu,\"rx_unknown\":%llu,"
	    "\"rx_auth_fail\":%llu,\"rx_replay\":%llu,"
	    "\"rx_malformed\":%llu,\"rx_rtcp\":%llu,\"calls_total\":%lu,"
	    "\"calls_refused\":%lu,\"mwi_sent\":%lu,\"mwi_failed\":%lu}",
	    st.streams, st.playing, st.recording,
	    (unsigned long long)st.tx_packets,
	    (unsigned long long)st.rx_packets, (unsigned long long)st.tx_late,
	    (unsigned long long)st.max_late_us,
	    (unsigned long long)st.tx_errors, (unsigned long long)st.rx_unknown,
	    (unsigned long long)st.rx_auth_fail,
	    (unsigned long long)st.rx_replay,
	    (unsigned long long)st.rx_malformed, (unsigned long long)st.rx_rtcp,
	    vm->calls_total, vm->calls_refused, vm->mwi_sent, vm->mwi_failed);
}

static void
text_ports(struct voicemail *vm, struct buf *b)
{
	buf_printf(b, "%-16s %4s  %-5s %s\n", "Port Group", "Port", "State",
	    "Security");
	for (size_t i = 0; i < vm->ngroups; i++) {
		const struct vm_group_rt *g = &vm->groups[i];
		for (size_t j = 0; j < g->nports; j++) {
			const struct vm_port *p = &g->ports[j];
			char sec[200] = "";
			if (p->call)
				vm_call_describe(p->call, sec, sizeof(sec));
			buf_printf(b, "%-16s %4u  %-5s %s\n", g->cfg->name,
			    p->number, p->call ? "busy" : "idle", sec);
		}
	}
}

static void
text_groups(struct voicemail *vm, struct buf *b)
{
	for (size_t i = 0; i < vm->ngroups; i++) {
		const struct vm_group_rt *g = &vm->groups[i];
		unsigned busy = 0;
		for (size_t j = 0; j < g->nports; j++)
			busy += g->ports[j].call != NULL;
		buf_printf(b,
		    "Port group %s: %s, %s, NGE %s, Secure RTP %s, %u of %zu "
		    "ports busy%s\n",
		    g->cfg->name, g->reset_required ? "Reset Required" : "OK",
		    vm_profile_label(g->cfg->sip_security_profile),
		    g->cfg->enable_next_generation_encryption ? "on" : "off",
		    g->cfg->secure_rtp ? "on" : "off", busy, g->nports,
		    busy == g->nports && g->nports ? " (all busy)" : "");
		for (size_t j = 0; j < g->nservers; j++)
			buf_printf(b,
			    "  SIP server %zu: %s port %u TLS port %u\n", j + 1,
			    g->servers[j].host, g->servers[j].port,
			    g->servers[j].tls_port);
		for (size_t j = 0; j < g->ntftp; j++)
			buf_printf(
			    b, "  TFTP server %zu: %s\n", j + 1, g->tftp[j]);
		if (g->itl_source[0]) {
			char when[64] = "never";
			struct tm tm;
			if (g->itl_fetched && localtime_r(&g->itl_fetched, &tm))
				strftime(when, sizeof(when),
				    "%Y-%m-%d %H:%M:%S", &tm);
			buf_printf(b,
			    "  ITL: %s, %u records, signer %s, fetched %s\n",
			    g->itl_source, g->itl_records, g->itl_signer, when);
		}
		if (g->itl_error[0])
			buf_printf(b, "  ITL problem: %s\n", g->itl_error);
	}
}

static void
text_mailboxes(struct voicemail *vm, struct buf *b)
{
	struct store_mailbox *list = NULL;
	size_t n = 0;

	buf_printf(b, "%-10s %-24s %5s %5s  %s\n", "Mailbox", "Owner", "New",
	    "Old", "MWI");
	if (store_mailboxes(vm->store, &list, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%-10s %-24s %5u %5u  %s%s\n", list[i].name,
		    list[i].owner_name, list[i].new_count, list[i].old_count,
		    list[i].mwi_sent == 1   ? "on"
		    : list[i].mwi_sent == 0 ? "off"
		                            : "-",
		    list[i].mwi_pending ? " (sending)" : "");
	free(list);
}

static void
request_h(const char *line, struct buf *out, void *arg)
{
	struct voicemail *vm = arg;

	if (strncmp(line, "reset ", 6) == 0) {
		char msg[700];
		int err = vm_group_reset(vm, line + 6, msg, sizeof(msg));
		BUF_LIT(out, "{\"ok\":");
		buf_append_str(out, err ? "false" : "true");
		BUF_LIT(out, ",\"message\":");
		buf_json_str(out, msg);
		BUF_LIT(out, "}\n");
		return;
	}
	if (strncmp(line, "text ", 5) == 0) {
		const char *w = line + 5;
		bool all = strcmp(w, "all") == 0;
		if (all || strcmp(w, "portgroups") == 0)
			text_groups(vm, out);
		if (all || strcmp(w, "ports") == 0)
			text_ports(vm, out);
		if (all || strcmp(w, "mailboxes") == 0)
			text_mailboxes(vm, out);
		if (all || strcmp(w, "media") == 0) {
			BUF_LIT(out, "{");
			status_media(vm, out);
			BUF_LIT(out, "}\n");
		}
		return;
	}
	bool all = line[0] == '\0' || strcmp(line, "all") == 0;
	bool any = false;
	BUF_LIT(out, "{");
	if (all || strcmp(line, "portgroups") == 0) {
		status_groups(vm, out);
		any = true;
	}
	if (all || strcmp(line, "ports") == 0) {
		if (any)
			BUF_LIT(out, ",");
		vm_calls_json(vm, out);
		any = true;
	}
	if (all || strcmp(line, "mailboxes") == 0) {
		if (any)
			BUF_LIT(out, ",");
		status_mailboxes(vm, out);
		any = true;
	}
	if (all || strcmp(line, "media") == 0) {
		if (any)
			BUF_LIT(out, ",");
		status_media(vm, out);
		any = true;
	}
	if (!any) {
		BUF_LIT(out, "\"error\":");
		buf_json_str(out,
		    "unknown request: use ports, portgroups, mailboxes, media, all "
		    "or reset NAME");
	}
	BUF_LIT(out, "}\n");
}

int
vm_control_start(struct voicemail *vm)
{
	const char *path = vm->cfg->general.control_socket;

	if (path == NULL)
		return 0;
	return ctl_listen(&vm->control, vm->base, path, request_h, vm);
}

void
vm_control_stop(struct voicemail *vm)
{
	ctl_close(vm->control);
	vm->control = NULL;
}
