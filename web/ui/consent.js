// consent.js - the OAuth consent page (web/ui/consent.html, docs/mcp.md):
// an MCP client sent the person here from GET /oauth/authorize with the
// pending request's handle in the fragment (#request=...). The person signs
// in with the console's form, sees the application, where it sends them
// back to and the role it will act with, and allows or denies. The
// request is read with POST /api/v1/oauth/consent and the decision goes to
// POST /api/v1/oauth/consent/decision, the handle in the body (never in a
// URL, which access logs record), with the console session's bearer token
// (no cookie: nothing another site could forge), which answers where to go
// next: the application's registered redirect URI, never one from this
// page. The session is then ended.
import {h, clear, field, notice} from './dom.js';
import * as A from './api.js';
import {signInForm} from './signin.js';

const root = document.getElementById('app');
const m = /^#request=([A-Za-z0-9_-]{43})$/.exec(location.hash);
const handle = m ? m[1] : null;

function page(...children) {
	clear(root);
	root.append(h('main.signin-wrap', null, h('div.signin.consent', null, children)));
}

function failed(text) {
	document.title = 'Cannot connect · toolgate';
	page(h('h1', null, 'toolgate'), h('p.err', {role: 'alert'}, text),
	    h('p.sub', null, 'Nothing was shared. Close this page and start again from the application.'));
}

async function leave(redirect) {
	await A.logout();
	location.assign(redirect);
}

async function decide(decision, role, msg, buttons) {
	buttons.forEach((b) => { b.disabled = true; });
	msg.show(decision === 'allow' ? 'Connecting…' : 'Denying…', 'info');
	try {
		const r = await A.post('/oauth/consent/decision',
		    role ? {request: handle, decision, role} : {request: handle, decision});
		msg.show(decision === 'allow' ? 'Allowed. Returning to the application…' : 'Denied. Returning to the application…', 'ok');
		await leave(r.redirect_to);
	} catch (e) {
		msg.show(e.message, 'err');
		buttons.forEach((b) => { b.disabled = false; });
	}
}

async function consent() {
	let req;
	try {
		req = await A.post('/oauth/consent', {request: handle});
	} catch (e) {
		await A.logout();
		failed(e.status === 404 ? 'This request has expired or was already answered.' : e.message);
		return;
	}
	document.title = 'Allow ' + req.client_name + '? · toolgate';
	const msg = notice();
	const def = req.remembered_role || req.roles[req.roles.length - 1];
	const role = field('Role', 'select', {name: 'role', value: def, options: req.roles,
	    hint: 'what the application may do on your behalf; at most your own role'});
	const allow = h('button.primary', {type: 'button'}, 'Allow');
	const deny = h('button', {type: 'button'}, 'Deny');
	const buttons = [allow, deny];
	allow.addEventListener('click', () => decide('allow', role.input.value, msg, buttons));
	deny.addEventListener('click', () => decide('deny', null, msg, buttons));
	page(h('h1', {id: 'consent-title'}, 'Allow ' + req.client_name + '?'),
	    h('p.sub', null, req.client_name + ' wants to use the tools of this toolgate server as ' + req.username + '.'),
	    h('dl.consent-facts', null,
		h('dt', null, 'Application'), h('dd', null, req.client_name),
		h('dt', null, 'Sends you back to'), h('dd', {'data-host': ''}, req.redirect_host),
		h('dt', null, 'Access'), h('dd', null, 'the MCP endpoint ' + req.resource)),
	    role.row,
	    h('div.buttons', null, allow, deny), msg);
	if (req.remembered_role) {
		// Consent given before (docs/mcp.md "Connected apps"): continue.
		msg.show('You allowed ' + req.client_name + ' before (as ' + req.remembered_role + '); continuing…', 'info');
		decide('allow', req.remembered_role, msg, buttons);
	} else {
		allow.focus();
	}
}

if (!handle) {
	failed('This page is opened by an application that asks to connect to toolgate; its link is incomplete.');
} else {
	document.title = 'Sign in · toolgate';
	clear(root);
	const form = signInForm('Sign in to connect an application to toolgate.', consent);
	root.append(h('main.signin-wrap', null, form));
	form.focusFirst();
}
