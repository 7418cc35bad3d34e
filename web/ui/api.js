// api.js - the REST client and the session. Tokens live in this module's
// variables only: never localStorage, sessionStorage, cookies or the URL.
// A page reload therefore signs out (docs/ui.md explains why).

const BASE = '/api/v1';
const session = {access: null, refresh: null, me: null, timer: null, expiresAt: 0};
let onExpired = () => {};
let refreshing = null;

export class ApiError extends Error {
	constructor(status, problem, retryAfter) {
		super(describe(status, problem, retryAfter));
		this.status = status;
		this.problem = problem || {};
		this.retryAfter = retryAfter;
		this.fields = (problem && Array.isArray(problem.errors)) ? problem.errors : [];
	}
}

// Clear messages for the statuses a person meets (issue 19).
function describe(status, p, retryAfter) {
	const detail = p && typeof p.detail === 'string' ? p.detail : '';
	switch (status) {
	case 0: return 'The server cannot be reached. Check the connection and try again.';
	case 401: return 'You are not signed in or your session has ended' + (detail ? ` (${detail})` : '') + '.';
	case 403: return 'Your role does not allow this' + (detail ? `: ${detail}` : '.');
	case 429: return 'Too many requests. Wait ' + (retryAfter ? `${retryAfter} s` : 'a moment') + ' and try again.';
	case 503: return 'The service is temporarily unavailable' + (detail ? ` (${detail})` : '') + '. Try again shortly.';
	default: return detail || (p && p.title) || `Request failed (HTTP ${status}).`;
	}
}

export function setExpiredHandler(fn) {
	onExpired = fn;
}

export function me() {
	return session.me;
}

// Permission names from GET /auth/me: read write run approve secrets users
// audit settings. The server enforces them; the console only hides controls.
export function can(perm) {
	return !!(session.me && session.me.permissions.includes(perm));
}

export function signedIn() {
	return session.access !== null;
}

async function raw(method, path, body, token) {
	const headers = {Accept: 'application/json'};
	const opts = {method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error'};
	if (token) headers.Authorization = 'Bearer ' + token;
	if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		opts.body = JSON.stringify(body);
	}
	let r;
	try {
		r = await fetch(BASE + path, opts);
	} catch (e) {
		throw new ApiError(0, null, null);
	}
	let data = null;
	const text = await r.text();
	if (text) {
		try {
			data = JSON.parse(text);
		} catch (e) {
			data = {detail: text.slice(0, 200)};
		}
	}
	if (!r.ok) throw new ApiError(r.status, data, r.headers.get('Retry-After'));
	return data;
}

function schedule(expiresIn) {
	clearTimeout(session.timer);
	session.expiresAt = Date.now() + expiresIn * 1000;
	// Refresh a minute before the access token ends (15 min by default).
	const ms = Math.max(5, expiresIn - 60) * 1000;
	session.timer = setTimeout(() => {
		refresh().catch(() => {});
	}, ms);
}

function adopt(s) {
	session.access = s.access_token;
	session.refresh = s.refresh_token;
	schedule(s.expires_in || 900);
}

export async function login(username, password) {
	const s = await raw('POST', '/auth/login', {username, password}, null);
	adopt(s);
	try {
		session.me = await raw('GET', '/auth/me', undefined, session.access);
	} catch (e) {
		forget();
		throw e;
	}
	return session.me;
}

// Silent refresh: one at a time; the rotated refresh token replaces the old.
export function refresh() {
	if (!session.refresh) return Promise.resolve(false);
	if (refreshing) return refreshing;
	const rt = session.refresh;
	refreshing = raw('POST', '/auth/refresh', {refresh_token: rt}, null)
	    .then((s) => {
		    adopt(s);
		    return true;
	    }, (e) => {
		    if (e.status === 401) {
			    forget();
			    onExpired('Your session has ended. Sign in again.');
		    }
		    return false;
	    })
	    .finally(() => {
		    refreshing = null;
	    });
	return refreshing;
}

function forget() {
	clearTimeout(session.timer);
	session.access = null;
	session.refresh = null;
	session.me = null;
	session.timer = null;
}

// Sign-out revokes: the access token's jti is blacklisted and the refresh
// family revoked by POST /auth/logout; the tokens are dropped either way.
export async function logout() {
	const {access, refresh: rt} = session;
	forget();
	if (access) {
		try {
			await raw('POST', '/auth/logout', {refresh_token: rt}, access);
		} catch (e) {
			// An already dead token: nothing left to revoke.
		}
	}
}

export async function api(method, path, body) {
	if (!session.access) throw new ApiError(401, {detail: 'signed out'}, null);
	try {
		return await raw(method, path, body, session.access);
	} catch (e) {
		if (e.status !== 401 || !session.refresh) throw e;
		if (!(await refresh())) throw e;
		return raw(method, path, body, session.access);
	}
}

export const get = (p) => api('GET', p);
export const post = (p, b) => api('POST', p, b === undefined ? {} : b);
export const patch = (p, b) => api('PATCH', p, b);
export const put = (p, b) => api('PUT', p, b);
export const del = (p) => api('DELETE', p);

// Every page of a list (bounded: at most `max` items).
export async function all(path, max = 1000) {
	const sep = path.includes('?') ? '&' : '?';
	let items = [];
	let cursor = null;
	do {
		const q = `${path}${sep}limit=200${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`;
		const page = await get(q);
		items = items.concat(page.items || []);
		cursor = page.next_cursor;
	} while (cursor && items.length < max);
	return items;
}

export const enc = encodeURIComponent;
