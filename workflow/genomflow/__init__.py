"""genomflow: clinical sequencing pipeline library and command line.

The package never imports ``snakemake``; rules call its command line.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genomflow")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"
