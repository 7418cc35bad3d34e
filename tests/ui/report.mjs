// tests/ui/report.mjs - the one result reporter of the browser tests
// (console.test.mjs, oauth.test.mjs): "  ok   name (N s)" / "  FAIL name"
// lines, and the "N passed, N failed" last line tests/run.sh reads.
let passed = 0;
let failed = 0;
let t0 = Date.now();

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

// The next case's time counts from now (after a suite's set-up).
export function restartClock() {
	t0 = Date.now();
}

export function assert(cond, msg) {
	if (!cond) throw new Error(msg);
}

// The last line; the exit code is 1 when anything failed.
export function finish() {
	console.log(`${passed} passed, ${failed} failed`);
	process.exitCode = failed ? 1 : 0;
}
