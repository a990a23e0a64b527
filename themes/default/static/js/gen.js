/* gen default theme: small progressive enhancements, no framework.
 * 1. Opened from disk (file:), a link to a directory ("verhalen/de-garage/")
 *    shows a file listing instead of the page, so such links get
 *    "index.html" appended, for links in the page and links added later.
 * 2. "/" moves focus to the search box, unless the reader is typing. */
(function () {
	'use strict';

	var doc = document;

	/* Returns href with "index.html" after a path ending in "/", or null
	 * when it needs no change (other scheme, fragment or query only). */
	function withIndex(href) {
		if (!href || /^[a-z][a-z0-9+.\-]*:/i.test(href) || href.charAt(0) === '#')
			return null;
		var cut = href.search(/[?#]/);
		var path = cut < 0 ? href : href.slice(0, cut);
		var rest = cut < 0 ? '' : href.slice(cut);
		if (path === '' || path.charAt(path.length - 1) !== '/')
			return null;
		return path + 'index.html' + rest;
	}

	function fix(a) {
		var href = withIndex(a.getAttribute('href'));
		if (href !== null)
			a.setAttribute('href', href);
	}

	if (location.protocol === 'file:') {
		var fixAll = function () {
			var links = doc.querySelectorAll('a[href]');
			for (var i = 0; i < links.length; i++)
				fix(links[i]);
		};
		if (doc.readyState === 'loading')
			doc.addEventListener('DOMContentLoaded', fixAll);
		else
			fixAll();
		/* Links added after load (search results) are fixed on use. */
		doc.addEventListener('click', function (e) {
			var a = e.target && e.target.closest ? e.target.closest('a[href]') : null;
			if (a)
				fix(a);
		}, true);
	}

	doc.addEventListener('keydown', function (e) {
		if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented)
			return;
		var t = e.target;
		if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)))
			return;
		var box = doc.querySelector('.site-header input[type="search"]') ||
			doc.querySelector('input[type="search"]');
		if (!box)
			return;
		e.preventDefault();
		box.focus();
		box.select();
	});
})();
