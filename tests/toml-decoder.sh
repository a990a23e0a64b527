#!/bin/sh
# The toml-test decoder tool: tagged JSON on standard output for valid
# TOML, "line:col: message" on standard error and exit status 1 for
# invalid TOML. TAP output for prove; TOOLS names the build directory.

TOOLS=${TOOLS:-build}
decoder=$TOOLS/toml-test-decoder
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# Shows what differed, as TAP diagnostics.
show() {
	sed 's/^/# /' "$@"
}

printf 'title = "gen"\n[site]\nport = 0x1F\npi = 3.5\non = true\nwhen = [1979-05-27 07:32:00z, 07:32:00]\n' \
	>"$tmp/valid.toml"
cat >"$tmp/want.json" <<'JSON'
{
  "title": {
    "type": "string",
    "value": "gen"
  },
  "site": {
    "port": {
      "type": "integer",
      "value": "31"
    },
    "pi": {
      "type": "float",
      "value": "3.5"
    },
    "on": {
      "type": "bool",
      "value": "true"
    },
    "when": [
      {
        "type": "datetime",
        "value": "1979-05-27T07:32:00Z"
      },
      {
        "type": "time-local",
        "value": "07:32:00"
      }
    ]
  }
}
JSON

"$decoder" <"$tmp/valid.toml" >"$tmp/out" 2>"$tmp/err"
check $? "valid input exits 0"
cmp -s "$tmp/want.json" "$tmp/out"
r=$?
check $r "valid input gives the tagged JSON"
[ $r = 0 ] || diff "$tmp/want.json" "$tmp/out" | show
[ ! -s "$tmp/err" ]
check $? "nothing on standard error for valid input"

printf 'nan = nan\nninf = -inf\n' | "$decoder" >"$tmp/out"
grep -q '"value": "nan"' "$tmp/out" && grep -q '"value": "-inf"' "$tmp/out"
check $? "inf and nan are spelled as toml-test expects"

printf '[server]\nport = 80\n\nport = 81\n' | "$decoder" >"$tmp/out" 2>"$tmp/err"
[ $? = 1 ]
check $? "duplicate key exits 1"
[ ! -s "$tmp/out" ]
check $? "nothing on standard output for invalid input"
grep -qx "4:1: duplicate key 'port'" "$tmp/err"
r=$?
check $r "error is 'line:col: message'"
[ $r = 0 ] || show "$tmp/err"

printf 'x = "open\n' | "$decoder" 2>"$tmp/err" >/dev/null
[ $? = 1 ]
check $? "unterminated string exits 1"
grep -qx '1:5: unterminated string' "$tmp/err"
r=$?
check $r "unterminated string points at its opening quote"
[ $r = 0 ] || show "$tmp/err"

echo "1..$n"
[ $failed = 0 ]
