#!/usr/bin/env bash
# Prints the path of a working Python 3.10 interpreter (Rasa 3.6 needs >=3.8,<3.11), or explains what to install.
set -u
candidates=("${PYTHON:-}" python3.10)
if command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)"/versions/3.10*/bin; do candidates+=("$dir/python3.10"); done
fi
candidates+=(/usr/bin/python3.10 /usr/local/bin/python3.10)
for candidate in "${candidates[@]}"; do
  [ -n "$candidate" ] || continue
  if version=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) && [ "$version" = "3.10" ]; then
    command -v "$candidate"
    exit 0
  fi
done
echo "Python 3.10 が見つかりません（Rasa 3.6 は Python 3.8〜3.10 が必要です）。" >&2
echo "Python 3.10 not found: install it (e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv'), or set PYTHON=/path/to/python3.10." >&2
exit 1
