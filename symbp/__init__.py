r"""symbp: derive, explain and emit backpropagation.

>>> import symbp
>>> spec = symbp.lecture_spec()            # or symbp.load_spec("net.toml"), or Spec(...)
>>> d = symbp.derive(spec)                 # the delta recursion; print(d), or d in Jupyter
>>> tex = symbp.latex_document(spec)       # standalone LaTeX (beamer=True for slides)
>>> code = symbp.generate_module(spec)     # standalone NumPy trainer
>>> symbp.check(spec).ok                   # proof by expansion + finite differences
True
>>> [round(n.norm, 3) for n in symbp.gradient_norms(spec)]  # ||df/dW_j||_F at initialisation
[0.013, 0.032, 0.202]
>>> symbp.verify_claim(spec, r"\delta_2 = (W_3 \delta_3) \circ \sigma'_2").message
'W₃ δ₃ multiplies a 2×3 by a 2×1; did you mean δ₂ = (W₃ᵀ δ₃) ∘ σ′₂?'
"""

from .derivation.derive import derive
from .derivation.steps import Derivation
from .errors import SpecError, SymbpError
from .output.document import document_source as latex_document
from .output.module import module_source as generate_module
from .proof.check import LayerNorm, Report, check, gradient_norms
from .spec.model import Layer, Spec, from_dict, lecture_spec
from .spec.model import load as load_spec
from .verify.compare import Verdict, tex_claims
from .verify.compare import verify as verify_claim

__all__ = [
    "Derivation",
    "Layer",
    "LayerNorm",
    "Report",
    "Spec",
    "SpecError",
    "SymbpError",
    "Verdict",
    "check",
    "derive",
    "from_dict",
    "generate_module",
    "gradient_norms",
    "latex_document",
    "lecture_spec",
    "load_spec",
    "tex_claims",
    "verify_claim",
]
__version__ = "0.1.0"
