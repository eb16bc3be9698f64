#!/usr/bin/env bash
# Installs the Debian packages nmt needs to build, test and run (idempotent: does nothing
# when they are all present). Usage: scripts/install-deps.sh [--torch]
#   --torch  also installs python3-torch (only needed to regenerate golden files / run the baseline)
set -euo pipefail
pkgs=(build-essential cmake pkg-config zlib1g-dev libopenblas-openmp-dev
      libcli11-dev nlohmann-json3-dev libsentencepiece-dev libcpp-httplib-dev
      libopenmpi-dev openmpi-bin libdnnl-dev libicu-dev libgumbo-dev
      libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev)
[[ "${1:-}" == "--torch" ]] && pkgs+=(python3-torch python3-numpy)
# The browser test of the serve page (tests/browser/run.sh): Debian's Chromium, its driver and
# Selenium. Where they cannot be installed the test says so and skips (scripts/test.sh allows it).
browser=(chromium chromium-driver python3-selenium)

# install WHAT PKG...: installs the packages not yet installed; fails when apt-get does.
install() {
  local what=$1 p missing=()
  shift
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "installing ($what): ${missing[*]}"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
}

install "build, tests" "${pkgs[@]}"
install "browser test" "${browser[@]}" || echo "note: could not install ${browser[*]}; the browser test will skip"
