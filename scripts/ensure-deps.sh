#!/bin/bash
# Installs what the demo and the tests need when it is missing: Debian packages (as root) and
# the project's npm packages from the lockfile. Quiet and quick when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

# 389-ds-base: the directory server FreeIPA runs on; ldap-utils: its LDIF tools for the harness;
# dnsmasq-base: a DNS server on loopback with SRV records for the client's server discovery;
# freeipa-client: the real ipa-client-install, whose --help the client's command line is checked
# against (it is never run to join anything here);
# rpm, rpmlint: build and inspect the packages; scdoc: renders the man pages;
# selinux-policy-dev, make, bzip2: compile the SELinux policy module; libxml2-utils: checks
# the firewalld service file.
DEBIAN_PACKAGES=(389-ds-base ldap-utils dnsmasq-base freeipa-client rpm rpmlint scdoc
  selinux-policy-dev make bzip2 libxml2-utils)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-deps: missing Debian packages: ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  echo "ensure-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  # Without recommends: the defaults pull in hundreds of MB of plotting and GIS libraries.
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-deps: installing npm packages" >&2
  npm ci --no-audit --no-fund >&2
fi
