#!/usr/bin/env bash
# Installs the Debian packages the test suites and benchmarks need, and only those that are missing:
#   prometheus  the integration tests query a real Prometheus
#   chromium    the browser tests drive the Temporal Web UI headless
#   haproxy     the haproxy traffic provider's tests (and bench:router)
#   nginx       the nginx traffic provider's tests (and bench:router, also as its trivial upstream)
#   postgresql  server binaries under /usr/lib/postgresql/*/bin (not on PATH)
#   wrk         the load generator of bench:router
#   socat       the runbook's by-hand HAProxy rollback (test/integration/manual-rollback.test.ts)
# With everything present it runs no apt at all and prints one line. Run by `npm test` (pretest) and .ci/run.
set -euo pipefail

# haproxy and nginx live in /usr/sbin, which a non-login shell may not have on PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

postgres_bin() {
  local found
  for found in /usr/lib/postgresql/*/bin/postgres; do
    [[ -x $found ]] && { echo "$found"; return 0; }
  done
  return 1
}

# Each entry: Debian package, then how to tell it is there.
missing_packages() {
  command -v prometheus >/dev/null || echo prometheus
  command -v chromium >/dev/null || echo chromium
  command -v haproxy >/dev/null || echo haproxy
  command -v nginx >/dev/null || echo nginx
  postgres_bin >/dev/null || echo postgresql
  command -v wrk >/dev/null || echo wrk
  command -v socat >/dev/null || echo socat
}

versions() {
  local pg out=()
  pg="$(postgres_bin)"
  out+=("$(prometheus --version 2>&1 | sed -n '1s/^prometheus, version \([^ ]*\).*/prometheus \1/p')")
  out+=("$(chromium --version 2>/dev/null | sed -n '1s/^Chromium \([^ ]*\).*/chromium \1/p')")
  out+=("$(haproxy -v 2>&1 | sed -n '1s/^HAProxy version \([^ ]*\).*/haproxy \1/p')")
  out+=("$(nginx -v 2>&1 | sed -n '1s/^nginx version: nginx\/\(.*\)/nginx \1/p')")
  out+=("$("$pg" --version 2>&1 | sed -n '1s/^postgres (PostgreSQL) \([^ ]*\).*/postgres \1/p') ($pg)")
  out+=("$(wrk -v 2>&1 | sed -n '1s/^wrk \([^ ]*\).*/wrk \1/p')")
  out+=("$(socat -V 2>&1 | sed -n 's/^socat version \([^ ]*\).*/socat \1/p')")
  local IFS=','
  echo "${out[*]}" | sed 's/,/, /g'
}

# Process ids of running programs named $1, read from /proc (procps may not be installed yet).
pids_of() {
  local dir comm
  for dir in /proc/[0-9]*; do
    comm="$(cat "$dir/comm" 2>/dev/null)" || continue
    [[ $comm == "$1" ]] && echo "${dir#/proc/}"
  done
  return 0
}

# Whether pid $2 is the package's own service instance of $1 (its default config), not a test's.
package_instance() {
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$2/cmdline" 2>/dev/null)" || return 1
  case $1 in
    nginx) [[ $cmdline == "nginx: master process"* && $cmdline != *" -c "* ]] ;;
    haproxy) [[ $cmdline == *" -f /etc/haproxy/"* ]] ;;
    postgres) [[ $cmdline == *"/var/lib/postgresql/"* || $cmdline == *"/etc/postgresql/"* ]] ;;
    *) return 1 ;;
  esac
}

# With arguments (`install-system-deps.sh postgresql`), only those packages: the demo asks for the
# one its migration scenario needs without pulling in the test suites' browser and proxies.
wanted=("$@")
only_wanted() {
  if ((${#wanted[@]} == 0)); then cat; else grep -Fx -f <(printf '%s\n' "${wanted[@]}") || true; fi
}

mapfile -t missing < <(missing_packages | only_wanted)
if ((${#missing[@]} == 0)); then
  if ((${#wanted[@]} > 0)); then echo "install-system-deps: present: ${wanted[*]}"; else echo "install-system-deps: all present: $(versions)"; fi
  exit 0
fi

how="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
  why="not root"
  command -v apt-get >/dev/null || why="no apt-get on this machine"
  echo "install-system-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-system-deps: cannot install them here ($why); as root, run:" >&2
  echo "  $how" >&2
  exit 1
fi

# Two runs at once (two `npm test`s) take turns; the second then finds less or nothing to do.
exec 9>/var/lock/durable-rollouts-system-deps.lock
flock 9
mapfile -t missing < <(missing_packages | only_wanted)
if ((${#missing[@]} > 0)); then
  echo "install-system-deps: installing ${missing[*]}"

  # Packages such as nginx, haproxy and postgresql start their service on install. Nothing here
  # may run one: the tests start their own instances on free ports. policy-rc.d exiting 101 tells
  # invoke-rc.d "not allowed"; whatever policy-rc.d there was (Docker images ship one) comes back.
  policy=/usr/sbin/policy-rc.d
  saved=""
  if [[ -e $policy ]]; then
    saved="$(mktemp)"
    cp -p "$policy" "$saved"
  fi
  restore_policy() {
    if [[ -n $saved ]]; then
      cp -p "$saved" "$policy" && rm -f "$saved"
    else
      rm -f "$policy"
    fi
  }
  trap restore_policy EXIT
  printf '#!/bin/sh\n# Written by install-system-deps.sh for the length of one install.\nexit 101\n' >"$policy"
  chmod 755 "$policy"

  declare -A before=()
  for name in haproxy nginx postgres; do
    for pid in $(pids_of "$name"); do before[$pid]=1; done
  done

  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update
  apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}"

  restore_policy
  trap - EXIT

  # Belt and braces: a daemon that started anyway (a maintainer script not using invoke-rc.d) is
  # stopped: only new processes running the package's default config, so an instance that a test
  # started at the same time, or one that was already running, is left alone.
  for name in haproxy nginx postgres; do
    for pid in $(pids_of "$name"); do
      [[ -n ${before[$pid]:-} ]] && continue
      package_instance "$name" "$pid" || continue
      echo "install-system-deps: stopping $name (pid $pid) started by its package"
      kill -TERM "$pid" 2>/dev/null || true
    done
  done
fi

mapfile -t still < <(missing_packages | only_wanted)
if ((${#still[@]} > 0)); then
  echo "install-system-deps: still missing after install: ${still[*]}" >&2
  exit 1
fi
if ((${#wanted[@]} > 0)); then echo "install-system-deps: installed ${missing[*]}"; else echo "install-system-deps: $(versions)"; fi
