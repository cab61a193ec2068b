#!/bin/sh
# Never answers; its child sleeps too, and must die with it.
cat > /dev/null
sleep 300 &
sleep 300
