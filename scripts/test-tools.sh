#!/usr/bin/env bash
# Runs before `npm test` (npm's pretest): the two tools the tests need beyond Node, PostgreSQL and
# Redis, installed from Debian's packages when missing, so that `npm ci && npm test` works on a
# fresh machine.
#   promtool   (package prometheus) checks docs/monitoring/alerts.yml and the /metrics output;
#   chromium   drives the web console's browser tests (playwright-core downloads no browser).
# As root it installs them with apt-get (what CI does); with passwordless sudo, through sudo;
# otherwise it names the command to run and stops.
set -euo pipefail

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

install="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test needs ${missing[*]} (promtool and Chromium); install them with your package manager" >&2
  echo "(set CHROMIUM_PATH if Chromium is not /usr/bin/chromium)" >&2
  exit 1
fi
echo "npm test: installing ${missing[*]} from Debian's packages (once; see scripts/test-tools.sh)"
if [ "$(id -u)" -eq 0 ]; then
  bash -c "$install" >/dev/null
elif sudo -n true 2>/dev/null; then
  sudo bash -c "$install" >/dev/null
else
  echo "npm test needs ${missing[*]}: run  sudo bash -c '$install'  once, then npm test again" >&2
  exit 1
fi
