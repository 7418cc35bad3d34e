// admin.js - users, API keys, the audit log (with its chain check), settings.
import {h, field, button, fmtTime, json, pre, table, badge, section, notice} from './dom.js';
import * as A from './api.js';

const E = A.enc;
const ROLES = [['viewer', 'viewer'], ['developer', 'developer'], ['admin', 'admin']];

// ------------------------------------------------------------- users
export async function users(ctx) {
	const list = await A.all('/users', 1000);
	const msg = notice();
	const name = field('New user name', 'text', {required: true});
	const pw = field('Initial password', 'password', {required: true, autocomplete: 'new-password', hint: '12 characters or more'});
	const role = field('Role', 'select', {options: ROLES, value: 'viewer'});
	return h('div', null, h('h1', null, 'Users'), msg,
	    table(['User', 'Role', 'State', 'Last sign-in', 'Created', 'Actions'], list.map((u) => {
		    const r = field(`Role of ${u.username}`, 'select', {options: ROLES, value: u.role});
		    r.input.addEventListener('change', () => change(u, {role: r.input.value}, `${u.username} is now ${r.input.value}.`));
		    return [u.username, r.row, u.disabled ? badge('disabled') : badge('enabled', 'ok'), fmtTime(u.last_login_at), fmtTime(u.created_at),
			h('div.buttons', null,
			    button(u.disabled ? 'Enable' : 'Disable', () => change(u, {disabled: !u.disabled},
				`${u.username} ${u.disabled ? 'enabled' : 'disabled'}.`), {ariaLabel: `${u.disabled ? 'Enable' : 'Disable'} ${u.username}`}),
			    button('Delete', async () => {
				    if (!confirm(`Delete the user ${u.username}?`)) return;
				    try {
					    await A.del(`/users/${E(u.id)}`);
					    ctx.reload();
				    } catch (e) {
					    msg.show(e.message, 'err');
				    }
			    }, {class: 'danger', ariaLabel: `Delete ${u.username}`}))];
	    })),
	    section('Add a user', h('form.inline', {onsubmit: async (ev) => {
		    ev.preventDefault();
		    try {
			    await A.post('/users', {username: name.input.value.trim(), password: pw.input.value, role: role.input.value});
			    pw.input.value = '';
			    ctx.reload('User created.');
		    } catch (e) {
			    msg.show(e.message, 'err');
		    }
	    }}, name.row, pw.row, role.row, h('button', {type: 'submit'}, 'Add user'))));

	async function change(u, body, text) {
		try {
			await A.patch(`/users/${E(u.id)}`, body);
			ctx.reload(text + ' Their tokens were revoked.');
		} catch (e) {
			ctx.reload(e.message, 'err');
		}
	}
}

// ------------------------------------------------------------- API keys
export async function keys(ctx) {
	const everyone = A.can('users');
	const list = await A.all(everyone ? '/api-keys?all=1' : '/api-keys', 1000);
	const msg = notice();
	const shown = h('div');
	const me = A.me();
	const order = ['viewer', 'developer', 'admin'];
	const roles = ROLES.filter(([r]) => order.indexOf(r) <= order.indexOf(me.role));
	const name = field('Key name', 'text', {required: true, placeholder: 'my laptop'});
	const role = field('Key role', 'select', {options: roles, value: me.role});
	const days = field('Expires after (days, optional)', 'number', {min: 1, step: 1});
	return h('div', null, h('h1', null, 'API keys'), msg, shown,
	    A.can('self') ? section('Create a key', h('form.inline', {onsubmit: async (ev) => {
		    ev.preventDefault();
		    const body = {name: name.input.value.trim(), role: role.input.value};
		    if (days.input.value) body.expires_in_days = Number(days.input.value);
		    try {
			    const k = await A.post('/api-keys', body);
			    name.input.value = '';
			    shown.replaceChildren(keyOnce(k));
			    await refreshList();
		    } catch (e) {
			    msg.show(e.message, 'err');
		    }
	    }}, name.row, role.row, days.row, h('button', {type: 'submit'}, 'Create key'))) : null,
	    section(everyone ? 'All keys' : 'Your keys', h('div', {id: 'keylist'}, keyTable(list))));

	async function refreshList() {
		const l = await A.all(everyone ? '/api-keys?all=1' : '/api-keys', 1000);
		const box = document.getElementById('keylist');
		if (box) box.replaceChildren(keyTable(l));
	}

	function keyTable(l) {
		return table(['Name', 'Prefix', 'Role', 'Owner', 'Created', 'Expires', 'Last used', 'State', ''], l.map((k) => [
			k.name, k.prefix, k.role, k.username || `user #${k.user_id}`, fmtTime(k.created_at), fmtTime(k.expires_at),
			fmtTime(k.last_used_at), k.revoked_at ? badge('revoked') : badge('active', 'ok'),
			k.revoked_at ? '' : button('Revoke', async () => {
				if (!confirm(`Revoke the key ${k.name}?`)) return;
				try {
					await A.del(`/api-keys/${E(k.id)}`);
					msg.show(`Key ${k.name} revoked.`, 'ok');
					await refreshList();
				} catch (e) {
					msg.show(e.message, 'err');
				}
			}, {class: 'danger', ariaLabel: `Revoke key ${k.name}`})]), {empty: 'No API keys.'});
	}
}

// The key appears once: in a read-only field with a copy button.
function keyOnce(k) {
	const f = field('New API key (shown only now)', 'text', {value: k.key});
	f.input.readOnly = true;
	const copied = h('span.muted', {role: 'status'});
	return h('div.once', {role: 'alert'},
	    h('p', null, h('strong', null, 'Copy this key now: '), 'it is not shown again, only its prefix.'),
	    f.row,
	    button('Copy', async () => {
		    f.input.select();
		    try {
			    await navigator.clipboard.writeText(f.input.value);
			    copied.textContent = ' Copied.';
		    } catch (e) {
			    copied.textContent = ' Select the text and copy it (the clipboard is not available here).';
		    }
	    }), copied);
}

// ------------------------------------------------------------- audit
export async function audit(ctx) {
	const msg = notice();
	const actor = field('Actor', 'text', {});
	const action = field('Action', 'text', {placeholder: 'tool.approve'});
	const target = field('Target', 'text', {});
	const out = h('div');
	const verdict = h('div', {role: 'status'});
	let cursor = null;
	const more = button('Older', () => load(false));
	more.hidden = true;
	async function load(fresh) {
		if (fresh) {
			cursor = null;
			out.replaceChildren();
		}
		const q = new URLSearchParams({limit: '50'});
		if (actor.input.value.trim()) q.set('actor', actor.input.value.trim());
		if (action.input.value.trim()) q.set('action', action.input.value.trim());
		if (target.input.value.trim()) q.set('target', target.input.value.trim());
		if (cursor) q.set('cursor', cursor);
		try {
			const page = await A.get('/audit?' + q.toString());
			out.append(table(['When', 'Actor', 'Role', 'Action', 'Target', 'Outcome', 'Address', 'Detail'],
			    page.items.map((r) => [fmtTime(r.at), r.actor || '—', r.role || '—', r.action, r.target || '—',
				badge(r.outcome || '—'), r.client_addr || '—', r.detail ? h('code', null, JSON.stringify(r.detail)) : '—']),
			    {empty: 'No entries match.'}));
			cursor = page.next_cursor;
			more.hidden = !cursor;
			msg.hide();
		} catch (e) {
			msg.show(e.message, 'err');
		}
	}
	await load(true);
	return h('div', null, h('h1', null, 'Audit log'), msg,
	    h('div.buttons', null, button('Verify the chain', async () => {
		    verdict.replaceChildren(h('p.loading', null, 'Checking every row…'));
		    try {
			    const v = await A.get('/audit/verify');
			    verdict.replaceChildren(h('p', {class: v.ok ? 'good' : 'err'},
				v.ok ? `Chain intact: ${v.rows} rows checked through #${v.checked_through}.` :
				    `Chain BROKEN: ${v.problems.length} problem(s) in ${v.rows} rows.`),
			    v.ok ? null : table(['Row', 'Problem'], v.problems.map((p) => [String(p.id), p.problem])));
		    } catch (e) {
			    verdict.replaceChildren();
			    msg.show(e.message, 'err');
		    }
	    })), verdict,
	    h('form.inline', {onsubmit: (ev) => {
		    ev.preventDefault();
		    load(true);
	    }}, actor.row, action.row, target.row, h('button', {type: 'submit'}, 'Filter')),
	    out, more);
}

// ------------------------------------------------------------- settings
export async function settings(ctx) {
	const s = await A.get('/settings');
	const msg = notice();
	const parts = [h('h1', null, 'Settings'), msg];
	const rows = Object.entries(s).map(([k, v]) => [k.replace(/_/g, ' '),
	    typeof v === 'object' && v !== null ? pre(json(v)) : String(v)]);
	parts.push(section('Effective settings', table(['Setting', 'Value'], rows)));
	if (A.can('settings')) {
		const text = field('Changes (JSON, any subset; limits and rate_limits merge member-wise)', 'textarea',
		    {rows: 8, value: json({limits: s.limits, approval_reset_on: s.approval_reset_on})});
		parts.push(section('Change settings', h('form', {onsubmit: async (ev) => {
			ev.preventDefault();
			let body;
			try {
				body = JSON.parse(text.input.value);
			} catch (e) {
				msg.show('The changes are not valid JSON.', 'err');
				return;
			}
			try {
				await A.patch('/settings', body);
				ctx.reload('Settings saved.');
			} catch (e) {
				const f = e.fields.map((x) => `${x.field}: ${x.message}`).join('; ');
				msg.show(f ? `${e.message} (${f})` : e.message, 'err');
			}
		}}, text.row, h('button', {type: 'submit'}, 'Save settings'))));
	}
	return h('div', null, parts);
}
