#!/bin/sh
# A stand-in systemctl for tests of `joinagent install`/`uninstall`: records every call
# in $FAKE_SYSTEMCTL_DIR/calls and keeps the unit's enabled/active state in files there,
# answering is-enabled / is-active the way systemctl does (text and exit code).
d=${FAKE_SYSTEMCTL_DIR:?}
echo "$*" >> "$d/calls"
case "$1" in
  is-enabled) if [ -f "$d/enabled" ]; then echo enabled; exit 0; else echo disabled; exit 1; fi ;;
  is-active) if [ -f "$d/active" ]; then echo active; exit 0; else echo inactive; exit 3; fi ;;
  enable) touch "$d/enabled" ;;
  disable) rm -f "$d/enabled" ;;
  start) touch "$d/active" ;;
  stop) rm -f "$d/active" ;;
  daemon-reload|try-restart|kill|reset-failed) ;;
  *) echo "fake systemctl: unexpected: $*" >&2; exit 1 ;;
esac
