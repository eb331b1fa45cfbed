#!/bin/sh
# Unit tests of diffs and the model file (tests/unit/diffview_test.c): totals on hand-made
# sets, text and JSON, render_json and modelfile_read over random policies.
t="$(dirname "$0")/diffview_test"
if [ ! -x "$t" ]; then
	echo "FAIL: diffview: tests/unit/diffview_test is not built (make tests/unit/diffview_test)"
	exit 1
fi
exec "$t"
