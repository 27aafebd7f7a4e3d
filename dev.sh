#!/usr/bin/env bash
# accord developer entry point. Everything is set up on demand, idempotently:
#   ./dev.sh lab     set up, then start JupyterLab on the tour notebook (sample data)
#   ./dev.sh test    set up, then run every check: lint, types, JS tests, pytest, notebooks, docs
#   ./dev.sh setup   only set up (Debian packages, .venv, npm packages, JS build, sample data)
#   ./dev.sh bench   set up, then run the benchmarks (writes benchmarks/RESULTS.md)
#   ./dev.sh docs    build the docs into docs/_build/html (strict)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
APT_PACKAGES=(chromium espeak-ng sox postgresql)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\033[1m[accord]\033[0m %s\n' "$*" >&2; }

ensure_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    say "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

stamp_of() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }

ensure_node() {
  command -v node >/dev/null && command -v npm >/dev/null && return
  say "installing Node.js and npm (Debian)"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
}

ensure_js() {
  local want; want="$(stamp_of js/package.json js/package-lock.json)"
  if [ ! -d js/node_modules ] || [ "$(cat js/node_modules/.accord-stamp 2>/dev/null)" != "$want" ]; then
    say "installing npm packages (npm ci)"
    (cd js && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > js/node_modules/.accord-stamp
  fi
  (cd js && npm run --silent build)
}

ensure_python() {
  if [ ! -x "$PY" ]; then
    say "creating .venv"
    python3 -m venv "$VENV"
  fi
  local want; want="$(stamp_of pyproject.toml js/package.json js/package-lock.json)"
  if [ "$(cat "$VENV/.accord-stamp" 2>/dev/null)" != "$want" ]; then
    say "installing accord and its Python dependencies into .venv"
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q -e ".[dev]"
    echo "$want" > "$VENV/.accord-stamp"
  fi
}

ensure_samples() {
  "$PY" -m accord.samples >/dev/null
}

setup() {
  ensure_apt
  ensure_node
  ensure_js
  ensure_python
  ensure_samples
}

cmd_lab() {
  setup
  local port="${ACCORD_PORT:-8888}"
  local extra=()
  if [ "$(id -u)" -eq 0 ]; then extra+=(--allow-root); fi
  say "starting JupyterLab on http://127.0.0.1:$port (Ctrl-C to stop)"
  exec "$VENV/bin/jupyter" lab --no-browser --ip=127.0.0.1 --port="$port" \
    --ServerApp.root_dir="$ROOT/notebooks" "${extra[@]}" "$ROOT/notebooks/00_tour.ipynb"
}

cmd_test() {
  setup
  say "ruff"
  "$VENV/bin/ruff" check src tests benchmarks
  "$VENV/bin/ruff" format --check src tests benchmarks
  say "TypeScript (strict) and vitest"
  (cd js && npm run --silent typecheck && npm test --silent)
  say "pytest (unit, property, store, media, notebooks)"
  "$PY" -m pytest -q tests --nbval-lax notebooks -p no:cacheprovider "$@"
  say "docs (strict)"
  cmd_docs
}

cmd_docs() {
  "$VENV/bin/sphinx-build" -q -W --keep-going -b html docs docs/_build/html
}

cmd_bench() {
  setup
  "$PY" -m benchmarks "$@"
}

case "${1:-}" in
  lab) shift; cmd_lab "$@" ;;
  test) shift; cmd_test "$@" ;;
  setup) shift; setup ;;
  bench) shift; cmd_bench "$@" ;;
  docs) shift; ensure_python; cmd_docs ;;
  *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
