tests/unit/unit: tests/unit/unit.c src/addr.h src/model.h src/addr.h \
 tests/unit/check.h
src/addr.h:
src/model.h:
src/addr.h:
tests/unit/check.h:
