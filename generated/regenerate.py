"""Regenerate generated/ from examples/: for each spec a NumPy module, a LaTeX article and beamer
slides (deep linear specs with the convexity example).  The golden test compares these bytes.

    python generated/regenerate.py
"""

from __future__ import annotations

from pathlib import Path

import symbp
from symbp.files import write
from symbp.linear import is_deep_linear

ROOT = Path(__file__).resolve().parent.parent


def outputs(root: Path = ROOT) -> dict[str, str]:
    """generated/ file name -> the text symbp emits for it."""
    out = {}
    for path in sorted((root / "examples").glob("*.toml")):
        spec, name, rel = symbp.load_spec(path), path.stem, path.relative_to(root)
        extra = " --convexity" if is_deep_linear(spec) else ""
        out[f"{name}.py"] = symbp.generate_module(
            spec, f"symbp generate {rel} -o generated/{name}.py"
        )
        for beamer, target in ((False, f"{name}.tex"), (True, f"{name}_slides.tex")):
            flag = " --beamer" if beamer else ""
            out[target] = symbp.latex_document(
                spec, beamer, f"symbp latex {rel} -o generated/{target}{flag}{extra}", bool(extra)
            )
    return out


def main() -> None:
    for filename, text in outputs().items():
        changed = write(ROOT / "generated" / filename, text)
        print(f"{'wrote' if changed else 'unchanged'} generated/{filename}")


if __name__ == "__main__":
    main()
