tests/unit/unit: tests/unit/unit.c src/addr.h src/model.h src/addr.h
src/addr.h:
src/model.h:
src/addr.h:
