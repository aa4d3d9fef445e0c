#!/usr/bin/env bash
# Installs the Debian 12 packages mlsched needs, and only those missing.
# Idempotent and silent when everything is present. Run as root (or with sudo).
set -euo pipefail

packages=(
  cmake ninja-build g++ make
  libabsl-dev libfmt-dev libboost-graph-dev zlib1g-dev
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  pybind11-dev python3-dev python3-pytest python3-pandas python3-matplotlib
  python3-hypothesis python3-nbclient python3-nbformat python3-ipykernel
  libyaml-cpp-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
