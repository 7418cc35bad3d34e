// tools.js - servers (start/stop, prefix, hosts, secrets) and tools (code,
// versions, rollback, submit, the test-run form built from the input schema).
import {h, field, button, link, fmtTime, json, pre, table, badge, section, notice} from './dom.js';
import * as A from './api.js';
import {dl} from './pages.js';

const E = A.enc;

// ------------------------------------------------------------- servers
export async function servers(ctx) {
	const list = await A.all('/servers', 1000);
	const msg = notice();
	const parts = [h('h1', null, 'Servers'), msg,
	    table(['Server', 'Status', 'Prefix', 'Tools', 'Allowed hosts', A.can('write') ? 'Actions' : ''],
		list.map((s) => [link(s.name, `#/server/${E(s.id)}`), badge(s.status), s.tool_prefix, String(s.tool_count),
		    (s.allowed_hosts || []).join(', ') || '—', A.can('write') ? startStop(s, msg, ctx) : '']),
		{empty: 'No server yet. Create one below or through the MCP management tools.'})];
	if (A.can('write')) {
		const name = field('Name', 'text', {required: true, placeholder: 'weather', hint: 'a-z, 0-9, _ and -'});
		const desc = field('Description', 'text', {});
		const prefix = field('Tool prefix', 'text', {hint: 'empty: <name>__'});
		parts.push(section('Create a server', h('form.inline', {onsubmit: async (ev) => {
			ev.preventDefault();
			const body = {name: name.input.value.trim()};
			if (desc.input.value.trim()) body.description = desc.input.value.trim();
			if (prefix.input.value.trim()) body.tool_prefix = prefix.input.value.trim();
			try {
				const s = await A.post('/servers', body);
				location.hash = `#/server/${s.id}`;
			} catch (e) {
				msg.show(e.message, 'err');
			}
		}}, name.row, desc.row, prefix.row, h('button', {type: 'submit'}, 'Create server'))));
	}
	return h('div', null, parts);
}

function startStop(s, msg, ctx) {
	const running = s.status === 'running';
	return button(running ? 'Stop' : 'Start', async () => {
		try {
			await A.post(`/servers/${E(s.id)}/${running ? 'stop' : 'start'}`, {});
			ctx.reload(`${s.name} ${running ? 'stopped' : 'started'}.`);
		} catch (e) {
			msg.show(e.message, 'err');
		}
	}, {ariaLabel: `${running ? 'Stop' : 'Start'} ${s.name}`});
}

export async function server(ctx) {
	const id = ctx.args[0];
	const [s, tools, secrets] = await Promise.all([A.get(`/servers/${E(id)}`),
		A.all(`/servers/${E(id)}/tools`, 1000), A.all(`/servers/${E(id)}/secrets`, 1000)]);
	const msg = notice();
	const parts = [h('p.crumbs', null, link('Servers', '#/servers'), ' / server'),
	    h('h1', null, s.name), h('p.meta', null, badge(s.status), ` prefix ${s.tool_prefix} · ${s.description || ''}`), msg];
	if (A.can('write')) {
		const prefix = field('Tool prefix', 'text', {value: s.default_prefix ? '' : s.tool_prefix, hint: 'empty: <name>__; renaming served tools needs an admin'});
		const desc = field('Description', 'text', {value: s.description || ''});
		parts.push(h('div.buttons', null, startStop(s, msg, ctx)),
		    section('Settings', h('form.inline', {onsubmit: async (ev) => {
			    ev.preventDefault();
			    try {
				    await A.patch(`/servers/${E(s.id)}`, {tool_prefix: prefix.input.value.trim() || null,
					description: desc.input.value});
				    ctx.reload('Saved.');
			    } catch (e) {
				    msg.show(e.message, 'err');
			    }
		    }}, prefix.row, desc.row, h('button', {type: 'submit'}, 'Save'))));
	}
	parts.push(section('Tools', table(['Tool', 'Status', 'Version', 'Served'],
	    tools.map((t) => [link(t.exposed_name, `#/tool/${E(t.id)}`), badge(t.status),
		`v${t.current_version}${t.approved_version ? ` (approved v${t.approved_version})` : ''}`,
		t.served ? `yes, v${t.served_version}` : 'no']), {empty: 'No tools on this server.'})));
	parts.push(section('Allowed hosts', (s.allowed_hosts || []).length ?
	    h('ul', null, s.allowed_hosts.map((x) => h('li', null, x))) : h('p.empty', null, 'No outbound network access.'),
	    h('p.muted', null, 'Hosts are added by approving a ', link('network request', '#/requests'), '.')));
	parts.push(section('Secrets', secretTable(s, secrets, msg, ctx), A.can('write') ? secretForm(s, msg, ctx) : null));
	return h('div', null, parts);
}

function secretTable(s, secrets, msg, ctx) {
	return table(['Key', 'Description', 'Value', 'Set at', A.can('secrets') ? 'Actions' : ''],
	    secrets.map((k) => {
		    let acts = '';
		    if (A.can('secrets')) {
			    const v = field(`New value for ${k.key}`, 'password', {autocomplete: 'new-password'});
			    acts = h('form.inline.tight', {onsubmit: async (ev) => {
				    ev.preventDefault();
				    if (!v.input.value) {
					    msg.show('Enter a value first.', 'err');
					    return;
				    }
				    try {
					    await A.put(`/servers/${E(s.id)}/secrets/${E(k.key)}`, {value: v.input.value});
					    v.input.value = '';
					    ctx.reload(`Value of ${k.key} set.`);
				    } catch (e) {
					    msg.show(e.message, 'err');
				    }
			    }}, v.row, h('button', {type: 'submit'}, 'Set value'),
			    button('Delete', async () => {
				    if (!confirm(`Delete the secret ${k.key}?`)) return;
				    try {
					    await A.del(`/servers/${E(s.id)}/secrets/${E(k.key)}`);
					    ctx.reload();
				    } catch (e) {
					    msg.show(e.message, 'err');
				    }
			    }, {class: 'danger', ariaLabel: `Delete secret ${k.key}`}));
		    }
		    return [k.key, k.description || '', k.has_value ? 'set (write-only)' : 'not set', fmtTime(k.value_set_at), acts];
	    }), {empty: 'No secrets.'});
}

function secretForm(s, msg, ctx) {
	const key = field('Secret name', 'text', {required: true, placeholder: 'API_KEY'});
	const desc = field('Secret description', 'text', {});
	const val = A.can('secrets') ? field('Value (write-only)', 'password', {autocomplete: 'new-password'}) : null;
	return h('form.inline', {onsubmit: async (ev) => {
		ev.preventDefault();
		const body = {key: key.input.value.trim()};
		if (desc.input.value.trim()) body.description = desc.input.value.trim();
		if (val && val.input.value) body.value = val.input.value;
		try {
			await A.post(`/servers/${E(s.id)}/secrets`, body);
			if (val) val.input.value = '';
			ctx.reload('Secret added.');
		} catch (e) {
			msg.show(e.message, 'err');
		}
	}}, key.row, desc.row, val && val.row, h('button', {type: 'submit'}, 'Add secret'));
}

// ------------------------------------------------------------- tools
export async function tools(ctx) {
	const list = await A.all('/servers', 1000);
	const per = await Promise.all(list.map((s) => A.all(`/servers/${s.id}/tools`, 1000)));
	const all = per.flat();
	const status = field('Status', 'select', {options: [['', 'any'], ['draft', 'draft'], ['pending_review', 'pending review'], ['approved', 'approved'], ['rejected', 'rejected']]});
	const wrap = h('div');
	const render = () => {
		const v = status.input.value;
		wrap.replaceChildren(table(['Tool', 'Server', 'Status', 'Version', 'Served', 'Updated'],
		    all.filter((t) => !v || t.status === v).map((t) => [link(t.exposed_name, `#/tool/${E(t.id)}`), t.server_name,
			badge(t.status), `v${t.current_version}`, t.served ? `v${t.served_version}` : 'no', fmtTime(t.updated_at)]),
		    {empty: 'No tools match.'}));
	};
	status.input.addEventListener('change', render);
	render();
	return h('div', null, h('h1', null, 'Tools'), h('div.inline', null, status.row), wrap);
}

export async function tool(ctx) {
	const id = ctx.args[0];
	const [t, versions, settings] = await Promise.all([A.get(`/tools/${E(id)}`),
		A.all(`/tools/${E(id)}/versions`, 1000), A.get('/settings')]);
	const msg = notice();
	const parts = [h('p.crumbs', null, link('Tools', '#/tools'), ' / tool'),
	    h('h1', null, t.exposed_name),
	    h('p.meta', null, badge(t.status), ` server ${t.server_name} · v${t.current_version}`,
		t.approved_version ? ` · approved v${t.approved_version}` : '', t.served ? ` · serving v${t.served_version}` : ' · not served'),
	    msg];
	const acts = [];
	if (t.status === 'pending_review')
		acts.push(link('Review', `#/review/${E(t.id)}`));
	if (A.can('write') && (t.status === 'draft' || t.status === 'rejected')) {
		acts.push(button('Submit for review', async () => {
			try {
				await A.post(`/tools/${E(t.id)}/submit`, {});
				ctx.reload('Submitted for review.');
			} catch (e) {
				msg.show(e.message, 'err');
			}
		}));
	}
	if (acts.length) parts.push(h('div.buttons', null, acts));
	parts.push(section('Description', h('p.desc', null, t.description || '(none)')));
	if (A.can('run') && t.kind !== 'external') parts.push(section('Test run', testForm(t, settings, msg)));
	parts.push(section('Code (current version)', t.code !== undefined && t.code !== null ?
	    h('pre.code', {tabindex: '0', 'aria-label': 'Code'}, t.code) : h('p.empty', null, 'An imported tool runs on its source; it has no code here.')));
	parts.push(section('Input schema', pre(json(t.input_schema))));
	if (t.annotations) parts.push(section('Annotations', pre(json(t.annotations))));
	const viewer = h('div');
	parts.push(section('Versions', table(['Version', 'Summary', 'Author', 'When', ''],
	    versions.slice().reverse().map((v) => [`v${v.version}`, v.change_summary || '—',
		v.author_id === null || v.author_id === undefined ? '—' : `user #${v.author_id}`, fmtTime(v.created_at),
		h('div.buttons', null,
		    button('View', async () => {
			    try {
				    const full = await A.get(`/tools/${E(t.id)}/versions/${v.version}`);
				    viewer.replaceChildren(h('h3', null, `Version ${v.version}`),
					h('p', null, full.description || ''), h('pre.code', null, full.code || ''));
			    } catch (e) {
				    msg.show(e.message, 'err');
			    }
		    }, {ariaLabel: `View version ${v.version}`}),
		    A.can('write') && v.version !== t.current_version ? button('Roll back', async () => {
			    if (!confirm(`Make version ${v.version}'s content the new current version?`)) return;
			    try {
				    const r = await A.post(`/tools/${E(t.id)}/rollback`, {version: v.version});
				    ctx.reload(`Rolled back: now v${r.current_version}, ${r.status.replace('_', ' ')}.`);
			    } catch (e) {
				    msg.show(e.message, 'err');
			    }
		    }, {ariaLabel: `Roll back to version ${v.version}`}) : null)]),
	    {empty: 'No versions.'}), viewer));
	parts.push(section('Recent calls', link('Execution logs', `#/logs`)));
	return h('div', null, parts);
}

// A form from the JSON Schema of the tool's arguments: one labelled input
// per property; objects, arrays and untyped values as JSON text.
export function testForm(t, settings, msg) {
	const props = (t.input_schema && t.input_schema.properties) || {};
	const required = new Set((t.input_schema && t.input_schema.required) || []);
	const inputs = [];
	const rows = Object.entries(props).map(([name, sch]) => {
		sch = sch || {};
		const type = Array.isArray(sch.type) ? sch.type.find((x) => x !== 'null') : sch.type;
		const hint = [sch.description, type ? `type ${type}` : 'JSON value', sch.default !== undefined ? `default ${JSON.stringify(sch.default)}` : null]
		    .filter(Boolean).join(' · ');
		let f;
		if (Array.isArray(sch.enum)) {
			f = field(name, 'select', {required: required.has(name), hint,
			    options: (required.has(name) ? [] : [['', '(not set)']]).concat(sch.enum.map((v) => [JSON.stringify(v), String(v)])),
			    value: sch.default !== undefined ? JSON.stringify(sch.default) : ''});
			inputs.push([name, () => (f.input.value === '' ? undefined : JSON.parse(f.input.value))]);
		} else if (type === 'boolean') {
			f = field(name, 'checkbox', {hint, value: sch.default === true});
			inputs.push([name, () => f.input.checked]);
		} else if (type === 'integer' || type === 'number') {
			f = field(name, 'number', {required: required.has(name), hint, step: type === 'integer' ? '1' : 'any',
			    placeholder: sch.default !== undefined ? String(sch.default) : ''});
			inputs.push([name, () => {
				if (f.input.value === '') return undefined;
				const n = Number(f.input.value);
				if (!Number.isFinite(n)) throw new Error(`${name}: not a number`);
				return n;
			}]);
		} else if (type === 'string') {
			f = field(name, 'text', {required: required.has(name), hint,
			    placeholder: sch.default !== undefined ? String(sch.default) : ''});
			inputs.push([name, () => (f.input.value === '' && !required.has(name) ? undefined : f.input.value)]);
		} else {
			f = field(name, 'textarea', {required: required.has(name), hint: hint + ' (JSON)', rows: 3,
			    placeholder: sch.default !== undefined ? JSON.stringify(sch.default) : ''});
			inputs.push([name, () => {
				if (f.input.value.trim() === '') return undefined;
				try {
					return JSON.parse(f.input.value);
				} catch (e) {
					throw new Error(`${name}: not valid JSON`);
				}
			}]);
		}
		return f.row;
	});
	const out = h('div.result', {'aria-live': 'polite'});
	const submit = h('button.primary', {type: 'submit'}, 'Run test');
	const form = h('form.test', {onsubmit: async (ev) => {
		ev.preventDefault();
		const args = {};
		try {
			for (const [name, get] of inputs) {
				const v = get();
				if (v !== undefined) args[name] = v;
				else if (required.has(name)) throw new Error(`${name} is required.`);
			}
		} catch (e) {
			msg.show(e.message, 'err');
			return;
		}
		submit.disabled = true;
		out.replaceChildren(h('p.loading', null, 'Running in the sandbox…'));
		try {
			const r = await A.post(`/tools/${E(t.id)}/test`, {arguments: args});
			out.replaceChildren(testResult(r, settings));
			msg.hide();
		} catch (e) {
			out.replaceChildren();
			msg.show(e.message, 'err');
		} finally {
			submit.disabled = false;
		}
	}}, rows.length ? rows : h('p.muted', null, 'This tool takes no arguments.'), submit);
	return h('div', null, form, out);
}

function testResult(r, settings) {
	const lim = r.limits || (settings && settings.limits) || {};
	return h('div', {'data-testid': 'test-result'},
	    h('p', null, badge(r.ok ? 'ok' : 'error'), r.timed_out ? ' timed out' : '', r.truncated ? ' output truncated' : '',
		` · exit ${r.exit_code ?? '—'} · ${r.wall_ms ?? '—'} ms wall · ${r.cpu_ms ?? '—'} ms CPU · ${r.peak_rss_kb ?? '—'} KiB peak · isolation ${r.isolation || '—'}`,
		r.secret_values ? ` · secrets: ${r.secret_values}` : ''),
	    h('h3', null, 'Result'), h('pre.out', {'data-testid': 'test-result-value'}, json(r.result)),
	    r.error ? [h('h3', null, 'Error'), pre(`${r.error.type || ''}: ${r.error.message || ''}\n${r.error.traceback || ''}`, 'err')] : null,
	    h('h3', null, 'Standard output'), pre(r.stdout || ''),
	    h('h3', null, 'Standard error'), pre(r.stderr || ''),
	    h('h3', null, 'Limits'), h('p.muted', null, Object.entries(lim).map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`).join(' · ') || '—'),
	    r.allowed_hosts ? h('p.muted', null, `Allowed hosts: ${r.allowed_hosts.join(', ') || 'none'}`) : null);
}
