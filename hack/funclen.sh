#!/bin/sh
# Function-length table (ctags): prints "<lines> <file>:<function>" for every
# C function in the given files, longest first.
# usage: hack/funclen.sh [-n N] file.c...
n=20
if [ "$1" = "-n" ]; then n=$2; shift 2; fi
for f in "$@"; do
	ctags --c-kinds=f --fields=+ne -o - "$f"
done | awk -F'\t' '{
	line=""; end="";
	for (i = 4; i <= NF; i++) {
		if ($i ~ /^line:/) line = substr($i, 6);
		if ($i ~ /^end:/) end = substr($i, 5);
	}
	if (line != "" && end != "") printf "%d %s:%s\n", end - line + 1, $2, $1;
}' | sort -rn | head -n "$n"
