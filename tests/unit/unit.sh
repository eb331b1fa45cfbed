#!/bin/sh
# Unit tests of the model (tests/unit/unit.c, built by `make check`).
exec "$(dirname "$0")/unit"
