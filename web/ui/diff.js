// diff.js - the server's unified diff (GET /tools/{id}/diff, code_diff)
// shown side by side: approved version on the left, current on the right.
import {h, json} from './dom.js';

// -> [{type: 'hunk'|'same'|'del'|'add'|'change', left, right, ln, rn}]
export function parseUnified(text) {
	const rows = [];
	let ln = 0;
	let rn = 0;
	let dels = [];
	let adds = [];
	const flush = () => {
		const n = Math.max(dels.length, adds.length);
		for (let i = 0; i < n; i++) {
			const d = dels[i];
			const a = adds[i];
			rows.push({type: d && a ? 'change' : d ? 'del' : 'add',
			    left: d ? d.text : null, ln: d ? d.n : null,
			    right: a ? a.text : null, rn: a ? a.n : null});
		}
		dels = [];
		adds = [];
	};
	for (const line of String(text || '').split('\n')) {
		if (line.startsWith('--- ') || line.startsWith('+++ ')) continue;
		const m = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/.exec(line);
		if (m) {
			flush();
			ln = Number(m[1]);
			rn = Number(m[2]);
			// "-1,0" means "no lines, insert after line 1": numbering starts below.
			if (/^@@ -\d+,0 /.test(line)) ln += 1;
			if (/ \+\d+,0 @@/.test(line)) rn += 1;
			rows.push({type: 'hunk', left: line, right: null});
			continue;
		}
		if (line.startsWith('-')) {
			dels.push({text: line.slice(1), n: ln++});
		} else if (line.startsWith('+')) {
			adds.push({text: line.slice(1), n: rn++});
		} else if (line.startsWith(' ')) {
			flush();
			rows.push({type: 'same', left: line.slice(1), right: line.slice(1), ln: ln++, rn: rn++});
		} else if (line.startsWith('\\')) {
			flush();
			rows.push({type: 'hunk', left: line, right: null});
		}
	}
	flush();
	return rows;
}

function cell(n, text, cls) {
	return [h('td.ln', {'aria-hidden': 'true'}, n === null || n === undefined ? '' : String(n)),
	    h('td.code', {class: cls}, text === null ? '' : text)];
}

// The code diff as a table with two columns of code.
export function sideBySide(codeDiff, fromLabel, toLabel) {
	const rows = parseUnified(codeDiff);
	if (!rows.length) return h('p.empty', null, 'The code is unchanged.');
	const body = rows.map((r) => {
		if (r.type === 'hunk')
			return h('tr.hunk', null, h('td', {colspan: '4'}, r.left));
		const lc = r.type === 'del' || r.type === 'change' ? 'del' : r.type === 'add' ? 'none' : '';
		const rc = r.type === 'add' || r.type === 'change' ? 'add' : r.type === 'del' ? 'none' : '';
		return h('tr', {class: 'r-' + r.type}, cell(r.ln, r.left, lc), cell(r.rn, r.right, rc));
	});
	return h('div.diff-wrap', {tabindex: '0', role: 'region', 'aria-label': 'Code diff'},
	    h('table.diff', null,
		h('caption.sr', null, `Code: ${fromLabel} (left) against ${toLabel} (right)`),
		h('thead', null, h('tr', null,
		    h('th', {colspan: '2', scope: 'colgroup'}, fromLabel),
		    h('th', {colspan: '2', scope: 'colgroup'}, toLabel))),
		h('tbody', null, body)));
}

// name / description / input_schema / annotations: {old, new} pairs.
export function fieldChanges(diff) {
	const out = [];
	for (const k of ['name', 'description', 'input_schema', 'annotations']) {
		const c = diff[k];
		if (!c || typeof c !== 'object' || !('old' in c || 'new' in c)) continue;
		const show = (v) => (v === null || v === undefined ? '(none)' :
		    typeof v === 'string' ? v : json(v));
		out.push(h('div.change', null,
		    h('h3', null, k.replace('_', ' ')),
		    h('div.pair', null,
			h('div.old', null, h('div.tag', null, 'approved'), h('pre', null, show(c.old))),
			h('div.new', null, h('div.tag', null, 'current'), h('pre', null, show(c.new))))));
	}
	return out;
}
