#!/usr/bin/env bash
# The test venv: Debian's python3 with its packages (pytest, dnspython) plus
# the pinned PyPI-only clients of tests/requirements-pypi.txt (boto3, the
# AWS CLI). Idempotent: reinstalls only when the requirements change.
# Prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${Q53_VENV:-$PWD/build/venv}
req=tests/requirements-pypi.txt
stamp=$venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "venv: creating $venv from $req" >&2
  rm -rf "$venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
    --require-virtualenv -r "$req" >&2
  echo "$want" >"$stamp"
fi
"$venv/bin/python" -c 'import boto3, pytest, dns' >&2
echo "$venv/bin/python"
