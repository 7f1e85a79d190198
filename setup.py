"""The compiled part of genomflow; everything else is declared in pyproject.toml.

One Cython extension, ``genomflow.ctdna._snvcount`` (molecules at an SNV counted in C). It
cimports pysam's declarations and uses the htslib headers pysam ships (``pysam.get_include()``),
so it builds against the pysam of the build environment: pyproject.toml pins the same pysam as
requirements.txt and environment.yml, and the module refuses to load against another layout.
"""

import pysam
from Cython.Build import cythonize
from setuptools import Extension, setup

EXTENSIONS = [
    Extension(
        "genomflow.ctdna._snvcount",
        ["workflow/genomflow/ctdna/_snvcount.pyx"],
        include_dirs=pysam.get_include(),
        define_macros=pysam.get_defines(),
        extra_compile_args=["-O2"],
        language="c++",
    )
]

setup(ext_modules=cythonize(EXTENSIONS, language_level=3))
