#!/bin/sh
# Never answers; its child sleeps too, and must die with it.  With
# SILENT_TRAP=FILE it writes there the name of a SIGTERM or SIGINT it gets.
if [ -n "${SILENT_TRAP:-}" ]; then
	trap 'echo TERM > "$SILENT_TRAP"' TERM
	trap 'echo INT > "$SILENT_TRAP"' INT
fi
cat > /dev/null
sleep "${SILENT_SECONDS:-300}" &
sleep "${SILENT_SECONDS:-300}"
