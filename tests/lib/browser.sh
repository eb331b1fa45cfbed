# shellcheck shell=bash
# A real browser for the HTML reports: Debian's headless Chromium, offline.
#
#   browser_render FILE.html OUTDIR   OUTDIR/shot.png (a screenshot), OUTDIR/dom.html (the
#                                     page as parsed), OUTDIR/console.log (what the page
#                                     logged: one line per console message or error)
# Returns non-zero when Chromium failed to run; then OUTDIR/chromium.err says why.
# Every run has a profile of its own, removed afterwards, and no network use of its own.

BROWSER=${BROWSER:-chromium}

browser_run() { # browser_run OUTDIR ARGS...: one headless run, its log in OUTDIR/chromium.err
	local out=$1 profile rc
	shift
	profile=$(mktemp -d /tmp/mxfence-chromium.XXXXXX)
	timeout 120 "$BROWSER" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --enable-logging=stderr --v=0 "$@" 2>>"$out/chromium.err"
	rc=$?
	rm -rf "$profile"
	return $rc
}

browser_render() {
	local file=$1 out=$2 url
	url="file://$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"
	mkdir -p "$out"
	: >"$out/chromium.err"
	browser_run "$out" --window-size=1100,1600 --screenshot="$out/shot.png" "$url" >/dev/null || return 1
	browser_run "$out" --dump-dom "$url" >"$out/dom.html" || return 1
	# Console messages, and errors of the page's loading (a resource refused or missing).
	grep -E ':CONSOLE[:(]|net::ERR_|Not allowed to load' "$out/chromium.err" >"$out/console.log"
	return 0
}
