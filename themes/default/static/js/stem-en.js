/* gen default theme: Snowball's English stemmer ("Porter2"), for search
 * queries on English sites.
 *
 * gen stems the index with libstemmer's "english" algorithm; query words
 * the handbook never uses must be stemmed the same way in the browser.
 * Written from the algorithm's description (snowballstem.org, English
 * stemming algorithm); tests/browser/search.mjs checks it against gen's
 * stems. Input is folded already (lowercase, no diacritics, no
 * apostrophes: the tokeniser splits at them). */
(function () {
	'use strict';

	var exceptions = {
		skis: 'ski', skies: 'sky', dying: 'die', lying: 'lie', tying: 'tie',
		idly: 'idl', gently: 'gentl', ugly: 'ugli', early: 'earli', only: 'onli',
		singly: 'singl', sky: 'sky', news: 'news', howe: 'howe', atlas: 'atlas',
		cosmos: 'cosmos', bias: 'bias', andes: 'andes'
	};
	var invariant = /^(inning|outing|canning|herring|earring|proceed|exceed|succeed)$/;

	function vowel(c) {
		return c === 'a' || c === 'e' || c === 'i' || c === 'o' || c === 'u' || c === 'y';
	}

	/* Longest of the suffixes that s ends with, or ''. */
	function longest(s, list) {
		var best = '';
		for (var i = 0; i < list.length; i++) {
			var x = list[i];
			if (x.length > best.length && s.length >= x.length && s.slice(s.length - x.length) === x)
				best = x;
		}
		return best;
	}

	function stem(word) {
		if (Object.prototype.hasOwnProperty.call(exceptions, word))
			return exceptions[word];
		if (word.length < 3)
			return word;
		var w = word.split(''), i;
		if (w[0] === 'y')
			w[0] = 'Y';
		for (i = 1; i < w.length; i++)
			if (w[i] === 'y' && vowel(w[i - 1]))
				w[i] = 'Y';
		var s = w.join('');

		function after(from) { /* past the next vowel, then the next non-vowel */
			var j = from;
			while (j < s.length && !vowel(s.charAt(j)))
				j++;
			while (j < s.length && vowel(s.charAt(j)))
				j++;
			return j < s.length ? j + 1 : -1;
		}
		var p1 = s.length, p2 = s.length;
		var pre = /^(gener|commun|arsen)/.exec(s);
		var r1 = pre ? pre[0].length : after(0);
		if (r1 >= 0) {
			p1 = r1;
			var r2 = after(p1);
			if (r2 >= 0)
				p2 = r2;
		}

		/* A short syllable ends at position end: non-vowel, vowel,
		 * non-vowel other than w, x, Y; or vowel, non-vowel at the start. */
		function shortv(end) {
			var a = s.charAt(end - 3), b = s.charAt(end - 2), c = s.charAt(end - 1);
			if (end >= 3 && !vowel(a) && vowel(b) && !vowel(c) && c !== 'w' && c !== 'x' && c !== 'Y')
				return true;
			return end === 2 && vowel(b) && !vowel(c);
		}
		function replace(k, by) {
			s = s.slice(0, s.length - k) + by;
		}
		function hasVowel(end) {
			for (var j = 0; j < end; j++)
				if (vowel(s.charAt(j)))
					return true;
			return false;
		}

		/* Step 1a */
		var x = longest(s, ['sses', 'ied', 'ies', 's', 'us', 'ss']);
		if (x === 'sses') {
			replace(4, 'ss');
		} else if (x === 'ied' || x === 'ies') {
			replace(3, s.length > 4 ? 'i' : 'ie');
		} else if (x === 's') {
			if (hasVowel(s.length - 2))
				replace(1, '');
		}
		if (!invariant.test(s)) {
			/* Step 1b */
			x = longest(s, ['eed', 'eedly', 'ed', 'edly', 'ing', 'ingly']);
			if (x === 'eed' || x === 'eedly') {
				if (s.length - x.length >= p1)
					replace(x.length, 'ee');
			} else if (x && hasVowel(s.length - x.length)) {
				replace(x.length, '');
				var y = longest(s, ['at', 'bl', 'iz', 'bb', 'dd', 'ff', 'gg', 'mm', 'nn', 'pp', 'rr', 'tt']);
				if (y === 'at' || y === 'bl' || y === 'iz')
					s += 'e';
				else if (y)
					replace(1, '');
				else if (s.length === p1 && shortv(s.length))
					s += 'e';
			}
			/* Step 1c */
			var last = s.charAt(s.length - 1);
			if ((last === 'y' || last === 'Y') && s.length > 2 && !vowel(s.charAt(s.length - 2)))
				replace(1, 'i');
			/* Step 2 */
			x = longest(s, ['tional', 'enci', 'anci', 'abli', 'entli', 'izer', 'ization',
				'ational', 'ation', 'ator', 'alism', 'aliti', 'alli', 'fulness', 'ousli',
				'ousness', 'iveness', 'iviti', 'biliti', 'bli', 'ogi', 'fulli', 'lessli', 'li']);
			if (x && s.length - x.length >= p1) {
				var by = {
					tional: 'tion', enci: 'ence', anci: 'ance', abli: 'able', entli: 'ent',
					izer: 'ize', ization: 'ize', ational: 'ate', ation: 'ate', ator: 'ate',
					alism: 'al', aliti: 'al', alli: 'al', fulness: 'ful', ousli: 'ous',
					ousness: 'ous', iveness: 'ive', iviti: 'ive', biliti: 'ble', bli: 'ble',
					fulli: 'ful', lessli: 'less'
				}[x];
				var before = s.charAt(s.length - x.length - 1);
				if (by !== undefined)
					replace(x.length, by);
				else if (x === 'ogi' && before === 'l')
					replace(3, 'og');
				else if (x === 'li' && 'cdeghkmnrt'.indexOf(before) >= 0 && before)
					replace(2, '');
			}
			/* Step 3 */
			x = longest(s, ['tional', 'ational', 'alize', 'icate', 'iciti', 'ical', 'ful', 'ness', 'ative']);
			if (x && s.length - x.length >= p1) {
				if (x === 'ative') {
					if (s.length - 5 >= p2)
						replace(5, '');
				} else {
					replace(x.length, { tional: 'tion', ational: 'ate', alize: 'al', icate: 'ic',
						iciti: 'ic', ical: 'ic', ful: '', ness: '' }[x]);
				}
			}
			/* Step 4 */
			x = longest(s, ['al', 'ance', 'ence', 'er', 'ic', 'able', 'ible', 'ant', 'ement',
				'ment', 'ent', 'ism', 'ate', 'iti', 'ous', 'ive', 'ize', 'ion']);
			if (x && s.length - x.length >= p2) {
				if (x !== 'ion')
					replace(x.length, '');
				else if (/[st]$/.test(s.slice(0, s.length - 3)))
					replace(3, '');
			}
			/* Step 5 */
			last = s.charAt(s.length - 1);
			var at = s.length - 1;
			if (last === 'e') {
				if (at >= p2 || (at >= p1 && !shortv(at)))
					replace(1, '');
			} else if (last === 'l') {
				if (at >= p2 && s.charAt(at - 1) === 'l')
					replace(1, '');
			}
		}
		return s.replace(/Y/g, 'y');
	}

	if (window.genSearch)
		window.genSearch.stemmer('en', stem);
})();
