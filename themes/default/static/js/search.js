/* gen default theme: full-text search in the browser, with no server.
 *
 * gen writes the index as small scripts under zoeken/ (gen/search.c); this
 * file loads the ones a query needs with <script> elements, so search works
 * over http and from file://, where fetch() is blocked. Each data script
 * calls genSearch.X(id, JSON.parse('...')):
 *   meta.js  {docs, perFile, max, ratio, levels, stemmer, shards: [first key
 *            of each term shard], stop: [stop words], kinds: [[id, label]],
 *            themes: [[id, title]], runs: facets, ui: {strings}}
 *   w/N.js   {key: entry} for the keys (folded words and stems) of one range:
 *            "postings" (the key is a term), n (the key's term is the key
 *            without its last n characters), "=term", or [postings, n|"=term"]
 *   d/N.js   [[url, title, date, text file]] for documents N*perFile...
 *   t/N.js   [[anchor, heading, paragraph...]] the text of one document
 * Postings: an optional "!" (a stem, not a word: never suggested), then
 * (gap score)* for the best documents, then optionally "." score and the
 * other documents, all with that one score: "~" start and a bitmap of six
 * documents per character, or gaps. Numbers are base-32 digits of the
 * alphabet below, high first, all but the last digit plus 32. A score
 * character q stands for max * ratio^(q - levels), BM25 worked out by gen.
 *
 * Queries are split, folded and filtered exactly like gen's tokeniser
 * (wordChar and fold must match gen/search.c) and stemmed by js/stem-LANG.js
 * (meta.stemmer names it; a copy of gen's Snowball stemmer), so a word the
 * handbook never uses still finds its stem. Documents must match every
 * word, else any word (and the UI says so); the word being typed also
 * matches as a prefix. Facets count the matches per kind and theme. */
(function () {
	'use strict';

	var doc = document;
	var script = doc.currentScript;
	if (!script || !window.Promise || !''.normalize)
		return;
	var root = script.src.replace(/js\/search\.js(?:[?#].*)?$/, '');
	var base = root + 'zoeken/';
	var onDisk = location.protocol === 'file:';
	var ALPHA = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';
	var DIGIT = new Int8Array(128).fill(-1);
	for (var a = 0; a < 64; a++)
		DIGIT[ALPHA.charCodeAt(a)] = a;

	/* ---- loading data scripts ---------------------------------------- */

	var pending = {}, cache = {};

	function load(kind, id) {
		var key = kind === 'meta' || kind === 'stem' ? kind : kind + id;
		if (cache[key])
			return cache[key];
		var p = new Promise(function (resolve, reject) {
			pending[key] = resolve;
			var s = doc.createElement('script');
			s.src = kind === 'stem' ? root + 'js/stem-' + id + '.js'
				: base + (kind === 'meta' ? 'meta.js' : kind + '/' + id + '.js');
			s.async = true;
			s.onload = s.onerror = function (e) {
				s.remove();
				if (pending[key]) {
					delete pending[key];
					delete cache[key];
					reject(new Error('search: cannot load ' + s.src + ' (' + e.type + ')'));
				}
			};
			doc.head.appendChild(s);
		});
		cache[key] = p;
		return p;
	}

	function settle(key, data) {
		var r = pending[key];
		if (r) {
			delete pending[key];
			r(data);
		}
	}

	var api = window.genSearch = {
		meta: function (m) { settle('meta', m); },
		w: function (id, d) { settle('w' + id, d); },
		d: function (id, d) { settle('d' + id, d); },
		t: function (id, d) { settle('t' + id, d); },
		stemmer: function (lang, fn) { settle('stem', fn); },
		lastMs: 0
	};

	/* ---- words: the tokeniser of gen/search.c ------------------------- */

	function wordChar(c) {
		if (c < 0x80)
			return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
		if (c === 0xAD || c === 0x34F || (c >= 0x200B && c <= 0x200F) ||
		    (c >= 0x2060 && c <= 0x206F) || (c >= 0xFE00 && c <= 0xFE0F) || c === 0xFEFF)
			return true;
		if (c <= 0xBF || c === 0xD7 || c === 0xF7)
			return false;
		return !((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x2E00 && c <= 0x2E7F) ||
			 (c >= 0x3000 && c <= 0x303F) || (c >= 0xE000 && c <= 0xF8FF) ||
			 (c >= 0xFE30 && c <= 0xFE6F) || (c >= 0xFF00 && c <= 0xFF0F) ||
			 (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
			 (c >= 0xFF5B && c <= 0xFF65) || (c >= 0xFFF0 && c <= 0xFFFF) ||
			 (c >= 0x1F000 && c <= 0x1FAFF));
	}

	/* Case folded, compatibility decomposed, marks and ignorables removed:
	 * utf8proc's folding in gen. */
	function fold(s) {
		return s.toLowerCase().normalize('NFKD').toLowerCase()
			.replace(/[\p{M}\u00AD\u034F\u200B-\u200F\u2060-\u206F\uFE00-\uFE0F\uFEFF]/gu, '')
			.replace(/ß/g, 'ss').replace(/ς/g, 'σ');
	}

	/* Runs of word characters: [start, end) in UTF-16 units. */
	function spans(s) {
		var out = [], start = -1, i = 0;
		for (var ch of s) {
			if (wordChar(ch.codePointAt(0))) {
				if (start < 0)
					start = i;
			} else if (start >= 0) {
				out.push([start, i]);
				start = -1;
			}
			i += ch.length;
		}
		if (start >= 0)
			out.push([start, i]);
		return out;
	}

	/* The folded index words of a run of text (before stop words). */
	function foldRun(run) {
		var f = fold(run);
		return spans(f).map(function (sp) { return f.slice(sp[0], sp[1]); })
			.filter(function (w) {
				var n = Array.from(w).length;
				return n >= 2 && n <= 40;
			});
	}

	/* ---- the index ---------------------------------------------------- */

	var meta = null, values = null, docRun = null, runs = null, stop = null;
	var stemWord = null;

	function ready() {
		return load('meta').then(function (m) {
			if (m.stemmer && !stemWord)
				return load('stem', m.stemmer).then(function (fn) {
					stemWord = fn;
					return m;
				});
			return m;
		}).then(function (m) {
			if (meta)
				return meta;
			meta = m;
			stop = new Set(m.stop);
			values = new Float64Array(m.levels + 1);
			for (var q = 1; q <= m.levels; q++)
				values[q] = m.max * Math.pow(m.ratio, q - m.levels);
			/* Facets: runs of documents with the same kind and themes. */
			runs = [];
			docRun = new Uint32Array(m.docs);
			var s = m.runs, pos = { i: 0 }, d = 0;
			while (pos.i < s.length) {
				var count = varint(s, pos), kind = varint(s, pos), nt = varint(s, pos);
				var themes = [];
				while (nt--)
					themes.push(varint(s, pos));
				for (var k = 0; k < count; k++)
					docRun[d++] = runs.length;
				runs.push({ kind: kind, themes: themes });
			}
			return m;
		});
	}

	function varint(s, pos) {
		var x = 0;
		for (;;) {
			var c = DIGIT[s.charCodeAt(pos.i++)];
			if (c >= 32) {
				x = x * 32 + c - 32;
			} else {
				return x * 32 + c;
			}
		}
	}

	function shardOf(key) {
		var b = meta.shards, lo = 0, hi = b.length - 1;
		while (lo < hi) {
			var mid = (lo + hi + 1) >> 1;
			if (b[mid] <= key)
				lo = mid;
			else
				hi = mid - 1;
		}
		return lo;
	}

	function shard(i) {
		return load('w', i);
	}

	/* Calls fn with each term an entry stands for. */
	function eachTerm(key, e, fn) {
		if (Array.isArray(e)) {
			eachTerm(key, e[0], fn);
			eachTerm(key, e[1], fn);
		} else if (typeof e === 'number') {
			fn(key.slice(0, key.length - e));
		} else {
			fn(e.charCodeAt(0) === 61 /* = */ ? e.slice(1) : key);
		}
	}

	/* The terms an entry stands for, as [term, postings-or-null]. */
	function entryTerms(key, e, sh) {
		var out = [];
		var list = Array.isArray(e) ? e : [e];
		list.forEach(function (v) {
			if (typeof v === 'number')
				out.push(key.slice(0, key.length - v));
			else if (v.charAt(0) === '=')
				out.push(v.slice(1));
			else
				out.push(key);
		});
		return out.map(function (t) {
			var p = sh[t];
			if (Array.isArray(p))
				p = p[0];
			return [t, typeof p === 'string' && p.charAt(0) !== '=' ? p : null];
		});
	}

	var decoded = new Map();

	/* Postings of a term: { docs: Int32Array, score: Float64Array }. */
	function postings(term, s) {
		var hit = decoded.get(term);
		if (hit)
			return hit;
		/* At most six documents per character (a bitmap). */
		var docs = new Int32Array(s.length * 6), score = new Float64Array(s.length * 6);
		var k = 0, pos = { i: 0 }, prev = 0;
		if (s.charAt(0) === '!')
			pos.i = 1;
		while (pos.i < s.length && s.charCodeAt(pos.i) !== 46 /* . */) {
			prev += varint(s, pos);
			docs[k] = prev;
			score[k++] = values[DIGIT[s.charCodeAt(pos.i++)]];
		}
		if (pos.i < s.length) {
			var v = values[DIGIT[s.charCodeAt(pos.i + 1)]];
			pos.i += 2;
			if (s.charAt(pos.i) === '~') {
				pos.i++;
				var at = varint(s, pos);
				for (; pos.i < s.length; pos.i++, at += 6) {
					var bits = DIGIT[s.charCodeAt(pos.i)];
					for (var b = 0; b < 6; b++)
						if (bits & (1 << b)) {
							docs[k] = at + b;
							score[k++] = v;
						}
				}
			} else {
				prev = 0;
				while (pos.i < s.length) {
					prev += varint(s, pos);
					docs[k] = prev;
					score[k++] = v;
				}
			}
		}
		hit = { docs: docs.subarray(0, k), score: score.subarray(0, k) };
		decoded.set(term, hit);
		return hit;
	}

	/* Finds the postings of each term, loading the shards they are in. */
	function withPostings(terms) {
		return Promise.all(terms.map(function (t) {
			if (t.p)
				return t;
			return shard(shardOf(t.term)).then(function (sh) {
				var p = sh[t.term];
				if (Array.isArray(p))
					p = p[0];
				t.p = typeof p === 'string' && p.charAt(0) !== '=' ? p : '';
				return t;
			});
		}));
	}

	/* One query word: its terms (with weights) and the folded forms
	 * that show it in a text. */
	function resolveWord(w) {
		var first = shardOf(w.text);
		var last = w.prefix ? shardOf(w.text + '\uffff') : first;
		if (last > first + 2)
			last = first + 2;
		var loads = [];
		for (var i = first; i <= last; i++)
			loads.push(shard(i));
		/* The word's stem, as gen stemmed the index: "klachten" finds
		 * "klacht" even where the handbook never says "klachten". */
		var st = stemWord && !w.stop ? stemWord(w.text) : null;
		loads.push(st !== null ? shard(shardOf(st)) : null);
		return Promise.all(loads).then(function (shs) {
			var t0 = performance.now();
			var stemShard = shs.pop();
			var found = new Map(), forms = new Set();
			function add(key, e, sh, weight) {
				entryTerms(key, e, sh).forEach(function (tp) {
					var old = found.get(tp[0]);
					if (!old || old.weight < weight)
						found.set(tp[0], { term: tp[0], p: tp[1], weight: weight });
				});
				forms.add(key);
			}
			var exact = shs[0][w.text];
			if (exact !== undefined && !w.stop)
				add(w.text, exact, shs[0], 1);
			var se = st !== null ? stemShard[st] : undefined;
			var sp = Array.isArray(se) ? se[0] : se;
			if (typeof sp === 'string' && sp.charAt(0) !== '=' && !found.has(st)) {
				found.set(st, { term: st, p: sp, weight: 1 });
				forms.add(w.text);
			}
			if (w.prefix) {
				var more = [];
				shs.forEach(function (sh) {
					for (var key in sh)
						if (key.length > w.text.length && key.startsWith(w.text) &&
						    !stop.has(key))
							more.push([key, sh[key], sh, popularity(key, sh[key], sh)]);
				});
				/* The most common completions. */
				more.sort(function (x, y) { return y[3] - x[3] || (x[0] < y[0] ? -1 : 1); });
				more.slice(0, 8).forEach(function (m) { add(m[0], m[1], m[2], 0.9); });
			}
			w.terms = Array.from(found.values());
			w.forms = forms;
			spent += performance.now() - t0;
			return withPostings(w.terms).then(function () {
				/* Every form of a term in the loaded shards shows it. */
				var t0 = performance.now();
				var ts = new Set(w.terms.map(function (t) { return t.term; }));
				var key;
				function hasTerm(t) {
					if (ts.has(t))
						forms.add(key);
				}
				shs.forEach(function (sh) {
					for (key in sh)
						eachTerm(key, sh[key], hasTerm);
				});
				ts.forEach(function (t) { forms.add(t); });
				spent += performance.now() - t0;
				return w;
			});
		});
	}

	/* How common an entry's terms are: a long postings string is a
	 * term in many documents (0 when they are in another shard). */
	function popularity(key, e, sh) {
		return Math.max.apply(null, entryTerms(key, e, sh).map(function (tp) {
			return tp[1] ? tp[1].length : 0;
		}));
	}

	/* Splits a query into words; the last one, still being typed, is
	 * also a prefix. Stop words are dropped, except as a prefix. */
	function parseQuery(q) {
		var out = [], seen = new Set();
		var sp = spans(q);
		var typing = sp.length && sp[sp.length - 1][1] === q.length;
		sp.forEach(function (s, i) {
			var parts = foldRun(q.slice(s[0], s[1]));
			parts.forEach(function (w, j) {
				var last = typing && i === sp.length - 1 && j === parts.length - 1;
				var isStop = stop.has(w);
				if (seen.has(w) || (isStop && !(last && w.length >= 3)))
					return;
				seen.add(w);
				out.push({ text: w, prefix: last && w.length >= 3, stop: isStop });
			});
		});
		return out;
	}

	/* Runs a query; resolves to { words, hits: [doc], score, partial,
	 * unknown: [words without any term] }. */
	var spent = 0, total = null, matched = null, best = null, touched = null;
	var TOP = 200;

	function search(q) {
		return ready().then(function () {
			spent = 0;
			var words = parseQuery(q);
			return Promise.all(words.map(resolveWord));
		}).then(function (words) {
			var t0 = performance.now();
			var n = meta.docs, known = 0, unknown = [];
			if (!total) {
				total = new Float64Array(n);
				matched = new Uint8Array(n);
				best = new Float64Array(n);
				touched = new Int32Array(n);
			}
			words.forEach(function (w) {
				if (!w.terms.length) {
					unknown.push(w);
					return;
				}
				known++;
				var nt = 0;
				w.terms.forEach(function (t) {
					if (!t.p)
						return;
					var p = postings(t.term, t.p), docs = p.docs, sc = p.score, wt = t.weight;
					for (var i = 0; i < docs.length; i++) {
						var d = docs[i], s = sc[i] * wt;
						if (best[d] === 0)
							touched[nt++] = d;
						if (s > best[d])
							best[d] = s;
					}
				});
				for (var k = 0; k < nt; k++) {
					var d = touched[k];
					total[d] += best[d];
					matched[d]++;
					best[d] = 0;
				}
			});
			var need = unknown.length ? words.length : known;
			var hits = [], any = [];
			for (var d = 0; d < n; d++) {
				if (!matched[d])
					continue;
				any.push(d);
				if (matched[d] === need)
					hits.push(d);
			}
			var partial = !hits.length && any.length > 0;
			if (partial)
				hits = any;
			var score = new Float64Array(n);
			for (var i = 0; i < any.length; i++) {
				d = any[i];
				score[d] = total[d];
				total[d] = 0;
				matched[d] = 0;
			}
			var res = rank(hits, score);
			res.words = words;
			res.partial = partial;
			res.unknown = unknown;
			api.lastMs = performance.now() - t0 + spent;
			return res;
		});
	}

	/* Best first, ties to the lower document. Only the best TOP are put
	 * in order at once (a common word matches thousands); sortAll() puts
	 * the rest in order when a page or a filter needs it. */
	function rank(hits, score) {
		function cmp(x, y) { return score[y] - score[x] || x - y; }
		var res = { hits: hits, sorted: hits.length };
		if (hits.length > TOP * 2) {
			var mine = new Float64Array(hits.length);
			for (var i = 0; i < hits.length; i++)
				mine[i] = score[hits[i]];
			var cut = mine.sort()[hits.length - TOP];
			var top = [], rest = [];
			hits.forEach(function (d) { (score[d] >= cut ? top : rest).push(d); });
			top.sort(cmp);
			res.hits = top.concat(rest);
			res.sorted = top.length;
		} else {
			hits.sort(cmp);
		}
		res.sortAll = function () {
			if (res.sorted < res.hits.length) {
				res.hits.sort(cmp);
				res.sorted = res.hits.length;
			}
		};
		return res;
	}

	/* Facet counts over hits: each group counts what the other group's
	 * filter lets through, so a choice never hides its alternatives. */
	function facets(hits, filter) {
		var kinds = new Array(meta.kinds.length).fill(0);
		var themes = new Array(meta.themes.length).fill(0);
		var shown = [];
		hits.forEach(function (d) {
			var r = runs[docRun[d]];
			var kindOk = !filter.kinds.size || filter.kinds.has(r.kind);
			var themeOk = !filter.themes.size || r.themes.some(function (t) { return filter.themes.has(t); });
			if (themeOk && r.kind < kinds.length)
				kinds[r.kind]++;
			if (kindOk)
				r.themes.forEach(function (t) { themes[t]++; });
			if (kindOk && themeOk)
				shown.push(d);
		});
		return { kinds: kinds, themes: themes, hits: shown };
	}

	/* ---- results: records, snippets, highlighting --------------------- */

	function record(d) {
		return load('d', Math.floor(d / meta.perFile)).then(function (rows) {
			var r = rows[d % meta.perFile];
			return load('t', r[3]).then(function (text) {
				return { doc: d, url: r[0], title: r[1], date: r[2], text: text,
					 kind: runs[docRun[d]].kind, themes: runs[docRun[d]].themes };
			});
		});
	}

	/* Whether a folded word shows a query word: one of its forms, a
	 * completion of the word being typed, or a compound holding a form. */
	function matcher(words) {
		var all = [];
		words.forEach(function (w, i) {
			if (!w.terms || !w.terms.length)
				return;
			w.forms.forEach(function (f) { all.push([f, i]); });
			if (w.prefix)
				all.push([w.text, i, true]);
		});
		return function (word) {
			for (var k = 0; k < all.length; k++) {
				var f = all[k][0];
				if (word === f || (all[k][2] && word.startsWith(f)) ||
				    (f.length >= 5 && word.length > f.length && word.indexOf(f) >= 0))
					return all[k][1];
			}
			return -1;
		};
	}

	/* Marks in s: [start, end, word index] of the runs that match. */
	function marks(s, match) {
		var out = [];
		spans(s).forEach(function (sp) {
			var ws = foldRun(s.slice(sp[0], sp[1]));
			for (var i = 0; i < ws.length; i++) {
				var m = match(ws[i]);
				if (m >= 0) {
					out.push([sp[0], sp[1], m]);
					break;
				}
			}
		});
		return out;
	}

	function score(ms) {
		var distinct = new Set(ms.map(function (m) { return m[2]; }));
		return distinct.size * 100 + ms.length;
	}

	/* The best section and the best passage in it, cut to about len
	 * characters around the first match. */
	function snippet(rec, match, len) {
		var best = null;
		rec.text.forEach(function (sec) {
			for (var i = 2; i < sec.length; i++) {
				var ms = marks(sec[i], match);
				var s = score(ms) + score(marks(sec[1], match));
				if (!best || s > best.score)
					best = { score: s, anchor: sec[0], heading: sec[1], text: sec[i], marks: ms };
			}
			if (sec.length === 2 && sec[1]) {
				var hm = marks(sec[1], match);
				if (!best || score(hm) > best.score)
					best = { score: score(hm), anchor: sec[0], heading: sec[1], text: '', marks: [] };
			}
		});
		if (!best)
			return { anchor: '', heading: '', text: '', marks: [] };
		var t = best.text, ms = best.marks, from = 0, to = t.length;
		if (t.length > len) {
			/* Start near the match that brings the most query words
			 * into view. */
			var at = ms.length ? ms[0][0] : 0, most = 0;
			ms.forEach(function (m) {
				var lo = m[0] - Math.floor(len / 3), seen = new Set();
				ms.forEach(function (o) {
					if (o[0] >= lo && o[1] <= lo + len)
						seen.add(o[2]);
				});
				if (seen.size > most) {
					most = seen.size;
					at = m[0];
				}
			});
			from = Math.max(0, at - Math.floor(len / 3));
			if (from > 0) {
				var sp = t.indexOf(' ', from);
				from = sp >= 0 && sp < at ? sp + 1 : from;
			}
			to = Math.min(t.length, from + len);
			var end = t.lastIndexOf(' ', to);
			if (to < t.length && end > from + len / 2)
				to = end;
		}
		return {
			anchor: best.score > 0 ? best.anchor : '',
			heading: best.score > 0 ? best.heading : '',
			text: (from > 0 ? '… ' : '') + t.slice(from, to) + (to < t.length ? ' …' : ''),
			marks: ms.filter(function (m) { return m[0] >= from && m[1] <= to; })
				.map(function (m) { var o = from > 0 ? 2 - from : -from; return [m[0] + o, m[1] + o]; })
		};
	}

	/* Appends text to el with the marked runs in <mark>. */
	function highlight(el, text, ms) {
		var at = 0;
		ms.forEach(function (m) {
			if (m[0] > at)
				el.appendChild(doc.createTextNode(text.slice(at, m[0])));
			var mk = doc.createElement('mark');
			mk.textContent = text.slice(m[0], m[1]);
			el.appendChild(mk);
			at = m[1];
		});
		if (at < text.length)
			el.appendChild(doc.createTextNode(text.slice(at)));
		return el;
	}

	function el(tag, cls, text) {
		var e = doc.createElement(tag);
		if (cls)
			e.className = cls;
		if (text)
			e.textContent = text;
		return e;
	}

	function pageUrl(url) {
		if (onDisk && (url === '' || url.charAt(url.length - 1) === '/'))
			url += 'index.html';
		return root + url;
	}

	function searchUrl(q, filter) {
		var p = new URLSearchParams();
		p.set('q', q);
		if (filter) {
			filter.kinds.forEach(function (k) { p.append('soort', meta.kinds[k][0]); });
			filter.themes.forEach(function (t) { p.append('thema', meta.themes[t][0]); });
		}
		return base + (onDisk ? 'index.html' : '') + '?' + p.toString();
	}

	function ui(key, vars) {
		var s = (meta && meta.ui[key]) || key;
		for (var k in vars || {})
			s = s.split('{' + k + '}').join(vars[k]);
		return s;
	}

	function dateText(date) {
		if (!date)
			return '';
		var d = new Date(date + 'T12:00:00Z');
		if (isNaN(d))
			return '';
		return d.toLocaleDateString(meta.lang || undefined, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
	}

	/* Describes a result: title (highlighted), kind, where, snippet. */
	function describe(rec, match, len) {
		var sn = snippet(rec, match, len);
		var where = sn.heading || (/^tip-\d+$/.test(sn.anchor) ? ui('search_tip') + ' ' + sn.anchor.slice(4) : '');
		return {
			href: pageUrl(rec.url) + (sn.anchor ? '#' + sn.anchor : ''),
			title: highlight(el('span', 'search-hit-title'), rec.title, marks(rec.title, match)),
			kind: meta.kinds[rec.kind] ? meta.kinds[rec.kind] : null,
			where: where,
			date: dateText(rec.date),
			snippet: highlight(el('span', 'search-hit-snippet'), sn.text, sn.marks)
		};
	}

	/* Closest known words to each unknown word: by edit distance among
	 * the words of its shard and the next, most common first. */
	function suggest(result) {
		var tried = result.unknown.length ? result.unknown : [];
		return Promise.all(tried.map(function (w) {
			var i = shardOf(w.text);
			var more = i + 1 < meta.shards.length ? [shard(i), shard(i + 1)] : [shard(i)];
			return Promise.all(more).then(function (shs) {
				var max = w.text.length <= 4 ? 1 : 2, found = [];
				shs.forEach(function (sh) {
					for (var key in sh) {
						var e = sh[key];
						if ((typeof e === 'string' && e.charAt(0) === '!') || stop.has(key))
							continue;
						var dist = distance(w.text, key, max);
						if (dist <= max)
							found.push([dist, -popularity(key, e, sh), key]);
					}
				});
				found.sort(function (x, y) { return x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : 1); });
				return { word: w.text, alternatives: found.slice(0, 3).map(function (f) { return f[2]; }) };
			});
		}));
	}

	/* Damerau-Levenshtein distance, giving up above max. */
	function distance(a, b, max) {
		if (Math.abs(a.length - b.length) > max)
			return max + 1;
		var prev2 = null, prev = [], cur;
		for (var j = 0; j <= b.length; j++)
			prev[j] = j;
		for (var i = 1; i <= a.length; i++) {
			cur = [i];
			var low = i;
			for (j = 1; j <= b.length; j++) {
				var c = a[i - 1] === b[j - 1] ? 0 : 1;
				var v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + c);
				if (prev2 && i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
					v = Math.min(v, prev2[j - 2] + 1);
				cur[j] = v;
				low = Math.min(low, v);
			}
			if (low > max)
				return max + 1;
			prev2 = prev;
			prev = cur;
		}
		return prev[b.length];
	}

	/* Query text with each unknown word replaced by its first
	 * alternative (or one alternative of the only unknown word). */
	function corrected(q, sug) {
		var out = [];
		if (sug.length === 1) {
			sug[0].alternatives.forEach(function (alt) { out.push(replaceWord(q, sug[0].word, alt)); });
		} else if (sug.length > 1 && sug.every(function (s) { return s.alternatives.length; })) {
			var r = q;
			sug.forEach(function (s) { r = replaceWord(r, s.word, s.alternatives[0]); });
			out.push(r);
		}
		return out;
	}

	function replaceWord(q, word, alt) {
		var sp = spans(q);
		for (var i = 0; i < sp.length; i++)
			if (foldRun(q.slice(sp[i][0], sp[i][1])).indexOf(word) >= 0)
				return q.slice(0, sp[i][0]) + alt + q.slice(sp[i][1]);
		return q;
	}

	/* ---- the search box: an ARIA combobox with a listbox of results --- */

	function Combobox(form) {
		var input = form.querySelector('input[type="search"]');
		var popup = form.querySelector('.search-popup');
		var list = form.querySelector('[role="listbox"]');
		var note = form.querySelector('.search-popup-note');
		var status = form.querySelector('[role="status"]');
		if (!input || !popup || !list || !note)
			return;
		var seq = 0, active = -1, options = [], timer = 0;

		/* The popup holds the listbox and, below it, a note (no results,
		 * an error); the listbox is only there when it has options. */
		function open(yes) {
			popup.hidden = !yes;
			list.hidden = !yes || !options.length;
			input.setAttribute('aria-expanded', yes && options.length ? 'true' : 'false');
			if (!yes)
				setActive(-1);
		}

		function setActive(i) {
			if (active >= 0 && options[active])
				options[active].setAttribute('aria-selected', 'false');
			active = i;
			if (i >= 0 && options[i]) {
				options[i].setAttribute('aria-selected', 'true');
				input.setAttribute('aria-activedescendant', options[i].id);
				options[i].scrollIntoView({ block: 'nearest' });
			} else {
				input.removeAttribute('aria-activedescendant');
			}
		}

		function option(id, href, cls) {
			var o = el('li', 'search-option' + (cls ? ' ' + cls : ''));
			o.id = id;
			o.setAttribute('role', 'option');
			o.setAttribute('aria-selected', 'false');
			o.dataset.href = href;
			return o;
		}

		function show(q, res, recs, sug) {
			var items = [];
			var match = matcher(res.words);
			recs.forEach(function (rec, i) {
				var d = describe(rec, match, 110);
				var o = option('search-option-' + i, d.href);
				o.appendChild(d.title);
				var meta1 = el('span', 'search-option-meta');
				if (d.kind)
					meta1.appendChild(el('span', 'badge badge-' + d.kind[0], d.kind[1]));
				if (d.where)
					meta1.appendChild(el('span', 'search-option-where', d.where));
				o.appendChild(meta1);
				o.appendChild(d.snippet);
				items.push(o);
			});
			var text = '';
			if (!res.hits.length) {
				text = res.words.length ? ui('search_none', { q: q }) : ui('search_stopwords', { q: q });
			} else {
				var all = option('search-option-all', searchUrl(q), 'search-option-all');
				all.textContent = ui('search_all') + ' (' + res.hits.length + ')';
				items.push(all);
			}
			corrected(q, sug).forEach(function (alt, i) {
				var o = option('search-option-alt-' + i, searchUrl(alt), 'search-option-alt');
				o.textContent = ui('search_suggest') + ' ' + alt;
				items.push(o);
			});
			if (res.partial)
				text = ui('search_partial');
			setActive(-1);
			list.replaceChildren.apply(list, items);
			options = items;
			note.textContent = text;
			note.hidden = !text;
			if (status)
				status.textContent = (res.hits.length ? count(res.hits.length) + '. ' : '') + text;
			open(true);
		}

		function run() {
			var q = input.value;
			var mine = ++seq;
			if (!q.trim()) {
				open(false);
				if (status)
					status.textContent = '';
				return;
			}
			search(q).then(function (res) {
				if (mine !== seq)
					return null;
				var top = res.hits.slice(0, 6);
				return Promise.all([Promise.all(top.map(record)),
						    res.hits.length ? [] : suggest(res)]).then(function (x) {
					if (mine === seq)
						show(q, res, x[0], x[1]);
				});
			}).catch(function (e) {
				if (mine !== seq)
					return;
				options = [];
				note.textContent = ui('search_error');
				note.hidden = false;
				if (status)
					status.textContent = note.textContent;
				open(true);
				console.warn(e);
			});
		}

		function go(i) {
			var o = options[i];
			if (o && o.dataset.href)
				location.href = o.dataset.href;
		}

		input.addEventListener('focus', function () { ready().catch(function () {}); });
		input.addEventListener('input', function () {
			clearTimeout(timer);
			timer = setTimeout(run, 60);
		});
		input.addEventListener('keydown', function (e) {
			var n = options.length;
			if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
				e.preventDefault();
				if (popup.hidden) {
					if (input.value.trim())
						run();
					return;
				}
				if (!n)
					return;
				var next = e.key === 'ArrowDown' ? (active + 1) % n : (active <= 0 ? n - 1 : active - 1);
				setActive(next);
			} else if (e.key === 'Enter' && active >= 0 && !popup.hidden) {
				e.preventDefault();
				go(active);
			} else if (e.key === 'Escape') {
				if (!popup.hidden) {
					e.preventDefault();
					open(false);
				} else if (input.value) {
					e.preventDefault();
					input.value = '';
				}
			}
		});
		popup.addEventListener('mousedown', function (e) { e.preventDefault(); });
		list.addEventListener('click', function (e) {
			var o = e.target.closest('[role="option"]');
			if (o)
				go(options.indexOf(o));
		});
		form.addEventListener('focusout', function (e) {
			if (!form.contains(e.relatedTarget))
				open(false);
		});
	}

	function count(n) {
		return n === 1 ? ui('search_result_one') : ui('search_results', { n: n });
	}

	/* ---- the results page: zoeken/?q=...&soort=...&thema=... ----------- */

	function ResultsPage(page) {
		var form = page.querySelector('form');
		var input = form.querySelector('input[type="search"]');
		var status = page.querySelector('.search-status');
		var facetBox = page.querySelector('.search-facets');
		var list = page.querySelector('.search-results');
		var more = page.querySelector('.search-more');
		var filter = { kinds: new Set(), themes: new Set() };
		var seq = 0, timer = 0, last = null, shown = 0, PAGE = 10;

		var params = new URLSearchParams(location.search);
		input.value = params.get('q') || '';

		function readFilter() {
			filter.kinds.clear();
			filter.themes.clear();
			params.getAll('soort').forEach(function (k) {
				var i = meta.kinds.findIndex(function (x) { return x[0] === k; });
				if (i >= 0)
					filter.kinds.add(i);
			});
			params.getAll('thema').forEach(function (t) {
				var i = meta.themes.findIndex(function (x) { return x[0] === t; });
				if (i >= 0)
					filter.themes.add(i);
			});
		}

		function remember() {
			try {
				history.replaceState(null, '', searchUrl(input.value, filter));
			} catch (e) {
				/* some browsers refuse for file: pages; the page still works */
			}
		}

		function facetGroup(title, name, items, counts, chosen) {
			var fs = el('fieldset', 'search-facet');
			fs.appendChild(el('legend', '', title));
			var ul = el('ul');
			items.forEach(function (it, i) {
				if (name === 'soort' && !counts[i] && !chosen.has(i) && it[0] === 'page')
					return;
				var li = el('li');
				var id = 'facet-' + name + '-' + i;
				var cb = el('input');
				cb.type = 'checkbox';
				cb.id = id;
				cb.name = name;
				cb.value = it[0];
				cb.checked = chosen.has(i);
				cb.disabled = !counts[i] && !cb.checked;
				cb.addEventListener('change', function () {
					if (cb.checked)
						chosen.add(i);
					else
						chosen.delete(i);
					shown = 0;
					remember();
					render(false);
				});
				var label = el('label', '', it[1] + ' ');
				label.htmlFor = id;
				label.appendChild(el('span', 'search-facet-count', '(' + counts[i] + ')'));
				li.appendChild(cb);
				li.appendChild(label);
				ul.appendChild(li);
			});
			fs.appendChild(ul);
			return fs;
		}

		function render(append) {
			var res = last;
			if (!res)
				return Promise.resolve();
			var mine = seq;
			if (filter.kinds.size || filter.themes.size || shown + PAGE > res.sorted)
				res.sortAll();
			var f = facets(res.hits, filter);
			var from = append ? shown : 0;
			var to = Math.min(f.hits.length, from + PAGE);
			return Promise.all([Promise.all(f.hits.slice(from, to).map(record)),
					    res.hits.length ? [] : suggest(res)]).then(function (x) {
				if (mine !== seq)
					return;
				var recs = x[0], sug = x[1], match = matcher(res.words);
				var q = input.value;
				var msg = [];
				if (!res.words.length)
					msg.push(el('span', '', ui('search_stopwords', { q: q })));
				else if (!res.hits.length)
					msg.push(el('span', '', ui('search_none', { q: q })));
				else
					msg.push(el('span', '', count(f.hits.length)));
				if (res.partial)
					msg.push(el('span', 'search-partial', ' ' + ui('search_partial')));
				var alts = corrected(q, sug);
				if (alts.length) {
					var s = el('span', 'search-suggest', ' ' + ui('search_suggest') + ' ');
					alts.forEach(function (alt, i) {
						if (i)
							s.appendChild(doc.createTextNode(', '));
						var a = el('a', '', alt);
						a.href = searchUrl(alt, filter);
						s.appendChild(a);
					});
					msg.push(s);
				}
				status.replaceChildren.apply(status, msg);
				/* Nothing to filter when nothing was found. */
				var groups = [];
				if (res.hits.length) {
					groups.push(facetGroup(ui('search_kind'), 'soort', meta.kinds, f.kinds, filter.kinds));
					if (meta.themes.length)
						groups.push(facetGroup(ui('search_theme'), 'thema', meta.themes, f.themes,
								       filter.themes));
				}
				facetBox.replaceChildren.apply(facetBox, groups);
				var items = recs.map(function (rec) {
					var d = describe(rec, match, 240);
					var li = el('li', 'search-hit');
					var h = el('h2', 'search-hit-heading');
					var a = el('a');
					a.href = d.href;
					a.appendChild(d.title);
					h.appendChild(a);
					li.appendChild(h);
					var m = el('p', 'search-hit-meta');
					if (d.kind)
						m.appendChild(el('span', 'badge badge-' + d.kind[0], d.kind[1]));
					if (d.where)
						m.appendChild(el('span', 'search-hit-where', d.where));
					if (d.date)
						m.appendChild(el('span', 'search-hit-date', d.date));
					li.appendChild(m);
					var p = el('p', 'search-hit-text');
					p.appendChild(d.snippet);
					li.appendChild(p);
					return li;
				});
				if (append)
					items.forEach(function (li) { list.appendChild(li); });
				else
					list.replaceChildren.apply(list, items);
				shown = to;
				more.hidden = shown >= f.hits.length;
				page.classList.toggle('has-results', f.hits.length > 0 || res.hits.length > 0);
			});
		}

		function run() {
			var q = input.value, mine = ++seq;
			remember();
			if (!q.trim()) {
				last = null;
				status.textContent = '';
				list.replaceChildren();
				facetBox.replaceChildren();
				more.hidden = true;
				page.classList.remove('has-results');
				return Promise.resolve();
			}
			status.setAttribute('aria-busy', 'true');
			return search(q).then(function (res) {
				if (mine !== seq)
					return null;
				last = res;
				shown = 0;
				return render(false);
			}).catch(function (e) {
				if (mine === seq)
					status.textContent = ui('search_error');
				console.warn(e);
			}).then(function () {
				if (mine === seq)
					status.removeAttribute('aria-busy');
			});
		}

		form.addEventListener('submit', function (e) {
			e.preventDefault();
			clearTimeout(timer);
			run();
		});
		input.addEventListener('input', function () {
			clearTimeout(timer);
			timer = setTimeout(run, 60);
		});
		more.addEventListener('click', function () {
			var first = shown;
			render(true).then(function () {
				var a = list.querySelectorAll('.search-hit a')[first];
				if (a)
					a.focus();
			});
		});
		/* Arrow keys walk from the box through the results and back. */
		page.addEventListener('keydown', function (e) {
			if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp')
				return;
			var links = Array.prototype.slice.call(list.querySelectorAll('.search-hit a'));
			var at = e.target === input ? -1 : links.indexOf(e.target);
			if (e.target !== input && at < 0)
				return;
			e.preventDefault();
			var next = e.key === 'ArrowDown' ? at + 1 : at - 1;
			if (next < 0)
				input.focus();
			else if (next < links.length)
				links[next].focus();
		});

		ready().then(function () {
			readFilter();
			page.dataset.ready = 'true';
			return run();
		}).catch(function (e) {
			status.textContent = ui('search_error');
			console.warn(e);
		});
	}

	function start() {
		var forms = doc.querySelectorAll('form.search[data-search]');
		for (var i = 0; i < forms.length; i++)
			Combobox(forms[i]);
		var page = doc.getElementById('search-page');
		if (page)
			ResultsPage(page);
	}

	/* For scripts and tests: genSearch.query(q) resolves to the ranked
	 * document numbers; shard(i) to a term shard; stemWord stems. */
	api.query = search;
	api.shard = function (i) {
		return ready().then(function () { return shard(i); });
	};
	Object.defineProperty(api, 'stemWord', { get: function () { return stemWord; } });
	if (doc.readyState === 'loading')
		doc.addEventListener('DOMContentLoaded', start);
	else
		start();
})();
