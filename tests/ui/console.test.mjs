// tests/ui/console.test.mjs - the web console (web/) in Debian's chromium,
// headless, driven by playwright-core against the test stack's nginx.
// Run by tests/ui/run.sh (suite "ui" of tests/run.sh). Needs TG_BASE_URL,
// TG_ADMIN_USER, TG_ADMIN_PASSWORD; CHROMIUM (default /usr/bin/chromium).
// TG_UI_SCREENSHOTS=DIR also writes the screenshots of docs/ui.md there.
// Output: one "ok"/"FAIL" line per case, last line "N passed, N failed".
import {assert, browser, http, run, test} from './report.mjs';
import {readFileSync, readdirSync, mkdirSync} from 'node:fs';
import {join, dirname} from 'node:path';
import {fileURLToPath} from 'node:url';

const BASE = process.env.TG_BASE_URL;
const ADMIN = process.env.TG_ADMIN_USER;
const ADMIN_PW = process.env.TG_ADMIN_PASSWORD;
const SHOTS = process.env.TG_UI_SCREENSHOTS || '';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUN = `${process.pid}${Date.now() % 100000}`;
const TIMEOUT = 20000;


// ---------------------------------------------------------------- REST fixtures
function rest(method, path, token, body) {
	return http(method, '/api/v1' + path, token, body);
}
async function must(method, path, token, body, want) {
	const r = await rest(method, path, token, body);
	if (r.status !== want) throw new Error(`${method} ${path}: HTTP ${r.status} (want ${want}): ${JSON.stringify(r.data)}`);
	return r.data;
}
// The item of a paginated list with this id, or null.
async function findItem(path, id) {
	for (let cursor = null, i = 0; i < 100; i++) {
		const r = await must('GET', path + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''), fx.admin, undefined, 200);
		const it = r.items.find((x) => x.id === id);
		if (it || !r.next_cursor) return it || null;
		cursor = r.next_cursor;
	}
	return null;
}
async function signIn(u, p) {
	return (await must('POST', '/auth/login', null, {username: u, password: p}, 200)).access_token;
}

const VIEWER = `uiview${RUN}`;
const DEV = `uidev${RUN}`;
const PW = `pw-${RUN}-long-enough`;
const HOSTILE = '<img src=x onerror="window.__xss=1"> & <script>window.__xss=2</script>';
const fx = {};

async function fixtures() {
	const t = await signIn(ADMIN, ADMIN_PW);
	fx.admin = t;
	await must('POST', '/users', t, {username: VIEWER, password: PW, role: 'viewer'}, 201);
	await must('POST', '/users', t, {username: DEV, password: PW, role: 'developer'}, 201);
	const dev = await signIn(DEV, PW);
	fx.dev = dev;
	const s = await must('POST', '/servers', dev, {name: `ui${RUN}`, description: 'console tests'}, 201);
	fx.server = s;
	const code1 = 'def main(a: int, b: int = 2):\n    return a + b\n';
	const code2 = 'def main(a: int, b: int = 2):\n    print("adding", a, b)\n    return a + b\n';
	// adder: v1 approved, v2 pending (a code diff to review).
	let tl = await must('POST', `/servers/${s.id}/tools`, dev, {name: 'adder', description: 'adds two numbers', code: code1}, 201);
	await must('POST', `/tools/${tl.id}/submit`, dev, {}, 200);
	await must('POST', `/tools/${tl.id}/approve`, t, {version: 1}, 200);
	tl = await must('PATCH', `/tools/${tl.id}`, dev, {code: code2, description: 'adds two numbers and says so', change_summary: 'print the operands'}, 200);
	fx.adder = tl;
	// hostile: its description is HTML that must stay text.
	const ho = await must('POST', `/servers/${s.id}/tools`, dev, {name: 'hostile', description: HOSTILE, code: 'def main():\n    return "<b>bold</b>"\n'}, 201);
	await must('POST', `/tools/${ho.id}/submit`, dev, {}, 200);
	fx.hostile = ho;
	const rj = await must('POST', `/servers/${s.id}/tools`, dev, {name: 'rejectme', description: 'to be rejected', code: 'def main(x: str):\n    return x\n'}, 201);
	await must('POST', `/tools/${rj.id}/submit`, dev, {}, 200);
	fx.reject = rj;
	await must('POST', '/module-requests', dev, {module: `uimod${RUN}`, reason: 'tests/ui'}, 201);
	// a package request (resolved by the package-job process from the test
	// index) beside a network request: each is decided at its own endpoint
	fx.net = await must('POST', '/network-requests', dev, {server_id: s.id, host: `api.ui${RUN}.example`, reason: 'tests/ui'}, 201);
	fx.pkg = await must('POST', '/package-requests', dev, {server_id: s.id, name: 'tgdep', reason: 'tests/ui'}, 202);
	for (let i = 0; i < 600 && fx.pkg.status === 'resolving'; i++) {
		await new Promise((r) => setTimeout(r, 100));
		fx.pkg = await must('GET', `/package-requests/${fx.pkg.id}`, dev, undefined, 200);
	}
	if (fx.pkg.status !== 'pending') throw new Error(`package request not pending: ${JSON.stringify(fx.pkg)}`);
}

// ---------------------------------------------------------------- browser helpers
let current = null; // the page of the running case
async function newPage(opts = {}) {
	const context = await browser.newContext({viewport: opts.viewport || {width: 1280, height: 800}});
	if (opts.clock) await context.clock.install();
	const page = await context.newPage();
	page.setDefaultTimeout(TIMEOUT);
	const problems = [];
	page.on('console', (m) => {
		if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
	});
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	page.on('dialog', (d) => d.dismiss());
	page.problems = problems;
	current = page;
	return page;
}

async function login(page, user, pw) {
	await page.goto(BASE + '/');
	await page.getByLabel('Username').fill(user);
	await page.getByLabel('Password').fill(pw);
	await page.getByRole('button', {name: 'Sign in'}).click();
	await page.getByRole('heading', {name: 'Dashboard', level: 1}).waitFor();
}

// Same-document navigation: page.goto() to a new #hash waits for a load
// event that never comes.
async function go(page, hash) {
	await page.evaluate((h) => {
		location.hash = '#/' + h;
	}, hash);
}

async function shot(page, name) {
	if (!SHOTS) return;
	mkdirSync(SHOTS, {recursive: true});
	await page.screenshot({path: join(SHOTS, `ui-${name}.png`), fullPage: false});
}

async function openReview(page, tool) {
	await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Approvals', exact: true}).click();
	await page.getByRole('heading', {name: 'Approvals', level: 1}).waitFor();
	await page.getByRole('link', {name: tool.exposed_name, exact: true}).click();
	await page.getByRole('heading', {name: tool.exposed_name, level: 1}).waitFor();
}

// ---------------------------------------------------------------- cases

test('static files carry the security headers and a strict CSP', async () => {
	for (const p of ['/', '/ui/app.js', '/ui/app.css', '/ui/does-not-exist.js']) {
		const r = await fetch(BASE + p);
		const csp = r.headers.get('content-security-policy') || '';
		assert(csp.includes("script-src 'self'") && !csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'),
		    `${p}: CSP ${csp}`);
		assert(csp.includes("frame-ancestors 'none'") && csp.includes("require-trusted-types-for 'script'"), `${p}: CSP ${csp}`);
		for (const [k, v] of [['x-content-type-options', 'nosniff'], ['x-frame-options', 'DENY'], ['referrer-policy', 'no-referrer']])
			assert(r.headers.get(k) === v, `${p}: ${k} = ${r.headers.get(k)}`);
		assert(/^[0-9a-f]{32}$/.test(r.headers.get('x-request-id') || ''), `${p}: X-Request-Id missing`);
	}
	const js = await fetch(BASE + '/ui/app.js');
	assert(js.status === 200 && (js.headers.get('content-type') || '').startsWith('text/javascript'), `app.js: ${js.status} ${js.headers.get('content-type')}`);
	// The API behind the same nginx is unchanged.
	const v = await fetch(BASE + '/api/v1/version');
	assert(v.status === 200 && (await v.json()).api === 'v1', 'GET /api/v1/version');
	const n = await fetch(BASE + '/nope');
	assert(n.status === 404 && (n.headers.get('content-type') || '').includes('problem+json'), `/nope: ${n.status}`);
});

test('no HTML sinks or storage in the console sources', async () => {
	const dir = join(ROOT, 'web', 'ui');
	for (const f of readdirSync(dir).filter((x) => x.endsWith('.js'))) {
		const src = readFileSync(join(dir, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
		for (const bad of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function',
			'localStorage', 'sessionStorage', 'document.cookie', 'indexedDB'])
			assert(!src.includes(bad), `web/ui/${f} uses ${bad}`);
	}
});

let adminPage;
let loginToken = null;
test('sign in with Username and Password; files loaded at sign-in under 300 KiB', async () => {
	const page = await newPage();
	adminPage = page;
	let bytes = 0;
	const files = [];
	page.on('response', async (r) => {
		const u = new URL(r.url());
		if (u.pathname.startsWith('/api/')) {
			if (u.pathname === '/api/v1/auth/login' && r.status() === 200) {
				try {
					loginToken = (await r.json()).access_token;
				} catch (e) { /* body gone */ }
			}
			return;
		}
		try {
			const b = await r.body();
			bytes += b.length;
			files.push(`${u.pathname} ${b.length}`);
		} catch (e) { /* redirects have no body */ }
	});
	await page.goto(BASE + '/');
	await shot(page, 'signin');
	await page.getByLabel('Username').fill(ADMIN);
	await page.getByLabel('Password').fill('wrong password, surely');
	await page.getByRole('button', {name: 'Sign in'}).click();
	await page.getByText('Wrong username or password.').waitFor();
	page.problems.length = 0; // the browser logs the 401 of that attempt
	await page.getByLabel('Password').fill(ADMIN_PW);
	await page.getByRole('button', {name: 'Sign in'}).click();
	await page.getByRole('heading', {name: 'Dashboard', level: 1}).waitFor();
	assert((await page.getByTestId('role').textContent()) === 'admin', 'role shown');
	assert(bytes > 0 && bytes <= 300 * 1024, `console files at sign-in: ${bytes} bytes (${files.join(', ')})`);
	assert(loginToken, 'the login response was seen');
	await shot(page, 'dashboard');
});

test('no token in localStorage, sessionStorage or cookies', async () => {
	const page = (current = adminPage);
	const st = await page.evaluate(() => ({
		local: JSON.stringify(Object.entries(localStorage)),
		session: JSON.stringify(Object.entries(sessionStorage)),
		cookie: document.cookie,
		n: localStorage.length + sessionStorage.length,
	}));
	assert(st.n === 0, `storage holds ${st.n} entries: ${st.local} ${st.session}`);
	assert(!st.cookie, `cookies: ${st.cookie}`);
	const cookies = await page.context().cookies();
	assert(cookies.length === 0, `cookies in the context: ${JSON.stringify(cookies)}`);
	// And the token works only while signed in: it is nowhere but memory.
	assert(!(st.local + st.session + st.cookie).includes(loginToken.slice(-20)), 'token found in storage');
});

test('approve a pending tool from the review view with its diff visible', async () => {
	const page = (current = adminPage);
	const t = fx.adder;
	await openReview(page, t);
	const diff = page.getByRole('region', {name: 'Code diff'});
	await diff.waitFor();
	// Both sides: the approved v1 on the left, the current v2 on the right,
	// the added line marked as added.
	const head = await diff.locator('thead').textContent();
	assert(head.includes('approved v1') && head.includes('current v2'), `diff header: ${head}`);
	const added = await diff.locator('td.add').allTextContents();
	assert(added.some((x) => x.includes('print("adding", a, b)')), `added lines: ${JSON.stringify(added)}`);
	const same = await diff.locator('tr.r-same').count();
	assert(same >= 1, 'context lines on both sides');
	const whoWhy = await page.getByRole('heading', {name: 'Who changed it and why'}).locator('..').textContent();
	assert(whoWhy.includes(DEV) && whoWhy.includes('print the operands'), `who/why: ${whoWhy}`);
	const desc = await page.getByRole('heading', {name: 'Description, schema and annotations'}).locator('..').textContent();
	assert(desc.includes('adds two numbers and says so'), 'description change shown');
	await shot(page, 'review');
	await page.getByRole('button', {name: 'Approve', exact: true}).click();
	await page.getByText(`Approved ${t.exposed_name} version 2.`).waitFor();
	const after = await must('GET', `/tools/${t.id}`, fx.admin, undefined, 200);
	assert(after.status === 'approved' && after.approved_version === 2, `after approve: ${after.status} v${after.approved_version}`);
});

test('a package request is approved at its own endpoint, with its review data', async () => {
	const page = (current = adminPage);
	await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Approvals', exact: true}).click();
	await page.getByRole('heading', {name: 'Approvals', level: 1}).waitFor();
	const row = page.getByRole('row').filter({hasText: 'tgdep'}).filter({hasText: `ui${RUN}`});
	const text = await row.textContent();
	assert(text.includes('package') && text.includes('→ 1.2') && text.includes('1 wheel'), `package row: ${text}`);
	await row.getByRole('button', {name: 'Approve package tgdep'}).click();
	await page.getByText('Approved tgdep: installation started.').waitFor();
	let p = await must('GET', `/package-requests/${fx.pkg.id}`, fx.admin, undefined, 200);
	assert(p.status === 'installing' || p.status === 'approved', `package request after approve: ${p.status}`);
	const n = await findItem('/network-requests?limit=100', fx.net.id);
	assert(n && n.status === 'pending', `the network request changed: ${JSON.stringify(n)}`);
	for (let i = 0; i < 600 && p.status === 'installing'; i++) {
		await new Promise((r) => setTimeout(r, 100));
		p = await must('GET', `/package-requests/${fx.pkg.id}`, fx.admin, undefined, 200);
	}
	assert(p.status === 'approved', `installed: ${p.status} ${JSON.stringify(p.error)}`);
	await go(page, 'requests');
	await page.getByRole('heading', {name: 'Package requests', exact: true}).waitFor();
	const sec = await page.getByRole('heading', {name: 'Package requests', exact: true}).locator('..').textContent();
	assert(sec.includes('tgdep') && sec.includes('approved'), `requests page: ${sec}`);
});

test('reject needs a reason', async () => {
	const page = (current = adminPage);
	const t = fx.reject;
	await openReview(page, t);
	await page.getByRole('button', {name: 'Reject', exact: true}).click();
	await page.getByText('A reason is required to reject.').waitFor();
	let now = await must('GET', `/tools/${t.id}`, fx.admin, undefined, 200);
	assert(now.status === 'pending_review', `rejected without a reason: ${now.status}`);
	await page.getByLabel('Reason for reject').fill('needs input validation');
	await page.getByRole('button', {name: 'Reject', exact: true}).click();
	await page.getByText(`Rejected ${t.exposed_name}.`).waitFor();
	now = await must('GET', `/tools/${t.id}`, fx.admin, undefined, 200);
	assert(now.status === 'rejected' && now.review_reason === 'needs input validation', `after reject: ${now.status} ${now.review_reason}`);
});

test('a hostile description stays text', async () => {
	const page = (current = adminPage);
	await openReview(page, fx.hostile);
	const text = await page.getByTestId('description').textContent();
	assert(text === HOSTILE, `description rendered as ${JSON.stringify(text)}`);
	const imgs = await page.locator('main img').count();
	const scripts = await page.locator('main script').count();
	const xss = await page.evaluate(() => window.__xss);
	assert(imgs === 0 && scripts === 0 && xss === undefined, `img ${imgs}, script ${scripts}, __xss ${xss}`);
	// The diff's "new" side shows the same characters.
	const body = await page.locator('main').textContent();
	assert(body.includes('<img src=x onerror='), 'the markup is visible as text');
});

test('a test run shows its result, stdout and limits', async () => {
	const page = (current = adminPage);
	await go(page, `tool/${fx.adder.id}`);
	await page.reload();
	// A reload signs out (the token was in memory only); signing in again
	// lands on the page asked for.
	await page.getByRole('button', {name: 'Sign in'}).waitFor();
	await page.getByLabel('Username').fill(ADMIN);
	await page.getByLabel('Password').fill(ADMIN_PW);
	await page.getByRole('button', {name: 'Sign in'}).click();
	await page.getByRole('heading', {name: fx.adder.exposed_name, level: 1}).waitFor();
	await page.getByLabel('a', {exact: true}).fill('40');
	await page.getByLabel('b', {exact: true}).fill('2');
	await page.getByRole('button', {name: 'Run test'}).click();
	const res = page.getByTestId('test-result');
	await res.waitFor({timeout: 60000});
	const value = await page.getByTestId('test-result-value').textContent();
	assert(value.trim() === '42', `result ${value}`);
	const all = await res.textContent();
	assert(all.includes('adding 40 2') && /timeout ms \d+/.test(all) && all.includes('isolation'), `result panel: ${all}`);
	await shot(page, 'test-run');
});

const PAGES = ['dashboard', 'approvals', 'servers', 'tools', 'requests', 'sources', 'logs', 'users', 'keys', 'apps', 'audit', 'settings'];
async function visitAll(page, names) {
	for (const p of names) {
		await go(page, `${p}`);
		const t = Date.now();
		await page.locator('main:not([aria-busy]) h1').first().waitFor();
		if (process.env.TG_UI_VERBOSE) console.log(`       #/${p} ${Date.now() - t} ms`);
		const err = await page.locator('main p.err').allTextContents();
		assert(err.length === 0, `#/${p} shows an error: ${err.join('; ')}`);
	}
}

test('every page as admin: no console errors, nav, detail pages', async () => {
	const page = (current = adminPage);
	page.problems.length = 0;
	await visitAll(page, PAGES);
	await visitAll(page, [`server/${fx.server.id}`, `tool/${fx.hostile.id}`, `review/${fx.hostile.id}`]);
	await go(page, `audit`);
	await page.getByRole('button', {name: 'Verify the chain'}).click();
	await page.getByText(/Chain intact: \d+ rows/).waitFor();
	await shot(page, 'audit');
	await go(page, `servers`);
	await page.getByRole('heading', {name: 'Servers', level: 1}).waitFor();
	await shot(page, 'servers');
	await go(page, `approvals`);
	await page.getByRole('link', {name: fx.hostile.exposed_name, exact: true}).waitFor();
	await shot(page, 'approvals');
	assert(page.problems.length === 0, page.problems.join('\n'));
});

test('API key: shown once with a copy button', async () => {
	const page = (current = adminPage);
	await go(page, `keys`);
	await page.getByLabel('Key name').fill(`ui key ${RUN}`);
	await page.getByRole('button', {name: 'Create key'}).click();
	const f = page.getByLabel('New API key (shown only now)');
	await f.waitFor();
	const key = await f.inputValue();
	assert(/^tgk_[A-Za-z0-9_-]{43}$/.test(key), `key ${key}`);
	await page.getByRole('button', {name: 'Copy', exact: true}).waitFor();
	const me = await must('GET', '/auth/me', key, undefined, 200);
	assert(me.username === ADMIN && me.auth === 'api_key', 'the shown key works');
	await shot(page, 'api-key');
	await go(page, `dashboard`);
	await go(page, `keys`);
	await page.getByRole('heading', {name: 'API keys', level: 1}).waitFor();
	assert(!(await page.locator('main').textContent()).includes(key), 'the key is shown again');
});

test('a viewer sees no Approve button and no write controls', async () => {
	const page = await newPage();
	await login(page, VIEWER, PW);
	await openReview(page, fx.hostile);
	await page.getByText('Only an admin can approve, reject or revoke.').waitFor();
	for (const name of ['Approve', 'Reject', 'Revoke'])
		assert(await page.getByRole('button', {name}).count() === 0, `viewer sees ${name}`);
	await go(page, `servers`);
	await page.getByRole('heading', {name: 'Servers', level: 1}).waitFor();
	assert(await page.getByRole('button', {name: 'Create server'}).count() === 0, 'viewer sees Create server');
	assert(await page.getByRole('link', {name: 'Users'}).count() === 0, 'viewer sees Users');
	await go(page, `tool/${fx.adder.id}`);
	await page.getByRole('heading', {name: fx.adder.exposed_name, level: 1}).waitFor();
	assert(await page.getByRole('button', {name: 'Run test'}).count() === 0, 'viewer sees Run test');
	await visitAll(page, PAGES.filter((p) => !['users', 'audit'].includes(p)));
	assert(page.problems.length === 0, page.problems.join('\n'));
	await page.context().close();
});

test('a developer sees no approval controls', async () => {
	const page = await newPage();
	await login(page, DEV, PW);
	await go(page, `review/${fx.hostile.id}`);
	await page.getByRole('heading', {name: fx.hostile.exposed_name, level: 1}).waitFor();
	assert(await page.getByRole('button', {name: 'Approve'}).count() === 0, 'developer sees Approve');
	await go(page, `requests`);
	await page.getByRole('heading', {level: 1}).waitFor();
	assert(await page.getByRole('button', {name: /^Approve/}).count() === 0, 'developer sees Approve on requests');
	assert(await page.getByRole('button', {name: 'Request module'}).count() === 1, 'developer can request a module');
	assert(page.problems.length === 0, page.problems.join('\n'));
	await page.context().close();
});

test('silent refresh before the access token ends', async () => {
	const page = await newPage({clock: true});
	let refreshed = 0;
	page.on('response', (r) => {
		if (new URL(r.url()).pathname === '/api/v1/auth/refresh' && r.status() === 200) refreshed++;
	});
	await login(page, VIEWER, PW);
	const wait = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/refresh');
	await page.clock.fastForward('14:30'); // 15-minute tokens, refreshed a minute early
	const r = await wait;
	assert(r.status() === 200 && refreshed === 1, `refresh: HTTP ${r.status()}`);
	await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Servers'}).click();
	await page.getByRole('heading', {name: 'Servers', level: 1}).waitFor();
	assert(await page.locator('main p.err').count() === 0, 'API calls after the refresh');
	assert(page.problems.length === 0, page.problems.join('\n'));
	await page.context().close();
});

test('sign-out revokes the token', async () => {
	const page = (current = adminPage);
	assert(loginToken, 'token of the sign-in seen');
	// The sign-in of the test-run case replaced it: take the current one.
	let tok = null;
	page.on('response', async (r) => {
		if (new URL(r.url()).pathname === '/api/v1/auth/login' && r.status() === 200) tok = (await r.json()).access_token;
	});
	await page.goto(`${BASE}/`);
	await page.getByLabel('Username').fill(ADMIN);
	await page.getByLabel('Password').fill(ADMIN_PW);
	await page.getByRole('button', {name: 'Sign in'}).click();
	await page.getByRole('heading', {name: 'Dashboard', level: 1}).waitFor();
	assert(tok, 'token of the new sign-in');
	await must('GET', '/auth/me', tok, undefined, 200);
	await page.getByRole('button', {name: 'Sign out'}).click();
	await page.getByRole('button', {name: 'Sign in'}).waitFor();
	await must('GET', '/auth/me', tok, undefined, 401);
	assert(page.problems.length === 0, page.problems.join('\n'));
});

test('phone width: navigation and review readable', async () => {
	const page = await newPage({viewport: {width: 390, height: 844}});
	await login(page, ADMIN, ADMIN_PW);
	await openReview(page, fx.hostile);
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
	assert(overflow <= 1, `page scrolls sideways by ${overflow}px`);
	await shot(page, 'phone');
	assert(page.problems.length === 0, page.problems.join('\n'));
	await page.context().close();
});

// ---------------------------------------------------------------- main
run({fixtures: ['fixtures through the REST API (users, server, tools)', fixtures],
    onFail: async (name) => {
	// What the browser showed, for the logs (TG_UI_FAILSHOTS=DIR).
	if (process.env.TG_UI_FAILSHOTS && current && !current.isClosed()) {
		mkdirSync(process.env.TG_UI_FAILSHOTS, {recursive: true});
		await current.screenshot({path: join(process.env.TG_UI_FAILSHOTS,
		    `fail-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`)}).catch(() => {});
	}
	return false;
}});
