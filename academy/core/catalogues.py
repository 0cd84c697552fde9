"""Translation catalogues: one per feature package plus the shared one.

`python -m academy.core.catalogues DIR` creates or updates DIR/th/LC_MESSAGES/messages.po from
DIR/messages.pot (run by `make translations`). `missing_translations()` lists every string in
the code that has no Thai translation yet; a test keeps that list empty.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
# N_: a message marked where it is raised and translated where it is shown (sync/problems.py).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
}
METHOD_MAP = [("**.py", "python"), ("**.html", "jinja2")]
LANGUAGE = "th"


def feature_packages() -> list[str]:
    """Every feature package: a package under academy/ other than core (read from the folder,
    so neither this module nor the Makefile keeps a second list)."""
    return sorted(
        p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name != "core"
    )


def catalogue_sources() -> dict[Path, list[Path]]:
    """Catalogue folder -> the source folders or files whose strings it holds."""
    shared = [ROOT / "core", ROOT / "templates", ROOT / "demo.py"]
    sources = {ROOT / "translations": shared}
    for name in feature_packages():
        sources[ROOT / name / "translations"] = [ROOT / name]
    return sources


def extract(paths: list[Path]) -> Catalog:
    catalog = Catalog(locale=None)
    for path in paths:
        if path.is_file():
            parent, only = path.parent, path.name
        else:
            parent, only = path, None
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(parent), METHOD_MAP, keywords=KEYWORDS
        ):
            if only and filename != only:
                continue
            if only is None or filename == only:
                catalog.add(message, None, [(filename, lineno)])
    return catalog


def po_path(directory: Path) -> Path:
    return directory / LANGUAGE / "LC_MESSAGES" / "messages.po"


def missing_translations() -> dict[str, list[str]]:
    missing: dict[str, list[str]] = {}
    for directory, paths in catalogue_sources().items():
        wanted = extract(paths)
        po = po_path(directory)
        have = {}
        if po.exists():
            with po.open("rb") as handle:
                have = {m.id: m for m in read_po(handle) if m.id}
        gaps = []
        for message in wanted:
            if not message.id:
                continue
            found = have.get(message.id)
            if found is None or found.fuzzy or not _translated(found.string):
                gaps.append(message.id if isinstance(message.id, str) else message.id[0])
        if gaps:
            missing[str(directory.relative_to(ROOT.parent))] = gaps
    return missing


def _translated(string) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


def update(directory: Path) -> None:
    """Merge the freshly extracted strings into the Thai .po, keeping existing translations
    and dropping strings the code no longer has."""
    sources = catalogue_sources()[directory.resolve()]
    template = extract(sources)
    po = po_path(directory)
    if po.exists():
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=LANGUAGE)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
    else:
        catalog = Catalog(locale=LANGUAGE, project="Academy")
        for message in template:
            if message.id:
                catalog.add(message.id, None, message.locations)
    po.parent.mkdir(parents=True, exist_ok=True)
    with po.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, sort_output=True, no_location=True, width=0)
    pot = directory / "messages.pot"
    if pot.exists():
        pot.unlink()


if __name__ == "__main__":
    # No arguments: every catalogue (what `make translations` runs).
    for arg in sys.argv[1:] or [str(d) for d in catalogue_sources()]:
        update(Path(arg).resolve())
