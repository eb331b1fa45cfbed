#!/usr/bin/env bash
# The HTML review report in a real browser (headless Chromium, offline): the
# page of the golden case diff-report-html renders, a screenshot is taken and
# shows the picture's bars, nothing is logged to the console, every changed
# prefix is in the page's text, and text from the feeds stays text (an SPF
# label holding "<script>" is not a script). A page with a script error is
# rendered first, to show that console errors are seen at all.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/browser.sh"

need_cmd chromium jq python3
need_mxfence
work=$(mktemp -d /tmp/mxfence-html.XXXXXX)
trap 'rm -rf "$work"' EXIT
case_dir=$here/cases/diff-report-html

# The detector sees a console error when there is one.
printf '<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>%s</body></html>\n' \
	'<script>undefined_function_here();</script>' >"$work/broken.html"
if browser_render "$work/broken.html" "$work/broken" && grep -q 'undefined_function_here' "$work/broken/console.log"; then
	pass "html: a page with a script error shows in the console log (the check can fail)"
else
	fail "html: a page with a script error shows in the console log (the check can fail)" \
		"$(tail -n 3 "$work/broken/chromium.err")"
fi

(cd "$case_dir" && "$MXFENCE" diff -c policy.conf --against old.json --format html) >"$work/report.html" 2>/dev/null
expect_eq "html: diff --format html exits 1 (changes)" "$?" 1
(cd "$case_dir" && "$MXFENCE" diff -c policy.conf --against old.json --format json) >"$work/report.json" 2>/dev/null

# Self-contained: nothing to fetch, nothing to run.
ext=$(grep -oiE '(src|href)="[^"]*"|url\(|@import|<script|<iframe|<object|<embed|<img|<link[^>]*stylesheet' "$work/report.html" | grep -v 'href="data:,"' | sort -u)
if [ -z "$ext" ]; then
	pass "html: no script, no external asset"
else
	fail "html: no script, no external asset" "$ext"
fi

if ! browser_render "$work/report.html" "$work/r"; then
	fail "html: Chromium renders the report" "$(tail -n 5 "$work/r/chromium.err")"
	finish
fi
size=$(stat -c %s "$work/r/shot.png" 2>/dev/null || echo 0)
if [ "$size" -gt 10000 ] && [ "$(head -c 8 "$work/r/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
	pass "html: screenshot taken ($size bytes of PNG)"
else
	fail "html: screenshot taken" "size $size"
fi
if [ -s "$work/r/console.log" ]; then
	fail "html: no console errors" "$(head -n 3 "$work/r/console.log")"
else
	pass "html: no console errors"
fi
# The bars: flat fills of the added (#2da44e), removed (#cf222e) and kept (#8c959f) colours.
colors=$(python3 "$here/../lib/pngcolors.py" "$work/r/shot.png" 2da44e cf222e 8c959f)
added=$(printf '%s\n' "$colors" | sed -n 's/.*2da44e=\([0-9]*\).*/\1/p')
removed=$(printf '%s\n' "$colors" | sed -n 's/.*cf222e=\([0-9]*\).*/\1/p')
kept=$(printf '%s\n' "$colors" | sed -n 's/.*8c959f=\([0-9]*\).*/\1/p')
if [ "${added:-0}" -gt 200 ] && [ "${removed:-0}" -gt 200 ] && [ "${kept:-0}" -gt 2000 ]; then
	pass "html: the screenshot shows the bars of kept, added and removed addresses ($colors)"
else
	fail "html: the screenshot shows the bars of kept, added and removed addresses" "$colors"
fi

# Every changed prefix in the rendered page's text.
text=$(python3 -c 'import html,re,sys; d=open(sys.argv[1]).read(); d=re.sub(r"<style.*?</style>","",d,flags=re.S); print(html.unescape(re.sub(r"<[^>]+>"," ",d)))' "$work/r/dom.html")
want=$(jq -r '.sets[] | (.added[], .removed[]) | .prefix' "$work/report.json")
missing=()
n=0
for p in $want; do
	n=$((n + 1))
	printf '%s\n' "$text" | grep -qF -- "$p" || missing+=("$p")
done
if [ "$n" -gt 0 ] && [ ${#missing[@]} -eq 0 ]; then
	pass "html: all $n changed prefixes are in the page's text"
else
	fail "html: all $n changed prefixes are in the page's text" "missing: ${missing[*]}"
fi
for w in "m365 id 10" "relays.txt:3" "partners.cidr:3" "Service smtp" "Service submission" "Safety checks"; do
	printf '%s\n' "$text" | grep -qF -- "$w" || missing+=("$w")
done
if [ ${#missing[@]} -eq 0 ]; then
	pass "html: provenance, services and the safety checks are in the page's text"
else
	fail "html: provenance, services and the safety checks are in the page's text" "missing: ${missing[*]}"
fi
# The SPF label "<script>x</script>" is text on the page, not an element.
if grep -q '<script' "$work/r/dom.html"; then
	fail "html: text from a feed stays text" "a script element in the DOM"
elif printf '%s\n' "$text" | grep -qF '<script>x</script>.example.com'; then
	pass "html: text from a feed stays text (an SPF label with <script> shows as written)"
else
	fail "html: text from a feed stays text" "the label is not on the page"
fi
finish
