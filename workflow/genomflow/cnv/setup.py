"""Which samples get copy number, and the reference each panel's samples are normalised to."""

from __future__ import annotations

from dataclasses import dataclass, field

from genomflow import paths
from genomflow.errors import GenomflowError
from genomflow.sheets import Cohort

#: Sample types whose copy number is called (plasma is not: its tumour fraction is too low
#: for copy number, and ctDNA monitoring reports it).
CNV_TYPES = ("tumour", "normal", "germline")
#: Sample types pooled into a panel's reference.
REFERENCE_TYPES = ("normal",)
#: The "panel" of whole-genome samples: bins tiled over the genome's accessible regions.
WGS = "wgs"
#: Whole-genome sample types whose copy number is called (germline deletions/duplications).
WGS_TYPES = ("germline", "normal")


@dataclass(frozen=True)
class WgsSettings:
    """Germline WGS copy number: on or off, the bin size and the shortest event reported."""

    enabled: bool = False
    bin_size: int = 1000
    min_length: int = 10_000


@dataclass(frozen=True)
class CnvSample:
    """A sample whose copy number is called: its panel, purity (tumours), sex and type."""

    sample: str
    panel: str
    type: str
    sex: str
    purity: float | None = None

    @property
    def purity_missing(self) -> bool:
        """A tumour without a purity: its copy numbers cannot be corrected (flagged)."""
        return self.type == "tumour" and self.purity is None


@dataclass(frozen=True)
class CnvSetup:
    """The copy-number plan of a batch."""

    samples: dict[str, CnvSample] = field(default_factory=dict)
    #: Panel -> the normals its reference is built from (empty: a flat reference).
    normals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: ``cnvkit.py call --center`` (``median``) or ``none``.
    center: str = "median"
    #: Panel -> every normal of the panel in the batch (also when too few to pool).
    available: dict[str, tuple[str, ...]] = field(default_factory=dict)
    wgs: WgsSettings = field(default_factory=WgsSettings)

    def targets_options(self, panel: str, source: str) -> str:
        """``genomflow cnv targets`` options: a panel's BED, or (WGS) the accessible regions
        tiled into bins.

        >>> CnvSetup().targets_options("p1", "p1.bed")
        '--panel p1.bed'
        >>> CnvSetup().targets_options("wgs", "access.bed")
        '--access access.bed --bin-size 1000'
        """
        if panel == WGS:
            return f"--access {source} --bin-size {self.wgs.bin_size}"
        return f"--panel {source}"

    @property
    def panels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.panel for s in self.samples.values()))

    def deliverables(self, sample: str) -> list[str]:
        """The copy-number deliverables of ``sample`` (none if it gets no copy number)."""
        if sample not in self.samples:
            return []
        vcf = paths.deliverable(sample, ".cnv.vcf.gz")
        return [
            paths.deliverable(sample, ".cnv.tsv"),
            vcf,
            f"{vcf}.tbi",
            paths.deliverable(sample, ".cnv.png"),
        ]

    def reference_coverages(self, panel: str) -> list[str]:
        """The target and antitarget coverages of the panel's reference normals, in pairs."""
        files = []
        for normal in self.normals.get(panel, ()):
            files += [
                paths.cnv_coverage(normal, ".targetcoverage.cnn"),
                paths.cnv_coverage(normal, ".antitargetcoverage.cnn"),
            ]
        return files

    def reference_options(self, panel: str) -> str:
        """``genomflow cnv reference`` options naming the panel's reference normals.

        >>> CnvSetup(normals={"p1": ("N1", "N2")}).reference_options("p1")
        '--normal N1 --normal N2'
        >>> CnvSetup(normals={"p1": ()}, available={"p1": ("N1",)}).reference_options("p1")
        '--available N1'
        """
        pooled = self.normals.get(panel, ())
        if pooled:
            return " ".join(f"--normal {n}" for n in pooled)
        return " ".join(f"--available {n}" for n in self.available.get(panel, ()))

    def call_options(self, sample: str) -> str:
        """``cnvkit.py call`` options of a sample: its purity and sex when known.

        >>> setup = CnvSetup({"T": CnvSample("T", "p1", "tumour", "male", 0.6)})
        >>> setup.call_options("T")
        '--center median --purity 0.6 --sample-sex male'
        """
        record = self.samples[sample]
        options = [] if self.center == "none" else [f"--center {self.center}"]
        if record.purity is not None:
            options.append(f"--purity {record.purity:g}")
        if record.sex in ("male", "female"):
            options.append(f"--sample-sex {record.sex}")
        return " ".join(options)

    def report_options(self, sample: str) -> str:
        """``genomflow cnv report`` options of a sample (sex, purity or its absence)."""
        record = self.samples[sample]
        options = [f"--sex {record.sex}", f"--type {record.type}"]
        if record.purity is not None:
            options.append(f"--purity {record.purity:g}")
        if record.panel == WGS:
            options.append(f"--min-length {self.wgs.min_length} --genotype")
        return " ".join(options)


def setup(
    cohort: Cohort,
    panel_of_sample: dict[str, str],
    min_normals: int,
    center: str = "median",
    wgs: WgsSettings | None = None,
) -> CnvSetup:
    """Plan copy number for the panel samples of ``cohort`` (``panel_of_sample`` from the
    cancer setup): every tumour, normal and germline panel sample; a panel's reference pools
    its normals when there are at least ``min_normals``, else it is flat (flagged). With
    ``wgs`` enabled, also the germline and normal WGS samples, on the "panel" :data:`WGS`
    (its reference pooled from the batch's WGS normals, or flat)."""
    wgs = wgs or WgsSettings()
    samples: dict[str, CnvSample] = {}
    normals: dict[str, list[str]] = {}
    of_sample = dict(panel_of_sample)
    if wgs.enabled:
        if WGS in of_sample.values():
            raise GenomflowError(
                f"a panel is named {WGS!r}, the name of whole-genome copy number (cnv.wgs): "
                "rename the panel"
            )
        for name, record in cohort.samples.items():
            if record.assay == "wgs" and record.type in WGS_TYPES:
                of_sample[name] = WGS
    for name, panel in of_sample.items():
        record = cohort.samples[name]
        if record.type not in CNV_TYPES:
            continue
        samples[name] = CnvSample(name, panel, record.type, record.sex, record.purity)
        if record.type in REFERENCE_TYPES:
            normals.setdefault(panel, []).append(name)
    pooled = {
        panel: tuple(normals.get(panel, [])) if len(normals.get(panel, [])) >= min_normals else ()
        for panel in dict.fromkeys(s.panel for s in samples.values())
    }
    available = {panel: tuple(names) for panel, names in normals.items()}
    return CnvSetup(samples, pooled, center, available, wgs)
