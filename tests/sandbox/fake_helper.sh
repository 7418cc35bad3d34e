#!/bin/sh
# A misbehaving helper for the client deadline test: ignores everything.
trap '' TERM INT HUP
sleep 60
