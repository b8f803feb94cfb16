# Shared by scripts/run and scripts/test: a virtual environment with the project installed.
# Re-installs when pyproject.toml changes (a stamp file records its hash).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${HUB_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

ensure_venv() {
  if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    echo "error: Python 3.11 or newer is needed (found: $("$PY" --version 2>&1))" >&2
    exit 2
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating virtual environment in $VENV"
    "$PY" -m venv "$VENV"
  fi
  local want have
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)-$1"
  have="$(cat "$VENV/.hub-installed" 2>/dev/null || true)"
  if [ "$want" != "$have" ]; then
    echo "==> installing dependencies from pyproject.toml ($1)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    if [ "$1" = "dev" ]; then
      "$VENV/bin/python" -m pip install --quiet -e "$ROOT[dev]"
    else
      "$VENV/bin/python" -m pip install --quiet -e "$ROOT"
    fi
    echo "$want" > "$VENV/.hub-installed"
  fi
}
