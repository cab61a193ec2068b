#!/bin/sh
cat > /dev/null
echo "partial output" ; echo "segfault ahead" >&2
kill -SEGV $$
