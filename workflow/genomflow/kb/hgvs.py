"""HGVS as the knowledge database is asked for it: ``GENE:c.…`` and ``GENE:p.…``.

Parsing is the biocommons ``hgvs`` parser's (offline: no transcript database is needed to
read a description). A description is brought to one written form before it is compared
with the stored ones (report schema 1.2.0: ``hgvs_c`` like ``c.145C>T``, ``hgvs_p`` like
``p.(Arg49Ter)``): protein changes in three-letter amino acids with ``Ter`` for a stop, so
``p.R49*``, ``p.Arg49Ter`` and ``p.(Arg49Ter)`` are one change, and a frameshift without its
new stop is written short (``p.(Lys79fs)``, as annotators write it). ``X`` is read as HGVS
reads it today: any amino acid (``Xaa``), not a stop (write ``*`` or ``Ter``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from genomflow.errors import GenomflowError

#: ``GENE:c.…``, ``GENE:n.…`` or ``GENE:p.…`` (the gene symbol as the annotation names it).
_GENE_HGVS = re.compile(r"(?P<gene>[A-Za-z0-9][A-Za-z0-9._-]*):(?P<kind>[cnp])\.(?P<change>\S+)")


#: A frameshift whose new stop is not given (the parser writes ``fsTer``).
_SHORT_FRAMESHIFT = re.compile(r"fsTer$")


@dataclass(frozen=True)
class HgvsQuery:
    """A variant asked for by gene and HGVS: ``kind`` is ``c`` (or ``n``) or ``p``, and
    ``forms`` the stored spellings that mean it."""

    gene: str
    kind: str
    forms: tuple[str, ...]


@cache
def _parser() -> Any:
    from hgvs.parser import Parser

    return Parser()


def _parse(rule: str, text: str, shown: str) -> Any:
    try:
        return getattr(_parser(), f"parse_{rule}")(text)
    except Exception as err:  # the parser raises its own HGVSParseError (or a grammar error)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise GenomflowError(f"{shown!r}: not a valid HGVS description ({first})") from None


@cache
def protein_change(text: str, shown: str | None = None) -> str:
    """A protein change in one written form: three-letter amino acids, ``Ter`` for a stop,
    without ``p.`` and the parentheses of a prediction.

    >>> protein_change("V600E"), protein_change("p.(Val600Glu)"), protein_change("p.R49*")
    ('Val600Glu', 'Val600Glu', 'Arg49Ter')
    >>> protein_change("p.Lys79fs"), protein_change("K79fs*"), protein_change("K79Rfs*5")
    ('Lys79fs', 'Lys79fs', 'Lys79ArgfsTer5')
    >>> protein_change("(Gly12_Gly13delinsVal)")
    'Gly12_Gly13delinsVal'
    >>> protein_change("p.?")
    Traceback (most recent call last):
    genomflow.errors.GenomflowError: 'p.?': no definite protein change to compare
    >>> protein_change("p.V600")
    Traceback (most recent call last):
    genomflow.errors.GenomflowError: 'p.V600': not a valid HGVS description (V600: char 5: end\
    of input)
    """
    change = text.strip().removeprefix("p.")
    while change.startswith("(") and change.endswith(")"):
        change = change[1:-1]
    posedit = _parse("p_posedit", change, shown or text)
    if posedit is None:  # p.? (unknown, e.g. at a splice site): nothing to compare
        raise GenomflowError(f"{shown or text!r}: no definite protein change to compare")
    posedit.uncertain = False
    written = str(posedit.format({"p_3_letter": True, "p_term_asterisk": False}))
    return _SHORT_FRAMESHIFT.sub("fs", written)


def coding_change(text: str, shown: str | None = None) -> str:
    """A c. (or n.) change as the parser writes it back, without the prefix.

    >>> coding_change("145C>T"), coding_change("c.236_237delinsa"), coding_change("c.145c>t")
    ('145C>T', '236_237delinsA', '145C>T')
    """
    change = re.sub(r"^[cn]\.", "", text.strip())
    posedit = _parse("c_posedit", change, shown or text)
    for bases in ("ref", "alt"):  # nucleotides in upper case, as stored
        value = getattr(posedit.edit, bases, None)
        if isinstance(value, str):
            setattr(posedit.edit, bases, value.upper())
    return str(posedit)


def parse_hgvs_query(spec: str) -> HgvsQuery | None:
    """``GENE:c.…`` or ``GENE:p.…`` as a query; None when ``spec`` has no such form (then it
    is another kind of variant); a malformed description is a :class:`GenomflowError`.

    >>> parse_hgvs_query("GFB2:p.R49*")
    HgvsQuery(gene='GFB2', kind='p', forms=('p.(Arg49Ter)', 'p.Arg49Ter'))
    >>> parse_hgvs_query("GFB2:c.145C>T")
    HgvsQuery(gene='GFB2', kind='c', forms=('c.145C>T',))
    >>> parse_hgvs_query("chr1:515:T:G") is None
    True
    """
    match = _GENE_HGVS.fullmatch(spec.strip())
    if match is None:
        return None
    gene, kind, change = match["gene"], match["kind"], match["change"]
    if kind == "p":
        canonical = protein_change(change, spec)
        return HgvsQuery(gene, "p", (f"p.({canonical})", f"p.{canonical}"))
    return HgvsQuery(gene, "c", (f"{kind}.{coding_change(change, spec)}",))
