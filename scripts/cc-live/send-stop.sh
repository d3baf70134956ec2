#!/bin/sh
# send-stop.sh PRESENCE: tells the server the presence is over; stop.sh runs it detached.
case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/session.sh"
require_config
cd / || exit 0
set_presence_from_name "$1" || exit 0
post stop
exit 0
