// tests/ui/report.mjs - what the browser tests (console.test.mjs,
// oauth.test.mjs) share: the cases (test), the run (run: the environment,
// the fixtures, Debian's chromium, each case in turn), the result lines
// "  ok   name (N s)" / "  FAIL name" and the "N passed, N failed" last line
// tests/run.sh reads, and the JSON fetch of the fixtures (http).
import {chromium} from 'playwright-core';
import {statSync} from 'node:fs';

let passed = 0;
let failed = 0;
let t0 = Date.now();
const cases = [];

// The browser of the run (chromium.launch), once run() started it.
export let browser = null;

export function report(ok, name, err) {
	const took = `(${((Date.now() - t0) / 1000).toFixed(1)} s)`;
	t0 = Date.now();
	if (ok) {
		passed++;
		console.log(`  ok   ${name} ${took}`);
	} else {
		failed++;
		console.log(`  FAIL ${name} ${took}`);
		for (const l of String(err && err.stack || err).split('\n').slice(0, 12)) console.log(`       | ${l}`);
	}
}

export function assert(cond, msg) {
	if (!cond) throw new Error(msg);
}

// A case: run() runs them in this order.
export function test(name, fn) {
	cases.push([name, fn]);
}

// method TG_BASE_URL + path with an optional bearer token and JSON body:
// {status, data (the parsed JSON body, else its text; null when empty),
// headers}.
export async function http(method, path, token, body) {
	const headers = {Accept: 'application/json'};
	if (token) headers.Authorization = `Bearer ${token}`;
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	const r = await fetch(process.env.TG_BASE_URL + path, {method, headers,
	    body: body === undefined ? undefined : JSON.stringify(body)});
	const text = await r.text();
	let data = null;
	try {
		data = text ? JSON.parse(text) : null;
	} catch (e) {
		data = text;
	}
	return {status: r.status, data, headers: r.headers};
}

// The whole run, then the last line (the exit code is 1 when anything
// failed): TG_BASE_URL, TG_ADMIN_USER and TG_ADMIN_PASSWORD must be set;
// fixtures (optional, [name, fn]) run first, and their failure ends the
// run; then chromium (CHROMIUM, default /usr/bin/chromium), headless, and
// every case. After a failing case, onFail(name) (optional) runs; when it
// returns true, no further case runs.
export async function run({fixtures = null, onFail = null} = {}) {
	try {
		for (const v of ['TG_BASE_URL', 'TG_ADMIN_USER', 'TG_ADMIN_PASSWORD'])
			if (!process.env[v]) {
				report(false, 'environment', `${v} is not set (run through tests/run.sh)`);
				return;
			}
		if (fixtures && !(await one(fixtures[0], fixtures[1])))
			return;
		const exe = process.env.CHROMIUM || '/usr/bin/chromium';
		try {
			statSync(exe);
			browser = await chromium.launch({executablePath: exe, headless: true,
			    args: ['--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check']});
		} catch (e) {
			report(false, `launch ${exe}`, e);
			return;
		}
		for (const [name, fn] of cases)
			if (!(await one(name, fn)) && onFail && (await onFail(name)))
				break;
	} catch (e) {
		report(false, 'runner', e);
	} finally {
		if (browser) await browser.close().catch(() => {});
		console.log(`${passed} passed, ${failed} failed`);
		process.exitCode = failed ? 1 : 0;
	}
}

// One case, its time from now; true when it passed.
async function one(name, fn) {
	t0 = Date.now();
	try {
		await fn();
		report(true, name);
		return true;
	} catch (e) {
		report(false, name, e);
		return false;
	}
}
