// TAP for the browser tests: ok() prints one check (and, when it fails,
// what was seen, as comment lines); finish() prints the plan and ends the
// process, with status 1 when a check failed.
let n = 0, failed = 0;

export function ok(cond, name, detail) {
	n++;
	console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
	if (!cond) {
		failed++;
		if (detail !== undefined)
			for (const line of String(typeof detail === 'string' ? detail : JSON.stringify(detail, null, 1)).split('\n'))
				console.log('# ' + line);
	}
	return cond;
}

export function finish() {
	console.log(`1..${n}`);
	process.exit(failed ? 1 : 0);
}
