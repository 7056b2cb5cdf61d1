"""Configuration as code: the whole configuration as one YAML document, exported and applied.

document.py    the document's pydantic models, its JSON Schema, what it must say across
               sections (names declared once, rules naming what the file declares)
problems.py    a problem: where in the document (`loc`) and what is wrong
lines.py       where in the file a `loc` is (line and column), read from PyYAML's nodes
references.py  the secrets a document names (`key_env`, `key_file`), read where the
               operator runs the CLI
export.py      the configuration stored now, as a document, and as commented YAML
plan.py        what applying a document would create, change and remove, field by field
apply.py       the plan carried out through `rbtk.admin`, in the caller's transaction
"""
