"""The cancer setup of a batch (genomflow.cancer) and the annotation input checks."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pysam
import pytest

from genomflow import annotate
from genomflow.cancer import GENOME, GENOME_REGIONS, CancerSetup, Tumour, annotation_chain, setup
from genomflow.config import resolve
from genomflow.errors import GenomflowError
from genomflow.sheets import Cohort, Sample

REPO = Path(__file__).resolve().parents[2]
FASTA = REPO / "resources/testgenome/genome.fa"
GFF3 = REPO / "resources/testgenome/genes.gff3"
PANELS = REPO / "resources/panels"


def sample(name: str, kind: str, panel: str | None = "gf-onco-v1", **extra: Any) -> Sample:
    return Sample(
        sample=name,
        patient=extra.pop("patient", f"P-{name}"),
        sex="female",
        type=kind,
        assay="panel" if panel else "wgs",
        panel=panel,
        collection_date=datetime.date(2026, 1, 1),
        **extra,
    )


def cohort(*samples: Sample) -> Cohort:
    return Cohort(
        {s.sample: s for s in samples}, (), {s.sample: i for i, s in enumerate(samples, 2)}
    )


def config(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"reference": {"fasta": str(FASTA)}}
    for key, value in overrides.items():
        base[key] = {**base.get(key, {}), **value}
    return resolve(base)


def run_setup(batch: Cohort, settings: dict[str, Any] | None = None) -> CancerSetup:
    return setup(
        batch, settings or config(), samples_sheet="samples.tsv", default_panels_dir=PANELS
    )


DEMO = cohort(
    sample("T1", "tumour", patient="A", matched_normal="N1", purity=0.8),
    sample("N1", "normal", patient="A"),
    sample("T2", "tumour", patient="B", purity=0.6),
    sample("N2", "normal", patient="C"),
    sample("G1", "germline", panel=None),
)


def test_demo_like_batch_plan() -> None:
    plan = run_setup(DEMO)
    assert plan.panel_samples == ("T1", "N1", "T2", "N2")
    assert plan.panel_bed("T1") == str(PANELS / "gf-onco-v1.bed")
    assert plan.pon_normals == {"gf-onco-v1": ("N1", "N2")}
    paired, alone = plan.tumours["T1"], plan.tumours["T2"]
    assert paired.bams == ["results/samples/T1/T1.bam", "results/samples/N1/N1.bam"]
    assert paired.mode == "paired" and alone.mode == "tumour_only"
    assert alone.pon == "results/somatic/genomflow_pon/gf-onco-v1.vcf.gz"
    assert alone.classify_args().startswith(
        "--tumour T2 --purity 0.6 --pon results/somatic/genomflow_pon/gf-onco-v1.vcf.gz --set "
    )
    # The panel's minimum evidence (somatic.panel) travels with the tumour's arguments.
    assert alone.assay == "panel" and alone.min_alt_reads == 5
    assert "--set min_alt_reads=5 " in alone.classify_args() + " "
    assert alone.classify_files() == {
        "regions": alone.regions,
        "pon": alone.pon,
        "pon_tbi": f"{alone.pon}.tbi",
    }
    assert plan.annotation == ()
    assert plan.annotated("germline", "FAM1") == "results/germline/germline_filter/FAM1.vcf.gz"


def test_wgs_tumour_calls_the_genome_and_needs_wgs_normals_when_alone() -> None:
    plan = run_setup(
        cohort(
            sample("T1", "tumour", panel=None, patient="A", matched_normal="N1"),
            sample("N1", "normal", panel=None, patient="A"),
        )
    )
    assert plan.tumours["T1"].target_set == GENOME
    assert plan.tumours["T1"].regions == GENOME_REGIONS
    # Whole genomes: the model decides from two alt reads (somatic.wgs).
    assert plan.tumours["T1"].assay == "wgs" and plan.tumours["T1"].min_alt_reads == 2
    assert "--set min_alt_reads=2 " in plan.tumours["T1"].classify_args() + " "
    assert plan.tumours["T1"].pon is None  # one normal is not a panel of normals
    assert plan.pon_regions(GENOME) == GENOME_REGIONS
    with pytest.raises(GenomflowError, match="needs a panel of normals: at least 2 normal"):
        run_setup(cohort(sample("T1", "tumour", panel=None)))


def test_tumour_only_without_enough_normals_names_the_line() -> None:
    batch = cohort(sample("T2", "tumour"), sample("N2", "normal"))
    with pytest.raises(GenomflowError) as caught:
        run_setup(batch)
    message = str(caught.value)
    assert message.startswith("samples.tsv line 2: tumour-only sample 'T2' (panel gf-onco-v1)")
    assert "found 1 (N2)" in message
    fewer = config(somatic={"pon_min_normals": 1})
    assert run_setup(batch, fewer).tumours["T2"].pon is not None


def test_unknown_panel_names_the_line_column_and_the_panels_there(tmp_path: Path) -> None:
    batch = cohort(sample("G1", "germline"), sample("T9", "tumour", panel="no-such-panel"))
    with pytest.raises(GenomflowError) as caught:
        run_setup(batch)
    message = str(caught.value)
    assert message.startswith("samples.tsv line 3, column 'panel': panel 'no-such-panel'")
    assert "no-such-panel.bed does not exist (panels in" in message and "gf-onco-v1" in message
    with pytest.raises(GenomflowError, match="'genome' is reserved"):
        run_setup(cohort(sample("G1", "germline", panel="genome")))


def test_panel_off_the_reference_names_the_bed_and_line(tmp_path: Path) -> None:
    (tmp_path / "mine.bed").write_text("chr1\t100\t200\tGA:exon1\nchr2\t109950\t110050\tGB:exon1\n")
    settings = config(panels={"dir": str(tmp_path)})
    with pytest.raises(GenomflowError) as caught:
        run_setup(cohort(sample("G1", "germline", panel="mine")), settings)
    assert str(caught.value) == (
        f"{tmp_path / 'mine.bed'} line 2: chr2:109950-110050 ends past the end of chr2 (110000 bp)"
    )


# --- annotation ---------------------------------------------------------------------------------


def test_annotation_steps_and_chain() -> None:
    assert annotate.steps("g.gff3", "c.vcf.gz") == ("csq", "clinvar")
    assert annotate.steps("", "c.vcf.gz") == ("clinvar",)
    assert annotation_chain("germline", "FAM1", ("csq", "clinvar")) == [
        "results/germline/germline_filter/FAM1.vcf.gz",
        "results/annotate/snpeff_ann_germline/FAM1.vcf.gz",
        "results/annotate/bcftools_annotate_germline/FAM1.vcf.gz",
    ]
    plan = CancerSetup(annotation=("csq", "clinvar"))
    assert plan.annotation_input("somatic", "clinvar", "T1").endswith(
        "snpeff_ann_somatic/T1.vcf.gz"
    )
    assert plan.annotated("somatic", "T1").endswith("bcftools_annotate_somatic/T1.vcf.gz")
    with pytest.raises(ValueError, match="unknown kind"):
        annotation_chain("plasma", "P1", ())


def test_shipped_gff3_matches_the_test_genome() -> None:
    plan = run_setup(DEMO, config(reference={"gff3": str(GFF3)}))
    assert plan.annotation == ("csq",)


def test_gff3_on_other_contigs_names_file_and_line(tmp_path: Path) -> None:
    lines = GFF3.read_text().splitlines()
    lines[8] = lines[8].replace("chr1", "1", 1)
    gff3 = tmp_path / "genes.gff3"
    gff3.write_text("\n".join(lines) + "\n")
    with pytest.raises(GenomflowError) as caught:
        run_setup(DEMO, config(reference={"gff3": str(gff3)}))
    assert str(caught.value).startswith(f"{gff3} line 9: contig '1' is not in the reference")
    region = tmp_path / "region.gff3"
    region.write_text("##gff-version 3\n##sequence-region chrZ 1 100\n")
    with pytest.raises(GenomflowError, match="line 2: sequence-region 'chrZ'"):
        annotate.check_gff3(region, {"chr1": 10})
    empty = tmp_path / "empty.gff3"
    empty.write_text("##gff-version 3\n")
    with pytest.raises(GenomflowError, match="no gene or transcript features"):
        annotate.check_gff3(empty, {"chr1": 10})
    short = tmp_path / "short.gff3"
    short.write_text("chr1\tx\tgene\t1\t5\n")
    with pytest.raises(GenomflowError, match="line 1: expected 9 tab-separated GFF3 columns"):
        annotate.check_gff3(short, {"chr1": 10})


def test_gff3_without_cds_stops_the_run_before_any_job(tmp_path: Path) -> None:
    """Issue 17, bad input: transcripts without CDS leave nothing to put c./p. HGVS on."""
    no_cds = tmp_path / "no_cds.gff3"
    no_cds.write_text(
        "".join(line + "\n" for line in GFF3.read_text().splitlines() if "\tCDS\t" not in line)
    )
    with pytest.raises(GenomflowError) as caught:
        run_setup(DEMO, config(reference={"gff3": str(no_cds)}))
    assert str(caught.value) == (
        f"{no_cds}: no CDS features: no transcript is coding, so there is no c./p. HGVS to "
        "annotate (a gene GFF3 for annotation needs CDS rows under its transcripts)"
    )


def test_optional_vcfs_must_be_indexed_and_have_their_fields(tmp_path: Path) -> None:
    plain = tmp_path / "clinvar.vcf.gz"
    header = pysam.VariantHeader()
    header.contigs.add("chr1", length=100)
    header.add_line('##INFO=<ID=CLNSIG,Number=.,Type=String,Description="x">')
    with pysam.VariantFile(str(plain), "wz", header=header):
        pass
    with pytest.raises(GenomflowError, match="has no index"):
        annotate.check_indexed_vcf(plain, "ClinVar-style VCF")
    pysam.tabix_index(str(plain), preset="vcf", force=True)
    annotate.check_indexed_vcf(plain, "ClinVar-style VCF", ["CLNSIG"])
    with pytest.raises(GenomflowError, match="no INFO field 'CLNDN'"):
        annotate.check_indexed_vcf(plain, "ClinVar-style VCF", ["CLNSIG", "CLNDN"])
    with pytest.raises(GenomflowError, match="population VCF not found"):
        run_setup(DEMO, config(somatic={"population_vcf": str(tmp_path / "none.vcf.gz")}))
    settings = config(annotation={"clinvar_vcf": str(plain), "clinvar_fields": ["CLNSIG"]})
    assert run_setup(DEMO, settings).annotation == ("clinvar",)


def test_tumour_args_quote_paths() -> None:
    tumour = Tumour("T 1", None, "p", "p.bed", population="/data/pop ulation.vcf.gz")
    assert tumour.classify_args() == "--tumour 'T 1' --population '/data/pop ulation.vcf.gz'"
