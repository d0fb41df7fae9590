"""The MQTT payload template: `${name}` replaced by the value of the variable `name`.

Pure: a template and a table of variables (name -> text, the table of
`emulator/device/faces/variables.py`, the same one /api/v1/variables shows) in, text out.

The rules (manual 4.1.1 and the newer template page; where both are silent, what a
firmware scanning for `${` ... `}` does, see docs/decisions.md):

- `${name}` with a known name becomes its value, as text: numbers the meter did not send
  are `null`, texts it did not send are empty (the variables table already says so).
- `${name}` with an unknown name stays verbatim, `${name}` and all.
- The first `}` after `${` closes the reference: `${a${b}}` names `a${b`, which is unknown,
  so it stays as it is (inner references are not expanded) and the last `}` is plain text.
- `$` not followed by `{` is plain text; a `${` that is never closed is plain text to the
  end of the template.
- Nothing else is special: no escapes, no whitespace trimming (`${ sys.id }` is unknown),
  and the output may be any text (JSON, CSV, a single number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

#: A reference: `${`, then everything up to the first `}`.
_REFERENCE: Final = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True, slots=True)
class Template:
    """A template split once into literal text and variable names, for rendering often.

    `parts` alternates text and names: text, name, text, name, ..., text."""

    source: str
    parts: tuple[str, ...]

    @classmethod
    def parse(cls, source: str) -> Template:
        return cls(source, tuple(_REFERENCE.split(source)))

    @property
    def names(self) -> tuple[str, ...]:
        """The names the template refers to, in order (repeats included)."""
        return self.parts[1::2]

    def render(self, values: Mapping[str, str]) -> str:
        out: list[str] = []
        for index, part in enumerate(self.parts):
            if index % 2 == 0:
                out.append(part)
                continue
            value = values.get(part)
            out.append("${" + part + "}" if value is None else value)
        return "".join(out)


def render(template: str, values: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """`template` with its references replaced (see the module's rules)."""
    table = values if isinstance(values, Mapping) else dict(values)
    return Template.parse(template).render(table)
