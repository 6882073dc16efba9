#!/usr/bin/env bash
# Regenerates every file in generated/ from examples/ (run from the repository root).
set -euo pipefail
for spec in examples/*.toml; do
  name=$(basename "$spec" .toml)
  symbp generate "$spec" -o "generated/$name.py"
  symbp latex "$spec" -o "generated/$name.tex"
  symbp latex "$spec" --beamer -o "generated/${name}_slides.tex"
done
