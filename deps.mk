# The one list of what gen needs from Debian. pkg-config names on the left,
# the Debian package that provides each on the right (same order).
PKG_MODULES  = libcmark-gfm libgit2 lua5.4 yaml-0.1 libutf8proc libmicrohttpd zlib
DEB_PACKAGES = libcmark-gfm-dev libcmark-gfm-extensions-dev libgit2-dev liblua5.4-dev \
               libyaml-dev libutf8proc-dev libmicrohttpd-dev zlib1g-dev libstemmer-dev pkg-config \
               perl libxml2-utils
# libstemmer and cmark-gfm-extensions ship no .pc file; tools/deps.sh checks
# their headers and the Makefile links them by name.
