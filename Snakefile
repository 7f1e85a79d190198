# genomflow: FASTQ to validated clinical deliverables.
# Run: snakemake --cores 2 --configfile config/config.yaml   (see README.md)
from snakemake.utils import min_version

min_version("9.0")


include: "workflow/rules/common.smk"
include: "workflow/rules/reference.smk"
include: "workflow/rules/qc.smk"
include: "workflow/rules/align.smk"
include: "workflow/rules/ctdna.smk"
include: "workflow/rules/germline.smk"
include: "workflow/rules/somatic.smk"
include: "workflow/rules/coverage.smk"
include: "workflow/rules/cnv.smk"
include: "workflow/rules/sv.smk"
include: "workflow/rules/annotate.smk"
include: "workflow/rules/biomarkers.smk"
include: "workflow/rules/rare.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        PLAN.all_outputs(),
