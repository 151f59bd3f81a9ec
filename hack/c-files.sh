#!/usr/bin/env bash
# Lists the project's C sources and headers (tracked and new, not ignored, still present), one
# per line; shared by `make lint` and `make format`.
set -euo pipefail
cd "$(dirname "$0")/.."
(git ls-files '*.c' '*.h'; git ls-files --others --exclude-standard '*.c' '*.h') | sort -u |
    while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done
exit 0
