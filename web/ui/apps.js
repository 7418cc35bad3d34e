// apps.js - "Connected apps": the MCP applications (OAuth clients) the
// signed-in person allowed on the consent page, with the role each acts
// with and its last use; Revoke withdraws the consent and cuts the app off
// at once (DELETE /api/v1/oauth/grants/{id}). Admins also see every
// registered client and may delete one (DELETE /api/v1/oauth/clients/{id}).
import {h, button, fmtTime, table, section, notice} from './dom.js';
import * as A from './api.js';

const E = A.enc;

export async function apps(ctx) {
	const admin = A.can('users');
	const msg = notice();
	const mine = h('div', {id: 'grantlist'});
	const all = h('div', {id: 'clientlist'});
	await refresh();
	return h('div', null, h('h1', null, 'Connected apps'), msg,
	    h('p.muted', null, 'MCP applications you allowed to use toolgate on your behalf (Claude, ChatGPT, Cursor, ...).',
		' Revoking one signs it out at once; it has to ask you again.'),
	    section('Your connected apps', mine),
	    admin ? section('Registered OAuth clients (all users)', all) : null);

	async function refresh() {
		mine.replaceChildren(grantTable(await A.all('/oauth/grants', 1000)));
		if (admin) all.replaceChildren(clientTable(await A.all('/oauth/clients', 1000)));
	}

	function host(uris) {
		const u = (uris || [])[0] || '';
		const m = /^https?:\/\/([^/?]+)/.exec(u);
		return m ? m[1] : u.split(':')[0];
	}

	// A danger button: once the question is confirmed, DELETE path, say
	// done and show the lists again.
	function deleteButton(label, question, path, done, ariaLabel) {
		return button(label, async () => {
			if (!confirm(question)) return;
			try {
				await A.del(path);
				msg.show(done, 'ok');
				await refresh();
			} catch (e) {
				msg.show(e.message, 'err');
			}
		}, {class: 'danger', ariaLabel});
	}

	function grantTable(l) {
		return table(['Application', 'Returns to', 'Role', 'Allowed', 'Last used', ''], l.map((g) => [
			g.client_name, host(g.redirect_uris), g.role, fmtTime(g.created_at), fmtTime(g.last_used_at),
			deleteButton('Revoke', `Revoke ${g.client_name}? It loses access at once.`,
			    `/oauth/grants/${E(g.id)}`, `Revoked ${g.client_name}.`, `Revoke ${g.client_name}`)]),
		    {empty: 'No connected apps.'});
	}

	function clientTable(l) {
		return table(['Client', 'Redirect URIs', 'Registered from', 'Registered', 'Last used', 'Users', ''], l.map((c) => [
			c.client_name, (c.redirect_uris || []).join(' '), c.registered_from, fmtTime(c.created_at),
			fmtTime(c.last_used_at), String(c.grants),
			deleteButton('Delete', `Delete the client ${c.client_name}? Every user's consent for it ends.`,
			    `/oauth/clients/${E(c.id)}`, `Deleted ${c.client_name}.`, `Delete client ${c.client_name}`)]),
		    {empty: 'No registered clients.'});
	}
}
