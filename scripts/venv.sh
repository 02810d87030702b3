# Sourced by scripts/test and bench/*.sh with pip arguments: the project's Python venv
# (target/test-venv) with those requirements installed. Sets $venv.
venv=target/test-venv
if [ ! -x "$venv/bin/pip" ]; then
  # A half-created venv (an interrupted earlier run) is replaced; one retry covers a transient failure.
  rm -rf "$venv"
  python3 -m venv "$venv" || { rm -rf "$venv"; python3 -m venv "$venv"; }
fi
"$venv/bin/pip" install -q --disable-pip-version-check "$@"
