"""Regenerate generated/ from examples/: for each spec a NumPy module, a LaTeX article and beamer
slides, and a web page (deep linear specs with the convexity example).  The golden test compares
these bytes.

    python generated/regenerate.py
"""

from __future__ import annotations

from pathlib import Path

import symbp
from symbp.derivation.linear import is_deep_linear
from symbp.escape import one_line
from symbp.output.files import default_command, write
from symbp.output.html import page_source

ROOT = Path(__file__).resolve().parent.parent


def outputs(root: Path = ROOT) -> dict[str, str]:
    """generated/ file name -> the text symbp emits for it."""
    out = {}
    for path in sorted((root / "examples").glob("*.toml")):
        spec, name, rel = symbp.load_spec(path), path.stem, str(path.relative_to(root))
        convexity = ["--convexity"] if is_deep_linear(spec) else []
        out[f"{name}.py"] = symbp.generate_module(
            spec, default_command("generate", rel, f"generated/{name}.py")
        )
        for beamer, target in ((False, f"{name}.tex"), (True, f"{name}_slides.tex")):
            extra = ["--beamer"] * beamer + convexity
            command = default_command("latex", rel, f"generated/{target}", extra)
            out[target] = symbp.latex_document(spec, beamer, command, bool(convexity))
        command = default_command("html", rel, f"generated/{name}.html", convexity)
        out[f"{name}.html"] = page_source(spec, command, bool(convexity))
    return out


def main() -> None:
    for filename, text in outputs().items():
        changed = write(ROOT / "generated" / filename, text)
        print(f"{'wrote' if changed else 'unchanged'} generated/{one_line(filename)}")


if __name__ == "__main__":
    main()
