#!/usr/bin/env bash
# Run a command with PostgreSQL and Redis available.
#
#   scripts/with-services.sh RUN_DIR -- COMMAND...
#
# When TEST_DATABASE_URL and REDIS_URL are already set, the command runs against them. Otherwise
# project-local servers are started in RUN_DIR and stopped again when the command ends.
set -euo pipefail
run_dir=${1:?usage: with-services.sh RUN_DIR -- COMMAND...}
shift
[ "${1:-}" = "--" ] && shift
here=$(cd "$(dirname "$0")" && pwd)

if [ -n "${TEST_DATABASE_URL:-}" ] && [ -n "${REDIS_URL:-}" ]; then
  "$here/services.sh" packages "$run_dir"  # the servers are given; the tests still need nginx and Chromium
  exec "$@"
fi

"$here/services.sh" start "$run_dir"
trap '"$here/services.sh" stop "$run_dir"' EXIT
# shellcheck disable=SC1091
. "$run_dir/services.env"
"$@"
