// signin.js - the sign-in form, shared by the console (app.js) and the
// OAuth consent page (consent.js): the same "Username", "Password" and
// "Sign in", the same messages. onSignedIn runs after A.login succeeded.
import {h, field, notice} from './dom.js';
import * as A from './api.js';

export function signInForm(subtitle, onSignedIn, message) {
	const msg = notice();
	const u = field('Username', 'text', {name: 'username', required: true, autocomplete: 'username'});
	const p = field('Password', 'password', {name: 'password', required: true, autocomplete: 'current-password'});
	const submit = h('button.primary', {type: 'submit'}, 'Sign in');
	const form = h('form.signin', {'aria-labelledby': 'signin-title', novalidate: true},
	    h('h1', {id: 'signin-title'}, 'toolgate'),
	    h('p.sub', null, subtitle),
	    u.row, p.row, submit, msg);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		if (!u.input.value || !p.input.value) {
			msg.show('Enter your username and password.', 'err');
			return;
		}
		submit.disabled = true;
		msg.show('Signing in…', 'info');
		try {
			await A.login(u.input.value, p.input.value);
			p.input.value = '';
			msg.hide();
			onSignedIn();
		} catch (e) {
			const text = e.status === 401 ? 'Wrong username or password.' : e.message;
			msg.show(text, 'err');
			submit.disabled = false;
			p.input.focus();
		}
	});
	if (message) msg.show(message, 'err');
	form.focusFirst = () => u.input.focus();
	return form;
}
