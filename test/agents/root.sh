#!/bin/sh
# Claude Code run as root with --dangerously-skip-permissions and no
# IS_SANDBOX=1: it refuses to start (its own message, status 1).
cat > /dev/null
echo "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons" >&2
exit 1
