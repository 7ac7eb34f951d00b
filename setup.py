"""Build the compiled fitting kernels (Cython, ahead of time); all metadata is in pyproject.toml."""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

# No -ffast-math, and no fused multiply-add contraction: results are bitwise reproducible
# across compilers and platforms that share IEEE double arithmetic and libm.
if sys.platform == "win32":
    args = ["/O2", "/fp:precise"]
else:
    args = ["-O3", "-ffp-contract=off", "-fno-fast-math"]

extensions = [
    Extension(
        "mtor_pharm.fitting._kernels",
        ["src/mtor_pharm/fitting/_kernels.pyx"],
        extra_compile_args=args,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
]

setup(ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}))
