// pages.js - dashboard, approvals, the review view, requests, sources, logs.
import {h, field, button, link, fmtTime, json, pre, table, badge, section, notice} from './dom.js';
import * as A from './api.js';
import {sideBySide, fieldChanges} from './diff.js';

const E = A.enc;

// A reason box plus a button that refuses to act without a reason.
function reasonAction(label, hint, act, msg, opts = {}) {
	const r = field(`Reason for ${label.toLowerCase()}`, 'textarea', {rows: 2, required: opts.required, hint});
	const b = button(label, async () => {
		const reason = r.input.value.trim();
		if (opts.required && !reason) {
			msg.show(`A reason is required to ${label.toLowerCase()}.`, 'err');
			r.input.setAttribute('aria-invalid', 'true');
			r.input.focus();
			return;
		}
		r.input.removeAttribute('aria-invalid');
		b.disabled = true;
		try {
			await act(reason);
		} catch (e) {
			msg.show(e.message, 'err');
		} finally {
			b.disabled = false;
		}
	}, {class: opts.class || ''});
	if (opts.ariaLabel) b.setAttribute('aria-label', opts.ariaLabel);
	return h('div.action', null, r.row, b);
}

async function serverList() {
	return A.all('/servers', 400);
}

// ------------------------------------------------------------- dashboard
export async function dashboard() {
	const [pending, servers] = await Promise.all([A.all('/approvals', 400), serverList()]);
	const tools = pending.filter((p) => p.kind === 'tool');
	const running = servers.filter((s) => s.status === 'running');
	// No endpoint lists every call; the newest of each server (at most 20
	// servers) are merged here (docs/ui.md, gaps).
	const logLists = await Promise.all(servers.slice(0, 20).map((s) =>
	    A.get(`/servers/${s.id}/logs?limit=10`).then((r) => r.items, () => [])));
	const calls = logLists.flat().sort((a, b) => (b.id || 0) - (a.id || 0)).slice(0, 10);
	const errors = calls.filter((c) => c.status !== 'ok' && c.status !== 'running');
	const stat = (n, label, href) => h('a.stat', {href}, h('span.num', null, String(n)), h('span.lbl', null, label));
	return h('div', null,
	    h('h1', null, 'Dashboard'),
	    h('div.stats', null,
		stat(tools.length, 'tools awaiting review', '#/approvals'),
		stat(pending.length - tools.length, 'module, network and package requests', '#/requests'),
		stat(`${running.length}/${servers.length}`, 'servers running', '#/servers'),
		stat(errors.length, 'errors in the recent calls', '#/logs')),
	    section('Pending approvals', table(['Tool', 'Server', 'Versions', 'Changed'],
		tools.slice(0, 10).map((t) => [link(t.exposed_name, `#/review/${E(t.id)}`), t.server_name,
		    versionsText(t), (t.diff && t.diff.changed || []).join(', ')]),
		{empty: 'Nothing is waiting for review.'})),
	    section('Servers running', table(['Server', 'Prefix', 'Tools'],
		running.map((s) => [link(s.name, `#/server/${E(s.id)}`), s.tool_prefix, String(s.tool_count)]),
		{empty: 'No server is running.'})),
	    section('Recent calls', logTable(calls, 'No tool has been called yet.')));
}

function versionsText(t) {
	return t.approved_version ? `v${t.approved_version} → v${t.current_version}` : `new, v${t.current_version}`;
}

function logTable(items, empty) {
	return table(['When', 'Tool', 'Status', 'Duration', 'Caller', ''],
	    items.map((l) => [fmtTime(l.created_at), l.tool_name || '—', badge(l.status),
		l.duration_ms === null || l.duration_ms === undefined ? '—' : `${l.duration_ms} ms`,
		l.caller || '—', link('Details', `#/log/${E(l.id)}`)]), {empty});
}

// ------------------------------------------------------------- approvals
export async function approvals(ctx) {
	const items = await A.all('/approvals', 1000);
	const tools = items.filter((i) => i.kind === 'tool');
	const reqs = items.filter((i) => i.kind !== 'tool');
	const msg = notice();
	return h('div', null,
	    h('h1', null, 'Approvals'),
	    msg,
	    section(`Tools awaiting review (${tools.length})`,
		tools.length ? h('ul.queue', {'aria-label': 'Pending tools'}, tools.map((t) =>
		    h('li', null,
			h('a.qname', {href: `#/review/${E(t.id)}`}, t.exposed_name),
			h('span.meta', null, ` ${t.kind === 'tool' ? '' : t.kind} on ${t.server_name} · ${versionsText(t)} · changed: ${(t.diff && t.diff.changed || []).join(', ') || 'nothing'}`,
			    t.diff ? ` · +${t.diff.lines_added}/−${t.diff.lines_removed} lines` : '',
			    ` · ${fmtTime(t.updated_at)}`)))) :
		    h('p.empty', null, 'Nothing is waiting for review.')),
	    section(`Module, network and package requests (${reqs.length})`, requestTable(reqs, msg, ctx)));
}

// What each kind of request is and where its decisions go. A kind the
// console does not know is listed without decision buttons: it never
// guesses an endpoint (a package request's id is not a network request's).
const REQ_KINDS = {
	module_request: {label: 'module', path: '/module-requests/', what: (r) => r.module},
	network_request: {label: 'network', path: '/network-requests/', what: (r) => r.host},
	package_request: {label: 'package', path: '/package-requests/', what: packageWhat, approved: 'installation started'},
};

// A package request as the reviewer needs it: the distribution and what
// the index resolved it to, licence, closure size and known advisories.
function packageWhat(r) {
	const res = r.resolution || {};
	const parts = [`${r.name}${r.spec ? ' ' + r.spec : ''}${res.version ? ' → ' + res.version : ''}`];
	if (res.license) parts.push(`licence ${res.license}`);
	if (Array.isArray(res.closure)) parts.push(`${res.closure.length} wheel${res.closure.length === 1 ? '' : 's'}`);
	const v = res.vulnerabilities;
	if (v && v.status === 'checked') {
		const hit = Object.entries(v.packages || {});
		parts.push(hit.length ? `advisories: ${hit.map(([n, ids]) => `${n} (${ids.join(', ')})`).join('; ')}` : 'no known advisories');
	} else if (v && v.status) {
		parts.push(`advisories ${v.status.replace('_', ' ')}`);
	}
	if (r.error && r.error.message) parts.push(`error: ${r.error.message}`);
	return parts.join(' · ');
}

function requestTable(reqs, msg, ctx, empty) {
	return table(['Kind', 'What', 'Server', 'Reason', 'Status', 'Requested', A.can('approve') ? 'Decision' : ''],
	    reqs.map((r) => {
		    const k = REQ_KINDS[r.kind];
		    const what = k ? k.what(r) : `#${r.id}`;
		    let decide = '';
		    if (k && A.can('approve') && r.status === 'pending') {
			    const name = r.kind === 'package_request' ? r.name : what;
			    decide = h('div.decide', null,
				button('Approve', async () => {
					try {
						await A.post(k.path + E(r.id) + '/approve', {});
						ctx.reload(`Approved ${name}${k.approved ? ': ' + k.approved : ''}.`);
					} catch (e) {
						msg.show(e.message, 'err');
					}
				}, {ariaLabel: `Approve ${k.label} ${name}`}),
				reasonAction('Reject', null, async (reason) => {
					await A.post(k.path + E(r.id) + '/reject', {reason});
					ctx.reload(`Rejected ${name}.`);
				}, msg, {required: true, ariaLabel: `Reject ${k.label} ${name}`}));
		    }
		    return [k ? k.label : r.kind, what, r.server_name || '—',
			r.reason || '—', badge(r.status), fmtTime(r.created_at), decide];
	    }), {empty: empty || 'No request is pending.'});
}

// ------------------------------------------------------------- review view
export async function review(ctx) {
	const id = ctx.args[0];
	const [tool, diff, versions, users] = await Promise.all([
		A.get(`/tools/${E(id)}`),
		A.get(`/tools/${E(id)}/diff`),
		A.all(`/tools/${E(id)}/versions`, 1000),
		A.can('users') ? A.all('/users', 1000).catch(() => []) : Promise.resolve([]),
	]);
	const who = (uid) => {
		if (uid === null || uid === undefined) return 'unknown';
		const u = users.find((x) => x.id === uid);
		return u ? u.username : `user #${uid}`;
	};
	const msg = notice();
	const from = diff.from_version;
	const to = diff.to_version;
	const changes = versions.filter((v) => v.version > (from || 0) && v.version <= to);
	const fromLabel = from ? `approved v${from}` : 'no approved version';
	const toLabel = `current v${to}`;

	const actions = h('div.actions');
	if (A.can('approve')) {
		if (tool.status === 'pending_review') {
			const note = field('Approval note (optional)', 'text', {});
			actions.append(h('div.action', null, note.row,
			    button('Approve', async (ev) => {
				    ev.target.disabled = true;
				    try {
					    const t = await A.post(`/tools/${E(tool.id)}/approve`, {version: to, reason: note.input.value.trim() || undefined});
					    ctx.reload(`Approved ${t.exposed_name} version ${to}.`);
				    } catch (e) {
					    msg.show(e.status === 409 ? `${e.message} Reload the page to review the newest version.` : e.message, 'err');
					    ev.target.disabled = false;
				    }
			    }, {class: 'primary'})),
			    reasonAction('Reject', 'Tell the author what to change.', async (reason) => {
				    const t = await A.post(`/tools/${E(tool.id)}/reject`, {reason});
				    ctx.reload(`Rejected ${t.exposed_name}.`);
			    }, msg, {required: true, class: 'danger'}));
		}
		if (tool.approved_version !== null && tool.approved_version !== undefined) {
			actions.append(reasonAction('Revoke', 'Stops serving the approved version.', async (reason) => {
				const t = await A.post(`/tools/${E(tool.id)}/revoke`, {reason});
				ctx.reload(`Revoked ${t.exposed_name}: nothing of it is served now.`);
			}, msg, {required: true, class: 'danger'}));
		}
		if (!actions.firstChild)
			actions.append(h('p', null, `This tool is ${tool.status.replace('_', ' ')}: nothing to decide.`));
	} else {
		actions.append(h('p.muted', null, 'Only an admin can approve, reject or revoke.'));
	}

	return h('div', null,
	    h('p.crumbs', null, link('Approvals', '#/approvals'), ' / review'),
	    h('h1', null, tool.exposed_name),
	    h('p.meta', null, badge(tool.status), ` server ${tool.server_name} · kind ${tool.kind || 'python'} · ${fromLabel} → ${toLabel}`,
		tool.served ? ` · serving v${tool.served_version}` : ' · not served'),
	    msg,
	    section('Who changed it and why', table(['Version', 'Author', 'Summary', 'When'],
		changes.map((v) => [`v${v.version}`, who(v.author_id), v.change_summary || '—', fmtTime(v.created_at)]),
		{empty: 'No versions after the approved one.'}),
	    tool.review_reason ? h('p', null, 'Last review: ', h('q', null, tool.review_reason),
		tool.reviewed_by ? ` by ${who(tool.reviewed_by)} ${fmtTime(tool.reviewed_at)}` : '') : null),
	    section('Code', diff.identical ? h('p', null, 'The code is identical to the approved version.') :
		sideBySide(diff.code_diff, fromLabel, toLabel)),
	    section('Description, schema and annotations', diff.identical ?
		h('p', null, diff.summary || 'Identical to the approved version.') :
		(fieldChanges(diff).length ? fieldChanges(diff) : h('p.empty', null, 'Unchanged.')),
		h('h3', null, 'Description (current)'), h('p.desc', {'data-testid': 'description'}, tool.description || '(none)')),
	    section('Decision', actions),
	    h('p', null, link('Tool page (code, versions, test run)', `#/tool/${E(tool.id)}`)));
}

// ------------------------------------------------------------- requests
export async function requests(ctx) {
	const [mods, nets, pkgs, servers] = await Promise.all([
		A.all('/module-requests', 400), A.all('/network-requests', 400),
		A.all('/package-requests', 400), serverList()]);
	const msg = notice();
	const parts = [h('h1', null, 'Module, network and package requests'), msg];
	parts.push(section('Module requests', requestTable(mods.map((m) => ({...m, kind: 'module_request'})), msg, ctx, 'No module request.')));
	parts.push(section('Network requests', requestTable(nets.map((n) => ({...n, kind: 'network_request'})), msg, ctx, 'No network request.')));
	// resolving and installing ones are the package-job process's work in
	// progress (docs/packages.md): their status says so
	parts.push(section('Package requests', requestTable(pkgs.map((p) => ({...p, kind: 'package_request'})), msg, ctx, 'No package request.')));
	if (A.can('write')) {
		const mod = field('Module', 'text', {required: true, placeholder: 'e.g. csv'});
		const mr = field('Why the module is needed', 'text', {});
		parts.push(section('Request a module', h('form.inline', {onsubmit: async (ev) => {
			ev.preventDefault();
			try {
				await A.post('/module-requests', {module: mod.input.value.trim(), reason: mr.input.value.trim() || undefined});
				ctx.reload('Module requested.');
			} catch (e) {
				msg.show(e.message, 'err');
			}
		}}, mod.row, mr.row, h('button', {type: 'submit'}, 'Request module'))));
		const srv = field('Server', 'select', {options: servers.map((s) => [s.id, s.name])});
		const host = field('Host', 'text', {required: true, placeholder: 'api.example.com'});
		const nr = field('Why the host is needed', 'text', {});
		parts.push(section('Request network access', h('form.inline', {onsubmit: async (ev) => {
			ev.preventDefault();
			try {
				await A.post('/network-requests', {server_id: Number(srv.input.value), host: host.input.value.trim(), reason: nr.input.value.trim() || undefined});
				ctx.reload('Network access requested.');
			} catch (e) {
				msg.show(e.message, 'err');
			}
		}}, srv.row, host.row, nr.row, h('button', {type: 'submit', disabled: !servers.length}, 'Request host'))));
	}
	return h('div', null, parts);
}

// ------------------------------------------------------------- sources
export async function sources(ctx) {
	const servers = await serverList();
	const lists = await Promise.all(servers.map((s) => A.all(`/servers/${s.id}/sources`, 200)));
	const all = lists.flat();
	const msg = notice();
	const parts = [h('h1', null, 'External sources'), msg,
	    section('Sources', table(['Name', 'Server', 'URL', 'Status', 'Tools', 'Last check'],
		all.map((s) => [link(s.name, `#/source/${E(s.id)}`), s.server_name, s.url, badge(s.status),
		    String(s.tool_count ?? '—'), fmtTime(s.last_health_at)]),
		{empty: 'No external MCP server is attached.'}))];
	if (A.can('write') && servers.length) {
		const srv = field('Server', 'select', {options: servers.map((s) => [s.id, s.name])});
		const name = field('Name', 'text', {required: true, placeholder: 'docs'});
		const url = field('URL', 'text', {required: true, placeholder: 'https://mcp.example.com/mcp'});
		const desc = field('Description', 'text', {});
		const auth = field('Authentication', 'select', {options: [['none', 'none'], ['bearer', 'bearer token'], ['header', 'custom header']]});
		const hdr = field('Header name (custom header)', 'text', {});
		const cred = A.can('secrets') ? field('Credential (write-only)', 'password', {autocomplete: 'new-password'}) : null;
		const internal = A.can('approve') ? field('Internal (loopback or private address)', 'checkbox', {}) : null;
		parts.push(section('Attach a source', h('form.grid', {onsubmit: async (ev) => {
			ev.preventDefault();
			const body = {name: name.input.value.trim(), url: url.input.value.trim(), auth_type: auth.input.value};
			if (desc.input.value.trim()) body.description = desc.input.value.trim();
			if (auth.input.value === 'header') body.auth_header = hdr.input.value.trim();
			if (cred && cred.input.value) body.credential = cred.input.value;
			if (internal && internal.input.checked) body.internal = true;
			try {
				const s = await A.post(`/servers/${E(srv.input.value)}/sources`, body);
				if (cred) cred.input.value = '';
				location.hash = `#/source/${s.id}`;
			} catch (e) {
				msg.show(e.message, 'err');
			}
		}}, srv.row, name.row, url.row, desc.row, auth.row, hdr.row, cred && cred.row, internal && internal.row,
		h('button', {type: 'submit'}, 'Attach source'))));
	}
	return h('div', null, parts);
}

export async function source(ctx) {
	const s = await A.get(`/sources/${E(ctx.args[0])}`);
	const msg = notice();
	const out = h('div.result');
	const show = (title, node) => {
		out.replaceChildren(h('h3', null, title), node);
	};
	const acts = [button('Check health', async () => {
		try {
			const r = await A.get(`/sources/${E(s.id)}/health`);
			show('Health', pre(json(r)));
		} catch (e) {
			msg.show(e.message, 'err');
		}
	})];
	if (A.can('write')) {
		acts.push(button('Discover tools', async () => {
			try {
				const r = await A.post(`/sources/${E(s.id)}/discover`, {});
				const boxes = [];
				const rows = r.tools.map((t) => {
					const cb = h('input', {type: 'checkbox', 'aria-label': `Import ${t.name}`, disabled: t.imported});
					boxes.push([cb, t]);
					return [cb, t.name, t.description || '', t.imported ? `imported (${t.status || ''})` : 'not imported'];
				});
				show('Remote tools', h('div', null, table(['', 'Name', 'Description', 'State'], rows, {empty: 'The source lists no tools.'}),
				    r.tools.length ? button('Import selected', async () => {
					    const names = boxes.filter(([cb]) => cb.checked).map(([, t]) => t.name);
					    if (!names.length) {
						    msg.show('Select at least one tool to import.', 'err');
						    return;
					    }
					    try {
						    const res = await A.post(`/sources/${E(s.id)}/import`, {tools: names});
						    msg.show(`Imported ${res.imported.length} tool(s); they wait for review.`, 'ok');
					    } catch (e) {
						    msg.show(e.message, 'err');
					    }
				    }) : null));
			} catch (e) {
				msg.show(e.message, 'err');
			}
		}));
		acts.push(button('Delete source', async () => {
			if (!confirm(`Delete the source ${s.name} and its imported tools?`)) return;
			try {
				await A.del(`/sources/${E(s.id)}`);
				location.hash = '#/sources';
			} catch (e) {
				msg.show(e.message, 'err');
			}
		}, {class: 'danger'}));
	}
	const keys = ['server_name', 'url', 'description', 'transport', 'internal', 'enabled', 'auth_type', 'auth_header',
		'has_credential', 'status', 'consecutive_failures', 'circuit_open_until', 'last_health_at', 'last_latency_ms',
		'last_error', 'last_error_at', 'protocol_version', 'tool_count', 'timeout_ms', 'connect_timeout_ms',
		'max_response_bytes', 'failure_threshold', 'cooldown_s', 'created_at', 'updated_at'];
	return h('div', null, h('p.crumbs', null, link('Sources', '#/sources'), ' / source'),
	    h('h1', null, s.name), msg, h('div.buttons', null, acts), out,
	    section('Details', dl(s, keys)));
}

export function dl(obj, keys) {
	return h('dl.kv', null, keys.filter((k) => k in obj).map((k) => [h('dt', null, k.replace(/_/g, ' ')),
	    h('dd', null, obj[k] === null || obj[k] === undefined ? '—' :
		typeof obj[k] === 'object' ? json(obj[k]) : String(obj[k]))]));
}

// ------------------------------------------------------------- logs
export async function logs(ctx) {
	const servers = await serverList();
	const msg = notice();
	const srv = field('Server', 'select', {options: servers.map((s) => [s.id, s.name])});
	const st = field('Status', 'select', {options: [['', 'any'], 'ok', 'error', 'timeout', 'truncated', 'unavailable', 'cancelled', 'running', 'lost']});
	const since = field('Since (ISO 8601)', 'text', {placeholder: '2026-01-01T00:00:00Z'});
	const out = h('div');
	let cursor = null;
	const more = button('Older', () => load(false));
	more.hidden = true;
	async function load(fresh) {
		if (!srv.input.value) return;
		if (fresh) {
			cursor = null;
			out.replaceChildren();
		}
		let q = `/servers/${E(srv.input.value)}/logs?limit=50`;
		if (st.input.value) q += `&status=${E(st.input.value)}`;
		if (since.input.value.trim()) q += `&since=${E(since.input.value.trim())}`;
		if (cursor) q += `&cursor=${E(cursor)}`;
		try {
			const page = await A.get(q);
			out.append(logTable(page.items, 'No calls match.'));
			cursor = page.next_cursor;
			more.hidden = !cursor;
			msg.hide();
		} catch (e) {
			msg.show(e.message, 'err');
		}
	}
	const form = h('form.inline', {onsubmit: (ev) => {
		ev.preventDefault();
		load(true);
	}}, srv.row, st.row, since.row, h('button', {type: 'submit'}, 'Show'));
	if (servers.length) await load(true);
	return h('div', null, h('h1', null, 'Execution logs'), msg,
	    servers.length ? [form, out, more] : h('p.empty', null, 'No server yet, so no calls.'));
}

export async function logDetail(ctx) {
	const l = await A.get(`/logs/${E(ctx.args[0])}`);
	return h('div', null, h('p.crumbs', null, link('Logs', '#/logs'), ' / call'),
	    h('h1', null, `Call ${l.id}: ${l.tool_name || ''}`),
	    section('Call', dl(l, ['status', 'tool_name', 'tool_version', 'tool_id', 'server_id', 'kind', 'caller', 'api_key_id',
		'request_id', 'traceparent', 'duration_ms', 'created_at'])),
	    section('Arguments', pre(json(l.arguments))),
	    l.error ? section('Error', pre(l.error, 'err')) : null,
	    section('Result', pre(typeof l.result === 'string' ? l.result : json(l.result))),
	    section('Standard output', pre(l.stdout)),
	    section('Standard error', pre(l.stderr)));
}
