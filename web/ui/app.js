// app.js - sign-in, the layout, the navigation and the hash router.
import {h, clear, notice} from './dom.js';
import {signInForm} from './signin.js';
import * as A from './api.js';
import * as P from './pages.js';
import * as T from './tools.js';
import * as M from './admin.js';
import * as X from './apps.js';

const root = document.getElementById('app');

// [hash prefix, nav label, page, permission needed to show it (none: 'read')]
const NAV = [
	['dashboard', 'Dashboard', P.dashboard],
	['approvals', 'Approvals', P.approvals],
	['servers', 'Servers', T.servers],
	['tools', 'Tools', T.tools],
	['requests', 'Requests', P.requests],
	['sources', 'Sources', P.sources],
	['logs', 'Logs', P.logs],
	['users', 'Users', M.users, 'users'],
	['keys', 'API keys', M.keys, 'self'],
	['apps', 'Connected apps', X.apps, 'self'],
	['audit', 'Audit', M.audit, 'audit'],
	['settings', 'Settings', M.settings],
];
const allowed = (n) => A.can(n[3] || 'read');
// Detail pages reached from the lists: [page, the nav entry they belong to].
const DETAIL = {
	review: [P.review, 'approvals'],
	server: [T.server, 'servers'],
	tool: [T.tool, 'tools'],
	source: [P.source, 'sources'],
	log: [P.logDetail, 'logs'],
};

let main = null;
let nav = null;

function signInPage(message) {
	clear(root);
	document.title = 'Sign in · toolgate';
	const form = signInForm('Sign in to review and approve tools.', shell, message);
	root.append(h('main.signin-wrap', null, form));
	form.focusFirst();
}

function shell() {
	clear(root);
	const who = A.me();
	nav = h('nav.nav', {'aria-label': 'Main'}, h('ul', null,
	    NAV.filter(allowed).map((n) =>
		h('li', null, h('a', {href: '#/' + n[0], 'data-page': n[0]}, n[1])))));
	main = h('main.main', {id: 'main', tabindex: '-1'});
	const out = h('button.link', {type: 'button', onclick: async () => {
		await A.logout();
		location.hash = '';
		signInPage();
	}}, 'Sign out');
	root.append(
	    h('a.skip', {href: '#/skip', onclick: (ev) => {
		    ev.preventDefault();
		    main.focus();
	    }}, 'Skip to content'),
	    h('header.top', null,
		h('span.brand', null, 'toolgate'),
		h('span.who', null, h('span', {'data-testid': 'username'}, who.username), ' · ',
		    h('span.role', {'data-testid': 'role'}, who.role)),
		out),
	    h('div.layout', null, nav, main));
	if (!location.hash || location.hash === '#' || location.hash === '#/')
		location.hash = '#/dashboard';
	else
		route();
}

let seq = 0;
let flash = null; // a message for the next render (after an action reloads)
async function route() {
	if (!A.signedIn() || !main) return;
	const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
	if (parts[0] === 'skip') return;
	const name = parts[0] || 'dashboard';
	const navEntry = NAV.find((n) => n[0] === name);
	const detail = DETAIL[name];
	const page = navEntry ? navEntry[2] : detail && detail[0];
	for (const a of nav.querySelectorAll('a')) {
		if (a.dataset.page === (detail ? detail[1] : name)) a.setAttribute('aria-current', 'page');
		else a.removeAttribute('aria-current');
	}
	const my = ++seq;
	clear(main);
	main.setAttribute('aria-busy', 'true');
	const target = h('div.page');
	main.append(target);
	if (!page) {
		target.append(h('h1', null, 'Not found'), h('p', null, 'There is no such page.'));
		main.removeAttribute('aria-busy');
		return;
	}
	if (navEntry && !allowed(navEntry)) {
		target.append(h('h1', null, navEntry[1]), h('p.err', null, 'Your role does not allow this page.'));
		main.removeAttribute('aria-busy');
		return;
	}
	target.append(h('p.loading', null, 'Loading…'));
	const said = flash;
	flash = null;
	const ctx = {
		args: parts.slice(1),
		stale: () => my !== seq,
		reload: (text, kind) => {
			flash = text ? {text, kind: kind || 'ok'} : null;
			return route();
		},
	};
	try {
		const content = await page(ctx);
		if (my !== seq) return;
		clear(target);
		target.append(content);
		if (said) {
			const n = notice();
			n.show(said.text, said.kind);
			const h1 = target.querySelector('h1');
			if (h1) h1.after(n);
			else target.prepend(n);
		}
		document.title = (target.querySelector('h1') || {}).textContent + ' · toolgate';
	} catch (e) {
		if (my !== seq) return;
		clear(target);
		if (e.status === 401 && !A.signedIn()) return;
		target.append(h('h1', null, 'Something went wrong'), h('p.err', {role: 'alert'}, e.message || String(e)));
	} finally {
		if (my === seq) main.removeAttribute('aria-busy');
	}
}

A.setExpiredHandler((message) => {
	main = null;
	signInPage(message);
});
window.addEventListener('hashchange', route);
signInPage();
