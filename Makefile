# genomflow: the two commands of the README, and what they stand on.
#   make demo   install what is needed, run the pipeline on the shipped test genome
#   make test   install what is needed, run every gate and test, as CI does
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
CORES ?= 2

# Debian packages of the tools (bioconda users: environment.yml lists the same versions).
APT_PACKAGES := bwa samtools bcftools tabix libhts-dev fastp freebayes mosdepth \
	python3-venv python3-dev g++ postgresql chromium fonts-dejavu-core slurm-wlm munge \
	art-nextgen-simulation-tools r-bioc-dnacopy snpeff default-jre-headless delly

.PHONY: help setup tools venv demo test check pytest clean bench-e2e bench-load bench-somatic bench-rare

help:
	@echo "make demo    run the pipeline on the shipped test genome (installs what it needs)"
	@echo "make test    run all gates and tests, as CI does (installs what it needs)"
	@echo "make setup   only install: Debian tool packages and the virtualenv at $(VENV)"

setup: tools venv

tools:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		apt-get update -qq -o DPkg::Lock::Timeout=600; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
			--no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-umi.txt \
		requirements-hgvs.txt pyproject.toml setup.py workflow/genomflow/ctdna/_snvcount.pyx
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	# umi-tools is an sdist whose isolated build downloads an old setuptools: build it here.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-build-isolation \
		-r requirements-umi.txt
	# hgvs wants psycopg2 (a source build) and IPython for its UTA mapping; its parser needs neither.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-hgvs.txt
	# genomflow itself; its build (setup.py) compiles one Cython module with gcc/g++.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

demo: setup
	snakemake --cores $(CORES) --profile profiles/local --configfile config/config.yaml
	@echo
	@echo "MultiQC report: $(CURDIR)/results/qc/multiqc_report.html"
	@echo "Deliverables:   $(CURDIR)/results/samples/<sample>/"
	@echo "Tool versions:  $(CURDIR)/results/versions.yml"
	@echo "Sample reports: $(CURDIR)/results/samples/<sample>/<sample>.report.json (+ .fhir.json)"
	@echo "Knowledge database (loaded by the pipeline): $(CURDIR)/results/genomflow.sqlite"
	@echo
	@echo "$$ genomflow kb variant chr1:515:T:G --db sqlite:///results/genomflow.sqlite"
	@genomflow kb variant chr1:515:T:G --db sqlite:///results/genomflow.sqlite
	@echo
	@echo "$$ genomflow kb patient PAT-0001 --db sqlite:///results/genomflow.sqlite"
	@genomflow kb patient PAT-0001 --db sqlite:///results/genomflow.sqlite
	@echo
	@echo "Copy number: CA002T's planted GFB2 amplification and GFD4 deletion (results/samples/CA002T/CA002T.cnv.*)"
	@echo "$$ genomflow kb region chr1:96965-104037 --db sqlite:///results/genomflow.sqlite --sample-level"
	@genomflow kb region chr1:96965-104037 --db sqlite:///results/genomflow.sqlite --sample-level
	@echo "$$ genomflow kb region chr1:96965-104037 --db sqlite:///results/genomflow.sqlite"
	@genomflow kb region chr1:96965-104037 --db sqlite:///results/genomflow.sqlite
	@echo
	@echo "ctDNA timeline of the plasma samples: $(CURDIR)/results/ctdna/timeline.tsv"
	@echo "$$ genomflow kb patient PAT-0101 --db sqlite:///results/genomflow.sqlite"
	@genomflow kb patient PAT-0101 --db sqlite:///results/genomflow.sqlite
	@echo
	@echo "National platform (docs/platform.md): consent, trial matching, a Beacon v2 query"
	genomflow kb consent --db sqlite:///results/genomflow.sqlite --file config/consent.tsv
	genomflow kb match --db sqlite:///results/genomflow.sqlite --trials config/trials.yaml --out results/trials
	@port=$$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	genomflow kb serve --db sqlite:///results/genomflow.sqlite --port $$port & pid=$$!; \
	trap 'kill $$pid' EXIT; \
	query="http://127.0.0.1:$$port/api/g_variants?referenceName=chr1&start=129983&referenceBases=G&alternateBases=A&requestedGranularity=count"; \
	echo "$$ GET $$query"; \
	python -c 'import sys, time, httpx; exec("for _ in range(100):\n try:\n  print(httpx.get(sys.argv[1]).text); break\n except httpx.TransportError:\n  time.sleep(0.2)")' "$$query"

check: setup
	snakefmt --check Snakefile workflow/rules
	ruff format --check .
	ruff check .
	snakemake --lint --configfile config/config.yaml
	mypy

pytest: setup
	python -m pytest

test: check pytest

clean:
	rm -rf results logs benchmarks .snakemake

bench-e2e: setup
	python bench/e2e_overhead/run --cores $(CORES)

bench-load: setup
	python bench/load/run
	python bench/load/lookup

bench-somatic: setup
	python bench/somatic/run --cores $(CORES)

bench-rare: setup
	python bench/rare_disease/run
