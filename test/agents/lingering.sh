#!/bin/sh
# Answers well, then exits leaving a child that holds its standard output
# open: in its process group, or (LINGER=setsid) in a session of its own.
"$(dirname "$0")/good.sh"
if [ "${LINGER:-}" = setsid ]; then
	setsid sleep "${LINGER_SECONDS:-300}" &
else
	sleep "${LINGER_SECONDS:-300}" &
fi
