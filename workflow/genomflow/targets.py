"""What a run makes and what its batch-level rules read: the planning behind ``common.smk``.

``workflow/rules/common.smk`` builds one :class:`RunPlan` from the cohort and the resolved
config and its input functions only pass wildcards to these methods, so every branch of the
plan (germline or not, tumour or not, panel or not, UMI or not, plasma or not) is a typed
function tested directly (``tests/unit/test_targets.py``), not only through dry-run job counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from genomflow import paths
from genomflow.cancer import CancerSetup
from genomflow.cnv.setup import CnvSetup
from genomflow.ctdna.pipeline import CtdnaSetup
from genomflow.germline import GERMLINE_TYPES
from genomflow.sheets import Cohort
from genomflow.sv.setup import SvSetup

#: The two reports of every sample, under results/samples/{sample}/.
REPORT_SUFFIXES = (".report.json", ".fhir.json")


def read_group(sample: str, unit: str, platform: str) -> str:
    """The read group of a unit, as ``bwa mem -R`` wants it (tabs escaped).

    >>> read_group("S1", "L001", "ILLUMINA")
    '@RG\\\\tID:S1.L001\\\\tSM:S1\\\\tLB:S1\\\\tPL:ILLUMINA\\\\tPU:L001'
    """
    fields = (f"ID:{sample}.{unit}", f"SM:{sample}", f"LB:{sample}", f"PL:{platform}", f"PU:{unit}")
    return "\\t".join(("@RG", *fields))


@dataclass(frozen=True)
class RunPlan:
    """The samples of a run and the stage setups that decide which files each one gets."""

    cohort: Cohort
    #: Germline sample -> its calling group (samples not called germline are absent).
    group_of: dict[str, str]
    cancer: CancerSetup
    ctdna: CtdnaSetup
    alignment_format: str = paths.BAM
    #: reference.identity_sites: the identity check runs only when sites are given.
    identity_sites: str | None = None
    #: load.db: the load rule runs only when a database is named.
    load_db: str | None = None
    #: reference.gff3: tumour biomarkers (TMB) need the gene models' CDS.
    gff3: str | None = None

    #: Copy number (CNVkit) of the panel samples.
    cnv: CnvSetup = field(default_factory=CnvSetup)
    #: Structural variants (delly) of the WGS germline samples.
    sv: SvSetup = field(default_factory=SvSetup)

    @property
    def samples(self) -> tuple[str, ...]:
        return tuple(self.cohort.samples)

    # --- deliverables and targets ------------------------------------------------------
    def sample_deliverables(self, sample: str) -> list[str]:
        """The files under results/samples/{sample}/ other than its reports."""
        files = [
            paths.alignment(sample, self.alignment_format),
            paths.alignment_index(sample, self.alignment_format),
        ]
        if sample in self.group_of:
            files += [paths.germline_vcf(sample), f"{paths.germline_vcf(sample)}.tbi"]
        if sample in self.cancer.tumours:
            files += [paths.somatic_vcf(sample), f"{paths.somatic_vcf(sample)}.tbi"]
        if sample in self.cancer.panel_of_sample:
            files += [
                paths.deliverable(sample, ".coverage.tsv"),
                paths.deliverable(sample, ".gaps.bed"),
            ]
        files += self.cnv.deliverables(sample)
        files += self.sv.deliverables(sample)
        if sample in self.ctdna.plasma:
            files.append(paths.deliverable(sample, ".ctdna.json"))
        return files

    def sample_reports(self, *suffixes: str) -> list[str]:
        """The reports of every sample: of the ``suffixes`` given, else all (REPORT_SUFFIXES)."""
        kinds = suffixes or REPORT_SUFFIXES
        return [paths.deliverable(s, suffix) for s in self.samples for suffix in kinds]

    def load_outputs(self) -> list[str]:
        return [paths.LOAD_SUMMARY] if self.load_db else []

    def ctdna_batch_outputs(self) -> list[str]:
        return [paths.CTDNA_TIMELINE] if self.ctdna.plasma else []

    def all_outputs(self) -> list[str]:
        """Every target of ``rule all``."""
        files = [p for sample in self.samples for p in self.sample_deliverables(sample)]
        return [
            *files,
            *self.rare_outputs(),
            *self.sample_reports(),
            *self.load_outputs(),
            *self.ctdna_batch_outputs(),
            paths.REFERENCE_DICT,
            paths.QC_STATUS,
            paths.MULTIQC_REPORT,
            paths.VERSIONS,
        ]

    def sample_report_inputs(self, sample: str) -> dict[str, str | list[str]]:
        """A sample's deliverables, QC files and QC status: what its reports are built from
        (and a tumour's biomarkers)."""
        return {
            "deliverables": self.sample_deliverables(sample),
            "fastp": [paths.fastp_json(sample, u.unit) for u in self.cohort.units_of(sample)],
            "samtools_stats": paths.samtools_stats(sample),
            "mosdepth": paths.mosdepth_summary(sample),
            "qc_status": paths.QC_STATUS,
            "qc_metrics": paths.qc_metrics(sample),
            "biomarkers": self.biomarker_files(sample),
            "rare": self.rare_json_files(sample),
        }

    # --- rare disease ------------------------------------------------------------------------
    def rare_groups(self) -> dict[str, str]:
        """Calling group -> ``family`` or ``sample``: the groups ranked for rare disease.

        A group is ranked when a member has HPO terms or is affected (a family with phenotype
        data but no affected member is refused by the sheet check) and the run has gene
        models (reference.gff3: candidates are variants with a consequence in a gene; without
        them nothing is ranked, as documented in the config schema).
        """
        if not self.gff3:
            return {}
        members: dict[str, list[str]] = {}
        for sample, group in self.group_of.items():
            members.setdefault(group, []).append(sample)
        chosen: dict[str, str] = {}
        for group, names in members.items():
            records = [self.cohort.samples[n] for n in names]
            if any(r.hpo or r.affected == "yes" for r in records):
                family = all(r.family == group for r in records)
                chosen[group] = "family" if family else "sample"
        return chosen

    def rare_outputs(self) -> list[str]:
        """The candidates.tsv deliverables (families, then singletons)."""
        return [
            paths.family_candidates(group)
            if kind == "family"
            else paths.deliverable(group, ".candidates.tsv")
            for group, kind in self.rare_groups().items()
        ]

    def rare_json_files(self, sample: str) -> list[str]:
        """The ranked candidates (JSON) of the sample's group, when it is ranked."""
        group = self.group_of.get(sample)
        kind = self.rare_groups().get(group) if group is not None else None
        if kind is None:
            return []
        return [paths.rare_json(f"genomflow_rare_rank_{kind}", group)]  # type: ignore[arg-type]

    def rare_json_all(self) -> list[str]:
        """The ranked candidates (JSON) of every ranked group, for the MultiQC table."""
        return [
            paths.rare_json(f"genomflow_rare_rank_{kind}", group)
            for group, kind in self.rare_groups().items()
        ]

    def rare_inputs(
        self, group: str, settings: Mapping[str, Any], population_vcf: str
    ) -> dict[str, str | list[str]]:
        """The group's annotated joint VCF, identity pairs, population VCF and panels."""
        vcf = self.cancer.annotated("germline", group)
        inputs: dict[str, str | list[str]] = {"vcf": vcf, "tbi": f"{vcf}.tbi"}
        if self.identity_sites:
            inputs["identity"] = paths.IDENTITY_PAIRS
        if population_vcf:
            inputs["population"] = population_vcf
        inputs["panels"] = [
            f"{settings['panels_dir']}/{name}.tsv" for name in settings["panels"].get(group, [])
        ]
        return inputs | self.rare_structural_inputs(group)

    def rare_structural_inputs(self, group: str) -> dict[str, str | list[str]]:
        """The SVs and CNVs a ranked group's candidates join: its members' SV and CNV
        deliverables, its joint delly calls, the gene models, and the germline SV/CNV
        deliverables of the batch's other groups (the SVs' batch frequency)."""
        members = [s for s, g in self.group_of.items() if g == group]
        sv_vcfs = [f for s in members for f in self.sv.deliverables(s)[:1]]
        cnv_vcfs = [paths.deliverable(s, ".cnv.vcf.gz") for s in members if s in self.cnv.samples]
        if not self.gff3 or not (sv_vcfs or cnv_vcfs):
            return {}
        germline_cnv = [s for s, r in self.cnv.samples.items() if r.type in ("germline", "normal")]
        others = [s for s in (*self.sv.group_of, *germline_cnv) if self.group_of.get(s) != group]
        batch = [f for s in dict.fromkeys(others) for f in self._structural_deliverables(s)]
        inputs: dict[str, str | list[str]] = {
            "sv_vcfs": sv_vcfs,
            "cnv_vcfs": cnv_vcfs,
            "batch_sv": batch,
            "gff3": self.gff3,
        }
        if sv_vcfs:
            inputs["sv_joint"] = paths.sv_calls(group)
        return inputs

    def _structural_deliverables(self, sample: str) -> list[str]:
        files = self.sv.deliverables(sample)[:1]
        if sample in self.cnv.samples:
            files.append(paths.deliverable(sample, ".cnv.vcf.gz"))
        return files

    def rare_options(
        self, group: str, settings: Mapping[str, Any], population_vcf: str, x_contig: str
    ) -> str:
        """Options of ``genomflow rare rank`` besides --vcf/--samples/--units/--out."""
        inputs = self.rare_inputs(group, settings, population_vcf)
        options = [f"--group {group}", f"--bs1-af {settings['bs1_af']}", f"--x-contig {x_contig}"]
        if "identity" in inputs:
            options.append(f"--identity-pairs {inputs['identity']}")
        if "population" in inputs:
            options.append(f"--population-vcf {inputs['population']}")
        options += [f"--panel {panel}" for panel in inputs["panels"]]
        flags = {"sv_vcfs": "--sv-vcf", "cnv_vcfs": "--cnv-vcf", "batch_sv": "--batch-sv"}
        for key, flag in flags.items():
            options += [f"{flag} {path}" for path in inputs.get(key, [])]
        for key, flag in (("sv_joint", "--sv-joint"), ("gff3", "--gff3")):
            if key in inputs:
                options.append(f"{flag} {inputs[key]}")
        return " ".join(options)

    # --- tumour biomarkers -------------------------------------------------------------------
    def tmb_tumours(self) -> list[str]:
        """Tumours that get a TMB: all of them when the run has gene models (GFF3)."""
        return list(self.cancer.tumours) if self.gff3 else []

    def msi_tumours(self) -> list[str]:
        """Tumours that get an MSI call: all of them."""
        return list(self.cancer.tumours)

    def biomarker_files(self, sample: str) -> list[str]:
        """A tumour's biomarker results (empty for other samples)."""
        files = [paths.tmb_json(sample)] if sample in self.tmb_tumours() else []
        if sample in self.msi_tumours():
            files.append(paths.msi_json(sample))
        return files

    def biomarker_tables(self) -> dict[str, list[str]]:
        """The inputs of the batch's biomarker table: TMB and MSI results."""
        return {
            "tmb": [paths.tmb_json(s) for s in self.tmb_tumours()],
            "msi": [paths.msi_json(s) for s in self.msi_tumours()],
        }

    def biomarker_multiqc_files(self) -> list[str]:
        return [paths.BIOMARKERS_MQC] if self.cancer.tumours else []

    def msi_inputs(self, sample: str) -> dict[str, str]:
        """A tumour's alignments, the microsatellites of its target set, and its matched
        normal's alignments or (tumour-only) the baseline of its target set's normals."""
        tumour = self.cancer.tumours[sample]
        aln = paths.alignment(sample, self.alignment_format)
        inputs = {
            "sites": paths.msi_sites(tumour.target_set),
            "aln": aln,
            "idx": paths.index_of(aln),
        }
        if tumour.normal:
            normal = paths.alignment(tumour.normal, self.alignment_format)
            inputs |= {"normal": normal, "normal_idx": paths.index_of(normal)}
        else:
            inputs["baseline"] = paths.msi_baseline(tumour.target_set)
        return inputs

    def msi_comparison(self, sample: str) -> str:
        """The options naming what a tumour is compared with (the files of :meth:`msi_inputs`).

        The matched normal's alignments, or the baseline of the normals of its target set."""
        tumour = self.cancer.tumours[sample]
        inputs = self.msi_inputs(sample)
        if tumour.normal:
            return f"--normal {tumour.normal} --normal-bam {inputs['normal']}"
        return f"--baseline {inputs['baseline']}"

    def msi_scan_regions(self, target_set: str) -> str:
        return self.cancer.pon_regions(target_set)

    def msi_baseline_normals(self, target_set: str) -> tuple[str, ...]:
        """The normals of a target set (its panel of normals) that make its MSI baseline."""
        return self.cancer.pon_normals[target_set]

    def msi_baseline_inputs(self, target_set: str) -> dict[str, list[str] | str]:
        normals = self.msi_baseline_normals(target_set)
        alns = [paths.alignment(s, self.alignment_format) for s in normals]
        return {
            "sites": paths.msi_sites(target_set),
            "alns": alns,
            "idxs": [paths.index_of(a) for a in alns],
        }

    def tmb_inputs(self, sample: str) -> dict[str, str]:
        """A tumour's somatic calls, alignments, gene models and (panel) targets."""
        if not self.gff3:
            raise ValueError("TMB needs reference.gff3")
        aln = paths.alignment(sample, self.alignment_format)
        inputs = {
            "vcf": paths.somatic_vcf(sample),
            "tbi": f"{paths.somatic_vcf(sample)}.tbi",
            "aln": aln,
            "idx": paths.index_of(aln),
            "gff3": self.gff3,
        }
        if sample in self.cancer.panel_of_sample:
            inputs["targets"] = self.cancer.panel_bed(sample)
        return inputs

    def tmb_options(self, sample: str, settings: Mapping[str, Any]) -> str:
        """Options of ``genomflow biomarkers tmb`` (``settings``: the config's ``tmb``) besides
        the files of :meth:`tmb_inputs`, which the rule passes itself.

        The hotspots VCF is named here (it is optional); panels and genomes differ in depth.
        """
        panel = sample in self.cancer.panel_of_sample
        depth = settings["min_depth_panel"] if panel else settings["min_depth_wgs"]
        options = [
            f"--min-depth {depth}",
            f"--min-vaf {settings['min_vaf']}",
            f"--max-population-af {settings['max_population_af']}",
        ]
        if panel:
            options.append(f"--targets {self.cancer.panel_bed(sample)}")
        if settings["include_synonymous"]:
            options.append("--include-synonymous")
        if settings["hotspots_vcf"]:
            options.append(f"--hotspots {settings['hotspots_vcf']}")
        return " ".join(options)

    # --- QC and MultiQC ------------------------------------------------------------------
    def deduplication_reports(self, sample: str) -> list[str]:
        """MultiQC inputs of a sample's deduplication: markdup stats or UMI consensus tables."""
        if not self.ctdna.is_umi(sample):
            return [paths.markdup_stats(sample)]
        return [
            paths.consensus_file(sample, ".families_mqc.json"),
            paths.consensus_file(sample, ".consensus_mqc.json"),
        ]

    def qc_extra_metrics(self, sample: str) -> list[str]:
        """Metrics JSON files ({metric: value}) other stages write for a sample."""
        extra = []
        if sample in self.cancer.panel_of_sample:
            extra.append(paths.coverage_file(sample, ".qc.json"))
        if self.ctdna.is_umi(sample):
            extra.append(paths.consensus_file(sample, ".qc.json"))
        if sample in self.cnv.samples:
            extra.append(paths.cnv_report(sample, ".qc.json"))
        return extra

    def qc_metrics_inputs(self, sample: str) -> dict[str, str | list[str]]:
        """What ``qc_metrics`` reads besides the sample's alignment and the reference (its own
        samtools stats and mosdepth run on them in the same job): duplicate-marking stats
        (none for UMI consensus), the units' fastp reports, the other stages' metrics, and the
        panel of panel samples (the sex check on off-target depth)."""
        inputs: dict[str, str | list[str]] = {
            "markdup": [] if self.ctdna.is_umi(sample) else paths.markdup_stats(sample),
            "fastp": [paths.fastp_json(sample, u.unit) for u in self.cohort.units_of(sample)],
            "extra": self.qc_extra_metrics(sample),
        }
        if sample in self.cancer.panel_of_sample:
            inputs["panel_bed"] = self.cancer.panel_bed(sample)
        return inputs

    def qc_status_inputs(self, samples_sheet: str, units_sheet: str) -> dict[str, str | list[str]]:
        inputs: dict[str, str | list[str]] = {
            "metrics": [paths.qc_metrics(s) for s in self.samples],
            "samples": samples_sheet,
            "units": units_sheet,
            "config": paths.RESOLVED_CONFIG,
        }
        if self.identity_sites:
            inputs["identity"] = paths.IDENTITY_CHECKS
        return inputs

    def qc_multiqc_files(self) -> list[str]:
        panels = [paths.PANEL_GENES_MQC] if self.cancer.panel_of_sample else []
        identity = paths.IDENTITY_MQC if self.identity_sites else ()
        return [*paths.QC_STATUS_MQC, *identity, *panels]

    def panel_coverage_tables(self) -> dict[str, str]:
        """Panel sample -> its per-gene coverage table, in sheet order."""
        return {
            s: paths.deliverable(s, ".coverage.tsv")
            for s in self.samples
            if s in self.cancer.panel_of_sample
        }

    def ctdna_multiqc_files(self) -> list[str]:
        return [paths.CTDNA_TIMELINE_MQC] if self.ctdna.plasma else []

    def multiqc_inputs(self) -> list[str]:
        """Every file the MultiQC report reads, units first, then sample by sample."""
        files = [paths.fastp_json(u.sample, u.unit) for u in self.cohort.units]
        for sample in self.samples:
            files += [
                paths.samtools_stats(sample),
                *self.deduplication_reports(sample),
                paths.mosdepth_dist(sample),
                paths.mosdepth_summary(sample),
            ]
        germline = [s.sample for s in self.cohort.samples.values() if s.type in GERMLINE_TYPES]
        files += [paths.bcftools_stats(s) for s in germline]
        files += self.qc_multiqc_files()
        files += [paths.coverage_file(s, ".panel_mqc.json") for s in self.cancer.panel_samples]
        files += [paths.cnv_report(s, ".cnv_mqc.png") for s in self.cnv.samples]
        files += [paths.SV_TABLE_MQC] if self.structural_vcfs() else []
        files += self.ctdna_multiqc_files()
        files += self.biomarker_multiqc_files()
        files += [paths.RARE_MQC] if self.rare_groups() else []
        files.append(paths.VERSIONS_MQC)
        return files

    def structural_vcfs(self) -> list[str]:
        """Every sample's SV and copy-number VCF deliverables (the MultiQC SV/CNV table)."""
        files = []
        for sample in self.samples:
            files += [f for f in self.sv.deliverables(sample) if f.endswith(".vcf.gz")]
            files += [f for f in self.cnv.deliverables(sample) if f.endswith(".vcf.gz")]
        return files

    # --- ctDNA monitoring ------------------------------------------------------------------
    def ctdna_results(self) -> list[str]:
        return [paths.deliverable(s, ".ctdna.json") for s in self.ctdna.plasma]

    def ctdna_monitor_inputs(self, sample: str, background: str | None) -> dict[str, str]:
        """The tumour's variants (with the index this run makes for them), the matched
        normal's germline calls when this run has them, and the background (ctdna.background)."""
        plan = self.ctdna.plasma[sample]
        inputs = {"variants": plan.variants}
        # This run's calls are indexed by the pipeline; a VCF from the config may not be.
        if plan.tumour_sample in self.cohort.samples:
            inputs["tbi"] = f"{plan.variants}.tbi"
        if plan.normal_vcf:
            inputs["normal"] = plan.normal_vcf
        if background:
            inputs["background"] = background
        return inputs

    def ctdna_monitor_options(self, sample: str, settings: Mapping[str, Any]) -> str:
        """The options of ``genomflow ctdna monitor`` for a plasma sample (``settings``: the
        config's ``ctdna`` section); the files are those of :meth:`ctdna_monitor_inputs`."""
        plan = self.ctdna.plasma[sample]
        options = [
            f"--min-base-quality {settings['min_base_quality']}",
            f"--min-mapping-quality {settings['min_mapping_quality']}",
            f"--min-informative {settings['min_informative']}",
            f"--alpha {settings['alpha']}",
            f"--seed {settings['seed']}",
        ]
        if plan.purity is not None:
            options.append(f"--purity {plan.purity}")
        inputs = self.ctdna_monitor_inputs(sample, settings["background"])
        if "normal" in inputs:
            options.append(f"--normal-vcf {inputs['normal']}")
        if "background" in inputs:
            options.append(f"--background {inputs['background']}")
        return " ".join(options)
