/*
 * mcp_calls.c - tools/call (see mcp_tools.h): a management tool goes to
 * lib/mcp_mgmt.c; any other name is looked up among the approved tools of
 * running servers at call time (approval and server state are re-read at
 * every call), its arguments are checked against its inputSchema, and it
 * runs once in the sandbox (or is passed through to its external source)
 * with its execution_logs row written before and completed after
 * (lib/execlog.h). Also the JSON-RPC error helpers.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/config.h"
#include "lib/execlog.h"
#include "lib/jschema.h"
#include "lib/log.h"
#include "lib/mcp_mgmt.h"
#include "lib/mcp_session.h"
#include "lib/metrics.h"
#include "lib/packages.h"
#include "lib/parse.h"
#include "lib/sandbox_cfg.h"	/* warm sandboxes */
#include "lib/sandbox_client.h"
#include "lib/slots.h"	/* reliability */
#include "lib/sources.h"	/* sources: passthrough */
#include "lib/status.h"
#include "lib/tools.h"
#include "lib/trace.h"	/* observability */

void
tg_rpc_err_clear(struct tg_rpc_err *e)
{
	json_decref(e->data);
	memset(e, 0, sizeof(*e));
}

int
tg_rpc_err_set(struct tg_rpc_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	e->code = code;
	va_start(ap, fmt);
	n = vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	if (n < 0)
		e->message[0] = '\0';
	/* reliability: a cut (or a raw value) must not make the JSON fail */
	tg_utf8_scrub(e->message);
	return -1;
}

/* Observability (issue #23): the sandbox span's phase events, and when
 * the tool itself started (its wall time back from "wait"). */
struct phases {
	int span;
	int64_t wait_ns;
};

static void
on_phase(void *ctx, const char *phase)
{
	struct phases *ph = ctx;
	char ev[32];

	snprintf(ev, sizeof(ev), "sandbox.%s", phase);
	if (strcmp(phase, "wait") == 0)
		ph->wait_ns = tg_trace_now_ns();
	tg_span_event(ph->span, ev);
}

/* The egress proxy's requests (the helper's "egress" report: method,
 * host, status, wall times) as CLIENT spans under the sandbox span. */
static void
egress_spans(const json_t *eg)
{
	const json_t *e;
	const char *m, *host;
	char name[300];
	json_int_t t0, dur;
	size_t i;
	int h;

	json_array_foreach(eg, i, e) {
		m = json_string_value(json_object_get(e, "method"));
		host = json_string_value(json_object_get(e, "host"));
		t0 = json_integer_value(json_object_get(e, "start_us"));
		dur = json_integer_value(json_object_get(e, "dur_us"));
		if (m == NULL || host == NULL || t0 <= 0 || dur < 0)
			continue;
		snprintf(name, sizeof(name), "egress %s %s", m, host);
		h = tg_span_start_at(name, TG_SPAN_CLIENT, (int64_t)t0 * 1000);
		tg_span_str(h, "http.request.method", m);
		tg_span_str(h, "server.address", host);
		if (json_integer_value(json_object_get(e, "status")) > 0)
			tg_span_int(h, "http.response.status_code",
			    (int64_t)json_integer_value(json_object_get(e, "status")));
		if (!json_is_true(json_object_get(e, "ok")))
			tg_span_error(h, "refused or failed by the egress proxy");
		tg_span_end_at(h, (int64_t)(t0 + dur) * 1000);
	}
}

static void
sandbox_span_end(struct phases *ph, const json_t *sbx, int rc)
{
	const char *mode;
	json_int_t wall;

	if (ph->span == 0)
		return;
	if (sbx != NULL) {
		wall = json_integer_value(json_object_get(sbx, "wall_ms"));
		if (ph->wait_ns > 0 && wall > 0)
			tg_span_event_at(ph->span, "sandbox.run",
			    ph->wait_ns - (int64_t)wall * 1000000);
		tg_span_int(ph->span, "toolgate.sandbox.wall_ms", (int64_t)wall);
		tg_span_int(ph->span, "toolgate.sandbox.cpu_ms",
		    (int64_t)json_integer_value(json_object_get(sbx, "cpu_ms")));
		if ((mode = json_string_value(json_object_get(sbx, "sandbox"))) != NULL)
			tg_span_str(ph->span, "toolgate.sandbox.mode", mode);
		tg_span_bool(ph->span, "toolgate.sandbox.ok",
		    json_is_true(json_object_get(sbx, "ok")));
		egress_spans(json_object_get(sbx, "egress"));
	}
	if (rc != TG_OK)
		tg_span_error(ph->span, tg_status_name(rc));
	tg_span_end(ph->span);
	ph->span = 0;
}

static int
run_tool(const struct tg_mcp_call *c, const char *name, json_t *args,
    json_t **result, struct tg_rpc_err *rerr, int span)
{
	struct phases ph = {0, 0};	/* observability */
	const struct tg_call *call = c->call;
	const struct tg_config *cfg = call->cfg;
	struct tg_sandbox_opts o;
	struct tg_execlog l;
	json_t *t = NULL, *empty = NULL, *sreq = NULL, *sbx = NULL, *schema;
	char why[256], diag[256];
	char xerr[512];	/* sources: passthrough failure reason */
	const char *status = "error";
	int64_t t0;
	int rc, slot = 0;

	memset(&l, 0, sizeof(l));
	memset(&o, 0, sizeof(o));
	diag[0] = '\0';
	/* Approval and server state are checked here, at call time. */
	rc = tg_tools_served_lookup(call->db, cfg, name, &t);
	if (t != NULL)	/* observability */
		tg_span_str(span, "toolgate.server",
		    json_string_value(json_object_get(t, "server_name")));
	if (rc == -TG_E_NOTFOUND) {
		rc = tg_rpc_err_set(rerr, TG_RPC_INVALID_PARAMS, "Unknown tool: %s", name);
		goto out;
	}
	if (rc != TG_OK) {
		rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR,
		    "the tool is unavailable right now (%s); retry shortly",
		    tg_status_name(rc));
		goto out;
	}
	if (args == NULL)
		args = empty = json_object();
	schema = json_object_get(t, "input_schema");
	if (json_is_object(schema) &&
	    tg_mcp_schema_validate(schema, args, why, sizeof(why)) != TG_OK) {
		rc = tg_rpc_err_set(rerr, TG_RPC_INVALID_PARAMS,
		    "Invalid arguments for tool %s: %s", name, why);
		goto out;
	}
	/* reliability: a tool slot (lib/slots.h), then the log row, then the
	 * run; a call that gets no slot or cannot be recorded is not run. */
	if (tg_slots_acquire() != TG_OK) {
		char msg[160];

		snprintf(msg, sizeof(msg), "The server is busy: every tool slot is in use"
		    " and the wait queue is full or its wait ran out. The tool was not"
		    " run; retry after %d s.", tg_slots_retry_after_s());
		tg_log(TG_LOG_WARN, "mcp.tool_busy", "tool=%s", tg_log_q(name));
		if ((*result = tg_mcp_text_result(msg, 1)) == NULL)
			rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "out of memory");
		else
			rc = 0;
		goto out;
	}
	slot = 1;
	tg_execlog_ids(&l, t, "tool_id", "version");
	l.tool_name = name;
	l.kind = "call";
	l.arguments = args;
	l.session_hash = c->session ? c->session->id_hash : NULL;
	l.traceparent = c->traceparent;
	if ((rc = tg_execlog_start(call, &l)) != TG_OK) {
		tg_log(TG_LOG_WARN, "mcp.log_start_failed", "tool=%s rc=%s",
		    tg_log_q(name), tg_status_name(rc));
		if ((*result = tg_mcp_text_result("The call cannot be recorded right now (the"
		    " execution log is unavailable), so the tool was not run; retry"
		    " shortly.", 1)) == NULL)
			rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "out of memory");
		else
			rc = 0;
		goto out;
	}
	/* sources: an imported external tool is passed through to its source
	 * (lib/sources.h) instead of running in the sandbox; logged below. */
	if (tg_sources_is_external(t)) {
		t0 = tg_now_us();
		rc = tg_sources_call(call, json_integer_value(json_object_get(t, "tool_id")),
		    args, result, &status, xerr, sizeof(xerr));
		l.duration_ms = (tg_now_us() - t0) / 1000;
		if (rc != TG_OK) {
			/* reliability: the row says what happened */
			l.status = "unavailable";
			l.error = "the source could not be reached";
			(void)tg_execlog_finish(call, &l);
			rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR,
			    "the tool is unavailable right now (%s); retry shortly",
			    tg_status_name(rc));
			goto out;
		}
		l.status = status;
		l.error = xerr[0] ? xerr : NULL;
		goto passthrough_done;
	}
	sreq = json_pack("{s:s, s:O, s:s, s:O, s:O?, s:O?, s:O?, s:O?}", "mode", "run",
	    "code", json_object_get(t, "code"), "entry", "main", "arguments", args,
	    "secrets", json_object_get(t, "secrets"),
	    "allowed_modules", json_object_get(t, "allowed_modules"),
	    "allowed_hosts", json_object_get(t, "allowed_hosts"),
	    "limits", json_object_get(t, "limits"));
	if (sreq == NULL) {
		l.status = "error";	/* reliability: complete the row */
		l.error = "out of memory";
		(void)tg_execlog_finish(call, &l);
		rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	o.helper_path = cfg->sandbox_helper[0] ? cfg->sandbox_helper : NULL;
	o.python_path = cfg->sandbox_python[0] ? cfg->sandbox_python : NULL;
	o.allow_degraded = cfg->sandbox_allow_degraded;
	tg_sandbox_warm_opts(cfg, &o);	/* warm sandboxes */
	o.diag = diag;
	o.diag_len = sizeof(diag);
	/* Streaming: the tool's progress/log events go to the transport,
	 * and the client going away cancels the run. */
	o.on_event = c->on_event;
	o.event_ctx = c->on_event_ctx;
	o.cancel_fd = c->cancel_fd;
	/* observability: the sandbox run as a span, its phases as events */
	ph.span = tg_span_start("sandbox.run", TG_SPAN_INTERNAL);
	o.on_phase = ph.span ? on_phase : NULL;
	o.phase_ctx = &ph;
	t0 = tg_now_us();
	/* packages: the server's package set, mounted read-only (read with
	 * the tool: no round trip of its own) */
	rc = tg_packages_apply_set(cfg, json_object_get(t, "package_set"), sreq,
	    &o, diag, sizeof(diag));
	/* Exactly once: a tool call is never retried. */
	if (rc == TG_OK)
		rc = tg_sandbox_run(&o, sreq, &sbx);
	sandbox_span_end(&ph, sbx, rc);
	l.duration_ms = (tg_now_us() - t0) / 1000;
	tg_slots_release();	/* reliability: the run is over */
	slot = 0;
	/* The request held secret values: drop it now. */
	json_decref(sreq);
	sreq = NULL;
	if (rc != TG_OK) {
		char msg[512];

		snprintf(msg, sizeof(msg), "The sandbox could not run the tool (%s)%s%s",
		    tg_status_name(rc), diag[0] ? ": " : "", diag);
		tg_log(TG_LOG_ERR, "mcp.sandbox_failed", "tool=%s rc=%s diag=%s",
		    tg_log_q(name), tg_status_name(rc), tg_log_q(diag));
		*result = tg_mcp_text_result(msg, 1);
		status = rc == -TG_E_TIMEOUT ? "timeout" : "unavailable";
		l.status = status;
		if (*result)
			l.error = json_string_value(json_object_get(json_array_get(
			    json_object_get(*result, "content"), 0), "text"));
	} else {
		*result = tg_mcp_result_from_sandbox(sbx, &status);
		l.status = status;
		if (*result && json_is_true(json_object_get(*result, "isError")))
			l.error = json_string_value(json_object_get(json_array_get(
			    json_object_get(*result, "content"), 0), "text"));
	}
passthrough_done:	/* sources */
	if (slot) {
		tg_slots_release();
		slot = 0;
	}
	if (*result == NULL) {
		l.status = "error";
		l.error = "out of memory";
		(void)tg_execlog_finish(call, &l);
		rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	l.result = *result;
	l.sbx = sbx;
	/* metrics: outcome counters and the sandbox duration histogram */
	tg_metrics_tool_call(call->metrics,
	    l.status && (!strcmp(l.status, "ok") || !strcmp(l.status, "timeout") ||
	    !strcmp(l.status, "truncated") || !strcmp(l.status, "cancelled")) ?
	    l.status : "error",
	    sbx ? (int64_t)json_integer_value(json_object_get(sbx, "wall_ms")) : 0);
	tg_span_str(span, "toolgate.outcome", l.status);	/* observability */
	if (l.status == NULL || strcmp(l.status, "ok") != 0)
		tg_span_error(span, l.status ? l.status : "error");
	l.secrets = json_object_get(t, "secrets");	/* security: scrubbed at write */
	if (tg_execlog_finish(call, &l) != TG_OK)
		tg_log(TG_LOG_WARN, "mcp.log_failed", "tool=%s log_id=%lld", tg_log_q(name),
		    (long long)l.id);
	rc = 0;
out:
	if (slot)
		tg_slots_release();
	json_decref(t);
	json_decref(empty);
	json_decref(sreq);
	json_decref(sbx);
	return rc;
}


int
tg_mcp_tools_call(const struct tg_mcp_call *c, const char *name,
    json_t *arguments, json_t **result, struct tg_rpc_err *err)
{
	int i = tg_mcp_mgmt_find(name), rc, span;
	char sname[160];

	/* observability: a span per call, in the trace of _meta.traceparent
	 * when the caller sent one (lib/trace.h), else in the request's */
	snprintf(sname, sizeof(sname), "tools/call %s", name);
	span = tg_span_start_remote(sname, TG_SPAN_INTERNAL, c->traceparent, NULL);
	tg_span_str(span, "mcp.method.name", "tools/call");
	tg_span_str(span, "gen_ai.tool.name", name);
	tg_span_str(span, "toolgate.tool", name);
	if (i >= 0) {
		tg_span_str(span, "toolgate.server", "(management)");
		rc = tg_mcp_mgmt_call(c, i, arguments, result, err);
		tg_span_str(span, "toolgate.outcome", rc == 0 ? "ok" : "error");
	} else {
		rc = run_tool(c, name, arguments, result, err, span);
	}
	if (rc != 0) {
		tg_span_int(span, "rpc.jsonrpc.error_code", err->code);
		tg_span_str(span, "toolgate.outcome", "rejected");
		tg_span_error(span, err->message);
	}
	tg_span_end(span);
	return rc;
}
