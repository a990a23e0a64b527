/* gen default theme: Snowball's Dutch stemmer, for search queries.
 *
 * gen stems the index with libstemmer's "dutch" algorithm; a query word
 * the handbook never uses ("klachten" when it only says "klacht") must be
 * stemmed the same way in the browser to find anything. Written from the
 * algorithm's description (snowballstem.org, Dutch stemming algorithm);
 * tests/browser/search.mjs checks it against every word gen stemmed.
 * Input is folded already (lowercase, no diacritics), as gen stems it. */
(function () {
	'use strict';

	function vowel(c) {
		return c === 'a' || c === 'e' || c === 'i' || c === 'o' || c === 'u' || c === 'y' || c === 'è';
	}

	function stem(word) {
		var w = word.split('');
		var n = w.length, i;

		/* Prelude: y at the start or after a vowel, and i between vowels,
		 * are consonants here (Y, I). */
		if (w[0] === 'y')
			w[0] = 'Y';
		for (i = 0; i + 1 < n; i++) {
			if (!vowel(w[i]))
				continue;
			if (w[i + 1] === 'i' && i + 2 < n && vowel(w[i + 2]))
				w[i + 1] = 'I';
			else if (w[i + 1] === 'y')
				w[i + 1] = 'Y';
		}

		/* R1 starts after the first non-vowel that follows a vowel (at
		 * least at 3); R2 likewise after R1's unadjusted start. */
		function region(from) {
			var j = from;
			while (j < n && !vowel(w[j]))
				j++;
			while (j < n && vowel(w[j]))
				j++;
			return j < n ? j + 1 : n;
		}
		var p1 = region(0), p2 = region(p1);
		if (p1 < 3)
			p1 = 3;

		var s = w.join('');
		function ends(x) {
			return s.length >= x.length && s.slice(s.length - x.length) === x;
		}
		function cut(k) {
			s = s.slice(0, s.length - k);
		}
		function before(k) { /* the character before the last k */
			return s.charAt(s.length - k - 1);
		}
		function undouble() {
			if (ends('kk') || ends('dd') || ends('tt'))
				cut(1);
		}
		/* "en" or "ene" of length k: in R1, after a non-vowel, not "gem". */
		function enEnding(k) {
			var at = s.length - k;
			if (at >= p1 && !vowel(s.charAt(at - 1)) && s.slice(at - 3, at) !== 'gem') {
				cut(k);
				undouble();
				return true;
			}
			return false;
		}
		var eFound = false;
		function eEnding() {
			eFound = false;
			var at = s.length - 1;
			if (ends('e') && at >= p1 && at > 0 && !vowel(s.charAt(at - 1))) {
				cut(1);
				eFound = true;
				undouble();
			}
		}

		/* Step 1: the longest of heden, ene, en, se, s. */
		if (ends('heden')) {
			if (s.length - 5 >= p1)
				s = s.slice(0, s.length - 5) + 'heid';
		} else if (ends('ene')) {
			enEnding(3);
		} else if (ends('en')) {
			enEnding(2);
		} else if (ends('se') || ends('s')) {
			var k = ends('se') ? 2 : 1, at = s.length - k, c = s.charAt(at - 1);
			if (at >= p1 && at > 0 && !vowel(c) && c !== 'j')
				cut(k);
		}
		/* Step 2: a final e. */
		eEnding();
		/* Step 3a: heid in R2, not after c, then en as in step 1. */
		if (ends('heid') && s.length - 4 >= p2 && before(4) !== 'c') {
			cut(4);
			if (ends('en'))
				enEnding(2);
		}
		/* Step 3b: derivational suffixes. */
		if (ends('end') || ends('ing')) {
			if (s.length - 3 >= p2) {
				cut(3);
				if (ends('ig') && s.length - 2 >= p2 && before(2) !== 'e')
					cut(2);
				else
					undouble();
			}
		} else if (ends('ig')) {
			if (s.length - 2 >= p2 && before(2) !== 'e')
				cut(2);
		} else if (ends('lijk')) {
			if (s.length - 4 >= p2) {
				cut(4);
				eEnding();
			}
		} else if (ends('baar')) {
			if (s.length - 4 >= p2)
				cut(4);
		} else if (ends('bar')) {
			if (s.length - 3 >= p2 && eFound)
				cut(3);
		}
		/* Step 4: undouble the vowel of a final consonant-vowel pair-
		 * consonant ("maan" -> "man"). */
		var L = s.length;
		if (L >= 4) {
			var last = s.charAt(L - 1), pair = s.slice(L - 3, L - 1);
			if (!vowel(last) && last !== 'I' &&
			    (pair === 'aa' || pair === 'ee' || pair === 'oo' || pair === 'uu') &&
			    !vowel(s.charAt(L - 4)))
				s = s.slice(0, L - 2) + last;
		}
		return s.replace(/Y/g, 'y').replace(/I/g, 'i');
	}

	if (window.genSearch)
		window.genSearch.stemmer('nl', stem);
})();
