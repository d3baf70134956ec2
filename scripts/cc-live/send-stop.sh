#!/bin/sh
# send-stop.sh SESSION_NAME: tells the server the session is over; stop.sh runs it detached.
case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/common.sh"
require_config
cd / || exit 0
set_session_from_name "$1" || exit 0
send_stop
exit 0
