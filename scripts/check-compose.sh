#!/usr/bin/env bash
# Validates docker-compose.yml with a real compose implementation: `podman-compose config`, which
# parses the file, interpolates variables (including the `${VAR:?message}` guards) and resolves
# the model the way `up` would, without pulling images or starting anything. CI cannot pull
# images, so the stack itself is never started there (docs/docker-compose.md).
#
#   bash scripts/check-compose.sh              check docker-compose.yml, then the self-test
#   bash scripts/check-compose.sh --self-test  the self-test only
#
# podman-compose accepts a depends_on naming no service and an undeclared config; two small
# cross-reference checks on its output cover those. The self-test feeds deliberately broken copies
# of the file through both and requires each to be rejected for the expected reason, so that a
# passing check means something.
#
# Installs what is missing, and only that: Debian's podman (apt; podman-compose runs
# `podman --version` before anything else, and needs no running service for `config`) and
# podman-compose from PyPI, pinned, into a venv under .tools/ (system Python is left alone).
# With everything present it installs nothing. Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  '' | --self-test) mode="${1:-all}" ;;
  *)
    echo "usage: $0 [--self-test]" >&2
    exit 2
    ;;
esac

# podman-compose and its two dependencies, pinned. Changing this list rebuilds the venv.
requirements=(podman-compose==1.6.0 PyYAML==6.0.3 python-dotenv==1.2.1)
venv=.tools/compose-venv
stamp="$venv/.requirements"
compose_file=docker-compose.yml

say() { echo "check-compose: $*"; }
die() {
  echo "check-compose: $*" >&2
  exit 1
}

# --- podman (Debian) ---------------------------------------------------------------------------

# Installs Debian packages "$@" as root. Tries without `apt-get update` first (the package lists
# are usually there: install-system-deps.sh has just refreshed them in CI), then updates once and
# retries if the lists are missing or stale.
apt_install() {
  if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
    die "missing Debian packages: $*; as root, run: apt-get update && apt-get install -y --no-install-recommends $*"
  fi
  # The same lock as install-system-deps.sh: one apt run of this project at a time.
  exec 9>/var/lock/durable-rollouts-system-deps.lock
  flock 9
  local apt=(apt-get -o DPkg::Lock::Timeout=300)
  export DEBIAN_FRONTEND=noninteractive
  say "installing $*"
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null ||
    ! "${apt[@]}" install -y --no-install-recommends "$@"; then
    "${apt[@]}" update
    "${apt[@]}" install -y --no-install-recommends "$@"
  fi
  exec 9>&-
}

command -v podman >/dev/null || apt_install podman
podman --version >/dev/null || die "podman is installed but \`podman --version\` fails"

# --- podman-compose (PyPI, in a venv) ----------------------------------------------------------

# Whether the venv has exactly the pinned requirements and its podman-compose runs.
venv_ok() {
  [[ -f $stamp && $(<"$stamp") == "${requirements[*]}" ]] &&
    "$venv/bin/podman-compose" version --short >/dev/null 2>&1
}

# Creates the venv with python3 from PATH; falls back to Debian's python3 with python3-venv
# (Debian splits ensurepip, without which `python3 -m venv` fails, into that package).
make_venv() {
  local python
  python="$(command -v python3 || true)"
  if [[ -n $python ]] && "$python" -m venv --clear "$venv" >/dev/null 2>&1; then
    return 0
  fi
  rm -rf "$venv"
  say "\`python3 -m venv\` does not work${python:+ with $python}; using Debian's python3-venv"
  if ! [[ -x /usr/bin/python3 ]] || ! /usr/bin/python3 -m venv --clear "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    apt_install python3 python3-venv
    /usr/bin/python3 -m venv --clear "$venv"
  fi
}

if ! venv_ok; then
  mkdir -p .tools
  # Two runs at once take turns; the second finds the venv ready.
  exec 8>.tools/compose-venv.lock
  flock 8
  if ! venv_ok; then
    say "installing ${requirements[*]} into $venv"
    make_venv
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${requirements[@]}"
    printf '%s' "${requirements[*]}" >"$stamp"
    venv_ok || die "podman-compose does not run after installing it into $venv"
  fi
  exec 8>&-
fi

say "$(podman --version), podman-compose $("$venv/bin/podman-compose" version --short)"

# --- the check ---------------------------------------------------------------------------------

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# ROUTER_ADMIN_TOKEN: the file requires it (`${ROUTER_ADMIN_TOKEN:?...}`, so that `up` refuses to
# start without a real token), and `config` interpolates just as `up` does, so it fails without
# one. A dummy value goes in through the environment; no .env is committed. Everything else the
# file reads (POSTGRES_USER, POSTGRES_PASSWORD, TEMPORAL_VERSION) has a default.
dummy_token=dummy-token-for-compose-config

# What podman-compose does not check itself (it accepts these silently, and `up` would then fail
# or misbehave): every depends_on names a service, and every config or secret a service uses is
# declared at the top level. Reads the rendered file on stdin; prints one line per problem.
cross_references='
import sys, yaml
model = yaml.safe_load(sys.stdin)
services = model.get("services") or {}
problems = []
for name, service in services.items():
    for dependency in service.get("depends_on") or {}:
        if dependency not in services:
            problems.append(f"services.{name}.depends_on: no service named {dependency!r}")
    for kind in ("configs", "secrets"):
        declared = model.get(kind) or {}
        for use in service.get(kind) or []:
            source = use if isinstance(use, str) else use.get("source")
            if source not in declared:
                problems.append(f"services.{name}.{kind}: {source!r} is not declared under top-level {kind}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
'

# validate FILE TOKEN: `podman-compose -f FILE config` with ROUTER_ADMIN_TOKEN=TOKEN (unset if
# TOKEN is empty), then the cross-references above. Returns non-zero if either fails, with the
# messages in $errors and the failing step in $step; the rendered file is left in $tmp/rendered.yml.
#
# Hermetic: --env-file /dev/null keeps a developer's .env out (it holds real secrets, and `config`
# prints the interpolated file), and COMPOSE_* variables that would change the project, the file
# list or the working directory are cleared.
errors=""
step=""
validate() {
  local file="$1" token="$2"
  local run=(env -u COMPOSE_PROJECT_NAME -u COMPOSE_PROJECT_DIR -u COMPOSE_FILE -u COMPOSE_PROFILES
    -u COMPOSE_PATH_SEPARATOR -u ROUTER_ADMIN_TOKEN)
  [[ -z $token ]] || run+=("ROUTER_ADMIN_TOKEN=$token")
  step="podman-compose -f $file config"
  if ! "${run[@]}" "$venv/bin/podman-compose" --env-file /dev/null -f "$file" config \
    >"$tmp/rendered.yml" 2>"$tmp/stderr"; then
    errors="$(<"$tmp/stderr")"
    return 1
  fi
  step="the cross-reference check"
  errors="$("$venv/bin/python" -c "$cross_references" <"$tmp/rendered.yml")"
}

check_file() {
  if ! validate "$compose_file" "$dummy_token"; then
    echo "$errors" >&2
    die "$compose_file is invalid, $step failed: ${errors##*$'\n'}"
  fi
  # Warnings podman-compose printed about the file itself.
  [[ ! -s $tmp/stderr ]] || sed 's/^/check-compose: podman-compose: /' "$tmp/stderr" >&2
  local services
  services="$("$venv/bin/python" -c 'import sys, yaml; print(", ".join(yaml.safe_load(sys.stdin)["services"]))' \
    <"$tmp/rendered.yml")"
  say "$compose_file ok (services: $services)"
}

# --- the self-test -----------------------------------------------------------------------------

# expect_rejected NAME FILE EXPECTED [TOKEN]: validate must fail on FILE (with ROUTER_ADMIN_TOKEN
# set to TOKEN, default the dummy, unset if empty), with EXPECTED in its messages, so that it
# failed for the reason under test rather than for any reason at all.
failures=0
cases=0
expect_rejected() {
  local name="$1" file="$2" expected="$3" token="${4-$dummy_token}"
  cases=$((cases + 1))
  if validate "$file" "$token"; then
    echo "check-compose: self-test $name: accepted, expected a rejection mentioning: $expected" >&2
    failures=$((failures + 1))
  elif [[ $errors != *"$expected"* ]]; then
    echo "$errors" >&2
    echo "check-compose: self-test $name: rejected, but without mentioning: $expected (output above)" >&2
    failures=$((failures + 1))
  fi
}

# mutate NAME SED-SCRIPT: a copy of the compose file with SED-SCRIPT applied, as $mutated
# ($tmp/NAME/docker-compose.yml). Fails loudly when the script changes nothing (the compose file
# moved on and the self-test must follow).
mutated=""
mutate() {
  mkdir -p "$tmp/$1"
  mutated="$tmp/$1/docker-compose.yml"
  sed -e "$2" "$compose_file" >"$mutated"
  if cmp -s "$compose_file" "$mutated"; then
    die "self-test $1: '$2' does not change $compose_file; update the self-test"
  fi
}

self_test() {
  # No ROUTER_ADMIN_TOKEN, no stack.
  expect_rejected missing-token "$compose_file" \
    "required variable ROUTER_ADMIN_TOKEN is missing a value" ""
  # Broken YAML: a tab in the indentation.
  mutate yaml-syntax "0,/^    restart: unless-stopped\$/s//\trestart: unless-stopped/"
  expect_rejected yaml-syntax "$mutated" "Compose file contains an error"
  # An interpolation that is not valid syntax.
  mutate bad-interpolation "0,/\${TEMPORAL_VERSION:-1/s//\${TEMPORAL_VERSION:1/"
  expect_rejected bad-interpolation "$mutated" "Invalid variable interpolation syntax"
  # A misspelt depends_on condition.
  mutate depends-on-condition "0,/condition: service_healthy/s//condition: service_healty/"
  expect_rejected depends-on-condition "$mutated" "not a valid condition for a service dependency"
  # A named volume that the top-level volumes section does not declare.
  mutate undeclared-volume "s|- postgres-data:/var/lib/postgresql/data|- postgres-dta:/var/lib/postgresql/data|"
  expect_rejected undeclared-volume "$mutated" "volume [postgres-dta] not defined in top level"
  # A network that the file does not declare.
  mutate undeclared-network "0,/^    restart: unless-stopped\$/s//&\n    networks: [backend]/"
  expect_rejected undeclared-network "$mutated" "missing networks: backend"
  # depends_on naming no service (podman-compose accepts it; the cross-reference check does not).
  mutate depends-on-unknown-service "0,/^      temporal-schema:\$/s//      temporal-schemaa:/"
  expect_rejected depends-on-unknown-service "$mutated" \
    "services.temporal.depends_on: no service named 'temporal-schemaa'"
  # A config that is not declared (likewise).
  mutate undeclared-config "s/- source: temporal-dynamic-config\$/- source: temporal-dynamic-confg/"
  expect_rejected undeclared-config "$mutated" \
    "services.temporal.configs: 'temporal-dynamic-confg' is not declared under top-level configs"

  ((failures == 0)) || die "self-test: $failures of $cases broken compose files not rejected as expected"
  say "self-test ok ($cases broken variants rejected)"
}

[[ $mode == --self-test ]] || check_file
self_test
