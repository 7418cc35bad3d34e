// dom.js - the only way the console puts data on the page: elements built
// with createElement, data as text nodes (textContent), never HTML strings.
// Nothing in web/ assigns innerHTML/outerHTML or calls insertAdjacentHTML
// (tests/ui checks the sources for it), and the CSP enforces Trusted Types
// so such a sink would throw.

// h('tag.class', {attr: value, onclick: fn}, child, ...): children may be
// strings (text), numbers, nodes, arrays, null/false (skipped).
export function h(spec, attrs, ...children) {
	const [tag, ...classes] = spec.split('.');
	const el = document.createElement(tag || 'div');
	if (classes.length) el.className = classes.join(' ');
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === null || v === undefined || v === false) continue;
			if (k.startsWith('on') && typeof v === 'function') {
				el.addEventListener(k.slice(2), v);
			} else if (k === 'class') {
				el.className = [el.className, v].filter(Boolean).join(' ');
			} else if (k === 'value' || k === 'checked' || k === 'disabled' ||
			    k === 'selected' || k === 'required' || k === 'open') {
				el[k] = v;
			} else if (k === 'href') {
				// Only links inside the console (#/...) or same-origin paths.
				const s = String(v);
				if (!s.startsWith('#/') && !s.startsWith('/'))
					throw new Error('refusing a link that leaves the console');
				el.setAttribute('href', s);
			} else {
				el.setAttribute(k, v === true ? '' : String(v));
			}
		}
	}
	add(el, children);
	return el;
}

function add(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false) continue;
		if (Array.isArray(c)) add(el, c);
		else if (c instanceof Node) el.append(c);
		else el.append(document.createTextNode(String(c)));
	}
}

export function clear(el) {
	while (el.firstChild) el.removeChild(el.firstChild);
	return el;
}

let uid = 0;
export function nextId(prefix) {
	uid += 1;
	return `${prefix || 'f'}-${uid}`;
}

// A labelled form field. kind: 'text' | 'password' | 'number' | 'textarea' |
// 'select' | 'checkbox'. Returns {row, input}.
export function field(label, kind, opts = {}) {
	const id = nextId('f');
	let input;
	if (kind === 'textarea') {
		input = h('textarea', {id, name: opts.name, rows: opts.rows || 4,
		    required: opts.required, placeholder: opts.placeholder,
		    spellcheck: 'false'});
		if (opts.value !== undefined && opts.value !== null) input.value = opts.value;
	} else if (kind === 'select') {
		input = h('select', {id, name: opts.name, required: opts.required},
		    (opts.options || []).map((o) => {
			    const [v, t] = Array.isArray(o) ? o : [o, o];
			    return h('option', {value: v, selected: String(opts.value) === String(v)}, t);
		    }));
	} else {
		input = h('input', {id, name: opts.name, type: kind || 'text',
		    required: opts.required, autocomplete: opts.autocomplete || 'off',
		    placeholder: opts.placeholder, min: opts.min, max: opts.max,
		    step: opts.step});
		if (kind === 'checkbox') input.checked = !!opts.value;
		else if (opts.value !== undefined && opts.value !== null) input.value = String(opts.value);
	}
	// The label is exactly the field's name (tests find fields by it);
	// "required" goes into the hint and the input's required attribute.
	const lab = h('label', {for: id}, label);
	const hint = [opts.required ? 'required' : null, opts.hint].filter(Boolean).join(' · ');
	const row = h(kind === 'checkbox' ? 'div.field.check' : 'div.field', null,
	    kind === 'checkbox' ? [input, lab] : [lab, input],
	    hint ? h('div.hint', {id: id + '-hint'}, hint) : null);
	if (hint) input.setAttribute('aria-describedby', id + '-hint');
	return {row, input};
}

export function button(label, onclick, opts = {}) {
	return h('button', {type: opts.type || 'button', class: opts.class || '',
	    onclick, disabled: opts.disabled, 'aria-label': opts.ariaLabel}, label);
}

export function link(label, href) {
	return h('a', {href}, label);
}

export function fmtTime(s) {
	if (!s) return '—';
	const d = new Date(s);
	if (Number.isNaN(d.getTime())) return String(s);
	return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function json(v) {
	return JSON.stringify(v, null, 2);
}

export function pre(text, cls) {
	return h(cls ? 'pre.' + cls : 'pre', null, text === null || text === undefined ? '' : String(text));
}

// A table from rows of cells (strings or nodes).
export function table(headers, rows, opts = {}) {
	if (!rows.length)
		return h('p.empty', null, opts.empty || 'Nothing here yet.');
	return h('div.table-wrap', null, h('table', null,
	    opts.caption ? h('caption', null, opts.caption) : null,
	    h('thead', null, h('tr', null, headers.map((t) => h('th', {scope: 'col'}, t)))),
	    h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c)))))));
}

export function badge(text, kind) {
	return h('span.badge', {class: 'b-' + String(kind || text).replace(/[^a-z_]/g, '')}, text);
}

export function section(title, ...children) {
	return h('section.card', null, h('h2', null, title), children);
}

// A status line region for results of actions (polite live region).
export function notice() {
	const el = h('div.notice', {role: 'status', 'aria-live': 'polite'});
	el.show = (text, kind) => {
		el.className = 'notice ' + (kind || 'ok');
		el.textContent = text;
	};
	el.hide = () => {
		el.className = 'notice';
		el.textContent = '';
	};
	return el;
}
