#!/bin/sh
# Never answers; its child sleeps too, and must die with it.
cat > /dev/null
sleep "${SILENT_SECONDS:-300}" &
sleep "${SILENT_SECONDS:-300}"
